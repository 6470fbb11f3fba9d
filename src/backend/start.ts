/**
 * How the backend starts: the plan of binaries to try (threaded SIMD -> SIMD -> plain), one
 * binary's start (module, tfjs backend, pools, calibration, watchdog, our kernels), and the
 * record of a running backend that `wasm.ts` owns.
 *
 * With `threads: "auto"` (and no start-up calibration asked for), the threaded binary starts on
 * one thread with no worker at all: no pthread worker, no kernel worker, no calibration. The
 * workers start after the first inference ({@linkcode grow}), so a cold start that classifies
 * one image never waits for a worker (creating one blocks the calling thread for tens of
 * milliseconds while Deno sets up its isolate), and the watchdog then decides between 1 thread
 * and the pool from real inference times.
 *
 * @module
 */
import * as tf from "../vendor/tfjs.js";
import { BackendWasm, setThreadsCount } from "../vendor/tfjs.js";
import { calibrate, type Calibration } from "./calibrate.ts";
import { ThreadController, type ThreadsChange } from "./watchdog.ts";
import { MAX_THREADS, type ResolvedOptions, SIMD_ENV, THREADS_ENV } from "./flags.ts";
import {
  type LoadedModule,
  loadModule,
  PLAIN,
  SIMD,
  THREADED_SIMD,
  type WasmBinary,
} from "./emscripten_module.ts";
import { logicalCores, probeSimd, probeThreads } from "./probe.ts";
import { errorMessage as message, mark } from "../_util.ts";
import { type GrowResult, ThreadPools } from "./pools.ts";
import { installKernels, type PointwiseKernels } from "./pointwise/install.ts";

/** What the backend runs on, and why. */
export interface BackendInfo {
  /** The WASM binary in use. */
  binary: WasmBinary;
  /** Whether the binary uses WASM SIMD. */
  simd: boolean;
  /** Number of threads that compute one inference now (1 = no worker is used). */
  threads: number;
  /** Why this binary and thread count were chosen (probe results, forced options, failures). */
  reason: string;
  /** Threads the pool can use (1 for the single-thread binaries). */
  maxThreads: number;
  /** Whether the watchdog may change `threads` (see `reportInferenceTime`). */
  adaptive: boolean;
  /** The start-up calibration, when it ran. */
  calibration?: Calibration;
  /** Milliseconds from the `initBackend` call to a ready backend (calibration included). */
  startupMs: number;
  /** Which kernels run the 1x1 and depthwise 3x3 convolutions: ours (two builds) or XNNPACK's. */
  kernels?: "relaxed-simd" | "simd-muladd" | "xnnpack";
  /**
   * The int8 kernels of `precision: "int8"`: relaxed SIMD's dot product, plain SIMD's 16-bit one,
   * or none (int8 models run float32), and why (`reason` repeats it).
   */
  int8?: { kernels: "relaxed-dot" | "simd-dot16" | "none"; reason: string };
  /**
   * Whether the WASM memory was advised to use transparent huge pages (Linux, with
   * `--allow-ffi`: fewer, cheaper page faults on a cold start), or why not.
   */
  hugePages: string;
}

/**
 * The pool's deferred start (threads "auto"): `waiting` for the first inference, `scheduled`
 * after it, `growing` while the workers start, `done` when they are in (or failed: the reason
 * says so).
 */
export interface Growth {
  state: "waiting" | "scheduled" | "growing" | "done";
  /** The timer of a scheduled growth. */
  timer?: ReturnType<typeof setTimeout>;
  /** Settles when the growth has ended (never rejects). */
  done?: Promise<void>;
}

/** A lease on the running backend: a model (or a load in progress) that uses it. */
export interface LeaseEntry {
  /** Ends the model's use: disposes it (or aborts its load). Called by `shutdownBackend`. */
  revoke(): Promise<void>;
}

/**
 * The one record of a running backend: the module and its pthread bridge (`loaded`), tfjs'
 * backend, the pools and the watchdog, our kernels, the deferred growth, and the leases of the
 * models that use it. `wasm.ts` holds it from the end of a start to the beginning of the stop.
 */
export interface Running {
  info: BackendInfo;
  loaded: LoadedModule;
  pools?: ThreadPools;
  controller?: ThreadController;
  baseReason: string;
  kernels?: PointwiseKernels;
  growth?: Growth;
  /** The leases held now. */
  readonly leases: Set<LeaseEntry>;
  /** Called on every change of the thread count. */
  onChange: (change: ThreadsChange) => void;
}

/** tfjs' priority of the WASM backend. */
const WASM_PRIORITY = 2;

interface Attempt {
  binary: WasmBinary;
  threads: number;
}

function threadsOrigin(options: ResolvedOptions): string {
  if (options.threadsSource === "option") return `threads: ${options.threads}`;
  if (options.threadsSource === "env") return `${THREADS_ENV}=${options.threads}`;
  return "threads: auto";
}

