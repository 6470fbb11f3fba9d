/**
 * Start-up and shutdown of the TensorFlow.js WASM backend, and the report of what it runs on.
 *
 * This is the only place that selects a tfjs backend. Everything above it asks for
 * {@linkcode initBackend} and reads {@linkcode backendInfo}.
 *
 * The binary is chosen in order threaded SIMD -> single-thread SIMD -> plain WASM; each step
 * down happens because a probe said so, an option or environment variable asked for it, or
 * starting the better binary failed, and `reason` says which. The threaded binary runs its
 * pthreads on Deno's `node:worker_threads` through the bridge of `pthread_bridge.ts`, with exactly the
 * threads asked for. With `threads: "auto"` (the default), a start-up calibration and a watchdog
 * fed by {@linkcode reportInferenceTime} keep it on 1 thread while that is faster.
 *
 * @example Start, run, report, stop
 * ```ts
 * import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
 * import { backendInfo, initBackend, shutdownBackend, timeInference } from "./wasm.ts";
 *
 * await initBackend();
 * console.log(backendInfo()); // { binary: "tfjs-backend-wasm-threaded-simd.wasm", threads: 2, ... }
 * const y = timeInference(() => tf.square(tf.scalar(3)));
 * y.dispose();
 * await shutdownBackend(); // ends the pthread workers
 * ```
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import { BackendWasm, setThreadsCount } from "npm:@tensorflow/tfjs-backend-wasm@4.22.0";
import { calibrate, type Calibration } from "./calibrate.ts";
import { checkReport, ThreadController, type ThreadsChange } from "./watchdog.ts";
import {
  type BackendOptions,
  MAX_THREADS,
  type ResolvedOptions,
  resolveOptions,
  SIMD_ENV,
  THREADS_ENV,
} from "./flags.ts";
import {
  type LoadedModule,
  loadModule,
  PLAIN,
  SIMD,
  THREADED_SIMD,
  type WasmBinary,
} from "./emscripten_module.ts";
import { logicalCores, probeSimd, probeThreads } from "./probe.ts";
import { errorMessage as message } from "../_util.ts";
import { ThreadPools } from "./pools.ts";
import { installKernels, type PointwiseKernels } from "./pointwise/install.ts";

export type { BackendOptions } from "./flags.ts";
export { MAX_THREADS, SIMD_ENV, THREADS_ENV } from "./flags.ts";
export type { WasmBinary } from "./emscripten_module.ts";
export type { Calibration } from "./calibrate.ts";
export type { ThreadsChange } from "./watchdog.ts";
export { liveWorkerCount } from "./pthread_bridge.ts";

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
  /** Whether the watchdog may change `threads` (see {@linkcode reportInferenceTime}). */
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
}

/** tfjs' priority of the WASM backend. */
const WASM_PRIORITY = 2;

interface Running {
  info: BackendInfo;
  loaded: LoadedModule;
  pools?: ThreadPools;
  controller?: ThreadController;
  baseReason: string;
  kernels?: PointwiseKernels;
}

// The backend's lifecycle state. This module alone owns it: `lease.ts` counts leases and calls
// initBackend/shutdownBackend, which order every start after the stop before it.
/** The started backend, from the end of its start to the beginning of its stop. */
let running: Running | undefined;
/** The start in progress or done, until shutdownBackend takes it. */
let starting: Promise<void> | undefined;
/** The stop in progress; the next start waits for it. */
let stopping: Promise<void> | undefined;
const listeners = new Set<(change: ThreadsChange) => void>();

/**
 * Starts the WASM backend and returns what it runs on. While it runs, later calls return the
 * current information and ignore their options; call {@linkcode shutdownBackend} first to start
 * again with other options.
 *
 * Options win over the environment variables {@linkcode THREADS_ENV} (`MOBILENET_EDGE_THREADS`:
 * `1`..`8` or `auto`) and {@linkcode SIMD_ENV} (`MOBILENET_EDGE_SIMD`: `0`/`1`), which win over
 * the defaults (`threads: "auto"`, `simd: true`). Needs read access to the tfjs package files
 * (and `--allow-env` for the variables to be seen).
 *
 * @throws {TypeError} when an option has the wrong type.
 * @throws {RangeError} when an option or environment variable is out of range.
 * @throws {Error} when not even the plain WASM binary starts.
 */
export function initBackend(options: BackendOptions = {}): Promise<BackendInfo> {
  let resolved: ResolvedOptions;
  try {
    resolved = resolveOptions(options);
  } catch (error) {
    return Promise.reject(error);
  }
  if (!starting) {
    const attempt = (async () => {
      await stopping;
      running = await start(resolved);
    })();
    starting = attempt;
    attempt.catch(() => {
      if (starting === attempt) starting = undefined;
    });
  }
  return starting.then(() => backendInfo()!);
}

/**
 * What the backend runs on, or `undefined` before {@linkcode initBackend} has finished (and after
 * {@linkcode shutdownBackend}).
 */
export function backendInfo(): BackendInfo | undefined {
  if (!running) return undefined;
  const { calibration, ...info } = running.info;
  return calibration ? { ...info, calibration: { ...calibration } } : info;
}

/**
 * Stops the backend: disposes tfjs' WASM backend (every tensor on it becomes unusable, so dispose
 * them first), terminates the pthread workers and resolves when all of them have exited. Safe to
 * call when nothing runs; {@linkcode initBackend} may start again afterwards.
 */