/** Plans the binaries to try, best first, and the notes that explain the plan. */
function plan(options: ResolvedOptions): { attempts: Attempt[]; notes: string[] } {
  const notes: string[] = [];
  const attempts: Attempt[] = [];
  const cores = logicalCores();
  const wanted = options.threads === "auto" ? Math.min(cores, MAX_THREADS) : options.threads;
  let simd = false;
  if (!options.simd) {
    notes.push(`SIMD off (${options.simdSource === "option" ? "simd: false" : `${SIMD_ENV}=0`})`);
  } else {
    const probe = probeSimd();
    simd = probe.ok;
    if (!probe.ok) notes.push(`SIMD probe failed: ${probe.detail}`);
  }
  const origin = threadsOrigin(options);
  if (simd && wanted > 1) {
    const probe = probeThreads();
    const size = options.threads === "auto" ? `, ${cores} logical cores` : "";
    if (probe.ok) {
      notes.push(`${origin}${size}: threaded SIMD with ${wanted} threads`);
      attempts.push({ binary: THREADED_SIMD, threads: wanted });
    } else {
      notes.push(
        `${origin}${size}: threads probe failed (${probe.detail}): single thread, no workers`,
      );
    }
  } else if (wanted === 1) {
    const why = options.threads === "auto" ? `${origin}, 1 logical core` : origin;
    notes.push(`${why}: single thread, no workers`);
  } else if (!simd) {
    notes.push(`${origin} ignored: the threaded binary needs SIMD`);
  }
  if (simd) attempts.push({ binary: SIMD, threads: 1 });
  attempts.push({ binary: PLAIN, threads: 1 });
  return { attempts, notes };
}

/**
 * Starts the best binary that starts, falling back down the plan.
 *
 * @throws {Error} when not even the plain binary starts.
 */
export async function start(
  options: ResolvedOptions,
  onChange: (current: Running, change: ThreadsChange) => void,
): Promise<Running> {
  const t0 = performance.now();
  mark("backend:start");
  const { attempts, notes } = plan(options);
  for (const attempt of attempts) {
    try {
      return await startBinary(attempt, options, notes, t0, onChange);
    } catch (error) {
      const next = attempts[attempts.indexOf(attempt) + 1];
      notes.push(
        `${attempt.binary} failed (${message(error)})${
          next ? `, falling back to ${next.binary}` : ""
        }`,
      );
    }
  }
  throw new Error(`the tfjs WASM backend failed to start: ${notes.join("; ")}`);
}

function register(backend: BackendWasm): void {
  if (tf.findBackendFactory("wasm")) tf.removeBackend("wasm");
  tf.registerBackend("wasm", () => backend, WASM_PRIORITY);
}

/** Whether a threaded start of `threads` defers its workers until after the first inference. */
function defers(options: ResolvedOptions, threads: number): boolean {
  return threads > 1 && options.threads === "auto" && options.adaptive && !options.calibrate;
}

/**
 * Starts one binary: loads its module, makes it tfjs' backend and, when threaded, sets up its
 * pools (or defers them). On failure, everything it started is undone before it rethrows.
 */
async function startBinary(
  attempt: Attempt,
  options: ResolvedOptions,
  notes: string[],
  t0: number,
  onChange: (current: Running, change: ThreadsChange) => void,
): Promise<Running> {
  const { binary, threads } = attempt;
  const deferred = defers(options, threads);
  const loaded = await loadModule({
    binary,
    maxThreads: threads,
    eager: deferred ? 0 : threads - 1,
    timeoutMs: options.startTimeoutMs,
  });
  let registered = false;
  try {
    const backend = await createBackend(loaded, deferred ? 1 : threads);
    mark("backend:created");
    register(backend);
    registered = true;
    if (!(await tf.setBackend("wasm"))) throw new Error("tf.setBackend('wasm') returned false");
    const info: BackendInfo = {
      binary,
      simd: binary !== PLAIN,
      threads: deferred ? 1 : threads,
      reason: "",
      maxThreads: loaded.maxThreads,
      adaptive: false,
      startupMs: 0,
      hugePages: loaded.hugePages,
    };
    const current: Running = {
      info,
      loaded,
      baseReason: "",
      leases: new Set(),
      onChange: (change) => onChange(current, change),
    };
    const reason = [...notes];
    if (deferred) {
      current.pools = new ThreadPools(loaded);
      current.growth = { state: "waiting" };
      info.adaptive = true;
      reason.push("1 thread until the first inference, then the pool and the watchdog");
    } else if (threads > 1) await setUpPools(current, options, reason);
    mark("backend:pools");
    // never throws
    current.kernels = await installKernels(backend, loaded, options.kernels, deferred);
    info.kernels = current.kernels.kernels;
    info.int8 = { kernels: current.kernels.int8, reason: current.kernels.int8Reason };
    mark("backend:kernels");
    reason.push(current.kernels.reason);
    current.baseReason = reason.join("; ");
    info.reason = current.baseReason;
    info.startupMs = performance.now() - t0;
    return current;
  } catch (error) {
    if (registered && tf.findBackendFactory("wasm")) {
      try {
        tf.removeBackend("wasm");
      } catch { /* the backend is being dropped anyway */ }
    }
    await loaded.bridge?.terminate();
    throw error;
  }
}