export function shutdownBackend(): Promise<void> {
  const pending = starting;
  if (!pending) return stopping ?? Promise.resolve();
  starting = undefined;
  const stop = (async () => {
    try {
      await pending;
    } catch {
      return; // the start failed and cleaned up after itself
    }
    const current = running;
    running = undefined;
    if (!current) return;
    current.controller?.stop();
    try {
      await current.kernels?.uninstall(); // the original kernels back before the backend goes
      if (tf.findBackendFactory("wasm")) tf.removeBackend("wasm");
    } finally {
      await current.loaded.bridge?.terminate();
    }
  })();
  stopping = stop;
  stop.finally(() => {
    if (stopping === stop) stopping = undefined;
  }).catch(() => {});
  return stop;
}

/**
 * Tells the watchdog how long one inference of workload `key` took (for example
 * `performance.now()` around `predict` and the read of its result). Cheap: a few comparisons,
 * and at most one pointer write that changes the thread count for the next inference; tensors
 * stay valid. Does nothing when the backend is not adaptive or not running.
 *
 * @param ms the inference time in milliseconds.
 * @param key the workload, when several sizes run (e.g. `"224x1"`); times of different keys are
 * never compared.
 * @throws {TypeError} when `ms` is not a number or `key` not a string.
 * @throws {RangeError} when `ms` is negative or not finite.
 */
export function reportInferenceTime(ms: number, key = "default"): void {
  checkReport(ms, key);
  running?.controller?.report(ms, key);
}

/**
 * Runs one synchronous inference `fn`, reports its time with {@linkcode reportInferenceTime} and
 * returns its result. tfjs' WASM kernels run when called, so the time covers the computation.
 */
export function timeInference<T>(fn: () => T, key = "default"): T {
  const controller = running?.controller;
  if (!controller?.running) return fn();
  controller.before(key);
  const start = performance.now();
  const result = fn();
  reportInferenceTime(performance.now() - start, key);
  return result;
}

/**
 * Calls `listener` after every change of the thread count (watchdog decisions and
 * {@linkcode setThreads}). Tensors stay valid across changes: nothing needs rebuilding.
 *
 * @returns a function that removes the listener.
 */
export function onThreadsChange(listener: (change: ThreadsChange) => void): () => void {
  if (typeof listener !== "function") {
    throw new TypeError(`listener must be a function, got ${typeof listener}`);
  }
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * Sets the active thread count of the running threaded backend (1 to `maxThreads`) and turns the
 * watchdog off. Tensors stay valid.
 *
 * @throws {TypeError} when `threads` is not a number.
 * @throws {RangeError} when it is not an integer from 1 to `backendInfo().maxThreads`.
 * @throws {Error} when the backend is not running, or the pool cannot be created.
 */
export async function setThreads(threads: number): Promise<BackendInfo> {
  if (typeof threads !== "number") {
    throw new TypeError(`threads must be a number, got ${typeof threads}`);
  }
  const current = running;
  if (!current) throw new Error("the WASM backend is not running: call initBackend() first");
  const max = current.info.maxThreads;
  if (!Number.isInteger(threads) || threads < 1 || threads > max) {
    throw new RangeError(
      `threads must be an integer from 1 to ${max} (the pool of ${current.info.binary}), got ${threads}`,
    );
  }
  current.controller?.stop();
  current.controller = undefined;
  current.info.adaptive = false;
  const previous = current.pools?.active ?? 1;
  if (current.pools && !(await current.pools.use(threads))) {
    throw new Error(`no idle pthread slot left for a pool of ${threads} threads`);
  }
  changed(current, { previous, threads, reason: "setThreads" });
  return backendInfo()!;
}

function changed(current: Running, change: ThreadsChange): void {
  current.info.threads = change.threads;
  current.info.reason = `${current.baseReason}; now ${change.threads} (${change.reason})`;
  if (change.previous === change.threads) return;
  for (const listener of listeners) {
    try {
      listener(change);
    } catch (error) {
      console.error("onThreadsChange listener threw:", error);
    }
  }
}

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

async function start(options: ResolvedOptions): Promise<Running> {
  const t0 = performance.now();
  const { attempts, notes } = plan(options);
  for (const attempt of attempts) {
    try {
      return await startBinary(attempt, options, notes, t0);
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

/**
 * Starts one binary: loads its module, makes it tfjs' backend and, when threaded, sets up its
 * pools. On failure, everything it started is undone before it rethrows.
 */
async function startBinary(
  attempt: Attempt,
  options: ResolvedOptions,
  notes: string[],
  t0: number,
): Promise<Running> {
  const { binary, threads } = attempt;
  const loaded = await loadModule({
    binary,
    maxThreads: threads,
    timeoutMs: options.startTimeoutMs,
  });
  let registered = false;
  try {
    const backend = await createBackend(loaded, threads);
    register(backend);
    registered = true;
    if (!(await tf.setBackend("wasm"))) throw new Error("tf.setBackend('wasm') returned false");
    const info: BackendInfo = {
      binary,
      simd: binary !== PLAIN,
      threads,
      reason: "",
      maxThreads: loaded.maxThreads,
      adaptive: false,
      startupMs: 0,
    };
    const current: Running = { info, loaded, baseReason: "" };
    const reason = [...notes];
    if (threads > 1) await setUpPools(current, options, reason);
    current.kernels = await installKernels(backend, loaded, options.kernels); // never throws
    info.kernels = current.kernels.kernels;
    info.int8 = { kernels: current.kernels.int8, reason: current.kernels.int8Reason };
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
    high: info.threads,
    firstProbe: clear ? 32 : 3,
    onChange: (change) => changed(current, change),
  });
  reason.push("watchdog on");
}