/** tfjs' backend over a loaded module, with XNNPACK's pool at `threads` threads. */
async function createBackend(loaded: LoadedModule, threads: number): Promise<BackendWasm> {
  if (loaded.bridge && loaded.pthreads) await loaded.bridge.prepare(loaded.pthreads, threads - 1);
  setThreadsCount(threads);
  const backend = new BackendWasm(loaded.module);
  const got = loaded.exports.get_threads_count();
  if (got !== threads) throw new Error(`XNNPACK got ${got} threads, not ${threads}`);
  return backend;
}

/**
 * The pools of a threaded start: the switch between pool sizes, then (as the options ask) the
 * start-up calibration and the watchdog. Notes what it did, or why not, in `reason`.
 */
async function setUpPools(
  current: Running,
  options: ResolvedOptions,
  reason: string[],
): Promise<void> {
  const threads = current.info.threads;
  const pools = new ThreadPools(current.loaded);
  current.pools = pools;
  if (options.adaptive || options.calibrate) {
    await pools.use(1); // creates the 1-thread pool and locates the pool pointer
    if (pools.located) {
      pools.useExisting(threads);
    } else if (await pools.use(threads)) {
      reason.push("pool pointer not found: watchdog and calibration off");
    } else {
      reason.push("pool pointer not found and no idle pthread slot left: 1 thread");
    }
  }
  if (options.calibrate && pools.located) runCalibration(current.info, pools, reason);
  if (options.adaptive && pools.located) startWatchdog(current, pools, reason);
  current.info.threads = pools.active;
}

/** Runs the start-up calibration, records it in `info` and notes its times in `reason`. */
function runCalibration(info: BackendInfo, pools: ThreadPools, reason: string[]): void {
  const threads = info.threads;
  try {
    const c = calibrate(pools, threads);
    info.calibration = c;
    reason.push(
      `calibration: ${threads} threads ${c.threadedMs.toFixed(2)} ms, 1 thread ${
        c.singleMs.toFixed(2)
      } ms -> ${c.chosen}`,
    );
  } catch (error) {
    pools.useExisting(threads);
    reason.push(`calibration failed (${message(error)})`);
  }
}

/** Starts the watchdog over `pools` and marks the backend adaptive. */
function startWatchdog(current: Running, pools: ThreadPools, reason: string[]): void {
  const { info } = current;
  info.adaptive = true;
  // A clear calibration (one side 30% faster) makes the first probe wait a full period;
  // otherwise the watchdog checks the other count on the third inference.
  const c = info.calibration;
  const clear = c !== undefined &&
    (c.threadedMs < c.singleMs * 0.7 || c.threadedMs > c.singleMs * 1.3);
  current.controller = new ThreadController(pools, {
    high: pools.maxThreads,
    firstProbe: clear ? 32 : 3,
    onChange: current.onChange,
  });
  reason.push("watchdog on");
}

/**
 * Starts the workers of a deferred backend (ours, then XNNPACK's pool) and, once they are in,
 * makes the pool active and starts the watchdog. `isCurrent` tells whether the backend still
 * runs (a stop may come at any await). Never rejects: a failure is noted in the reason and the
 * backend stays on 1 thread.
 */
export function grow(current: Running, isCurrent: () => boolean): Promise<void> {
  const growth = current.growth!;
  if (growth.done) return growth.done;
  if (growth.timer !== undefined) clearTimeout(growth.timer);
  growth.state = "growing";
  const pools = current.pools!;
  growth.done = (async () => {
    mark("backend:grow");
    await current.kernels?.startWorkers();
    if (!isCurrent()) return;
    await pools.grow(pools.maxThreads, (result) => {
      if (isCurrent()) settle(current, pools, result);
    });
  })().catch((error) => {
    if (isCurrent()) note(current, `the pool failed to start (${message(error)}): 1 thread`);
  }).finally(() => {
    growth.state = "done";
    mark("backend:grown");
  });
  return growth.done;
}

/** Puts the grown pool to use: the watchdog from now on (or the pool alone, or 1 thread). */
function settle(current: Running, pools: ThreadPools, result: GrowResult): void {
  const reason: string[] = [];
  if (result === "located" && pools.useExisting(pools.maxThreads)) {
    startWatchdog(current, pools, reason);
    note(current, `pool of ${pools.maxThreads} after the first inference; ${reason.join("")}`);
  } else if (result === "unlocated") {
    current.info.adaptive = false;
    note(current, "pool pointer not found: watchdog off");
  } else {
    current.info.adaptive = false;
    note(current, "no idle pthread slot left: 1 thread");
  }
  const previous = current.info.threads;
  current.onChange({ previous, threads: pools.active, reason: "the workers are in" });
}

/** Adds `text` to the backend's base reason. */
function note(current: Running, text: string): void {
  current.baseReason = `${current.baseReason}; ${text}`;
  current.info.reason = current.baseReason;
}
