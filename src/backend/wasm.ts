/**
 * Start-up and shutdown of the TensorFlow.js WASM backend, and the report of what it runs on.
 *
 * This is the only place that selects a tfjs backend, and the one owner of its lifecycle state.
 * Everything above it asks for {@linkcode initBackend} (or a lease, `lease.ts`) and reads
 * {@linkcode backendInfo}.
 *
 * The binary is chosen in order threaded SIMD -> single-thread SIMD -> plain WASM; each step
 * down happens because a probe said so, an option or environment variable asked for it, or
 * starting the better binary failed, and `reason` says which (see `start.ts`). The threaded
 * binary runs its pthreads on Deno's `node:worker_threads` through the bridge of
 * `pthread_bridge.ts`, with exactly the threads asked for. With `threads: "auto"` (the default)
 * it starts on 1 thread without any worker, starts the workers {@linkcode GROW_DELAY_MS} after
 * the first inference, and a watchdog fed by {@linkcode reportInferenceTime} then keeps it on 1
 * thread while that is faster.
 *
 * @example Start, run, report, stop
 * ```ts
 * import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
 * import { backendInfo, initBackend, shutdownBackend, timeInference } from "./wasm.ts";
 *
 * await initBackend({ threads: 2 });
 * console.log(backendInfo()); // { binary: "tfjs-backend-wasm-threaded-simd.wasm", threads: 2, ... }
 * const y = timeInference(() => tf.square(tf.scalar(3)));
 * y.dispose();
 * await shutdownBackend(); // ends the pthread workers
 * ```
 *
 * @module
 */
import * as tf from "../vendor/tfjs.js";
import { checkReport, type ThreadsChange } from "./watchdog.ts";
import { type BackendOptions, type ResolvedOptions, resolveOptions } from "./flags.ts";
import { type BackendInfo, grow, type LeaseEntry, type Running, start } from "./start.ts";
import type { PointwiseKernels } from "./pointwise/install.ts";
import { unrefTimer } from "../_util.ts";

export type { BackendOptions } from "./flags.ts";
export { MAX_THREADS, SIMD_ENV, THREADS_ENV } from "./flags.ts";
export type { WasmBinary } from "./emscripten_module.ts";
export type { Calibration } from "./calibrate.ts";
export type { ThreadsChange } from "./watchdog.ts";
export type { BackendInfo } from "./start.ts";
export { liveWorkerCount } from "./pthread_bridge.ts";

/**
 * How long after the first inference a deferred backend starts its workers (threads "auto"): a
 * command that classifies one image and exits is done by then and starts none, and a server's
 * first request is not held up by a worker being created.
 */
export const GROW_DELAY_MS = 250;

// The backend's lifecycle state. This module alone owns it: the running backend is one record
// (`Running`, see start.ts: module, pthread bridge, pools, watchdog, our kernels, the deferred
// growth and the leases), and `lease.ts` takes and gives back leases through the functions
// below. Every start waits for the stop before it.
/** The started backend, from the end of its start to the end of its stop's lease phase. */
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
      running = await start(resolved, changed);
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

/** Our kernels on the running backend, unless XNNPACK's run (for benches and tests). */
export function activeKernels(): PointwiseKernels | undefined {
  const kernels = running?.kernels;
  return kernels?.kernels === "xnnpack" ? undefined : kernels;
}

/**
 * Stops the backend. Every model still using it is disposed first (its pending and later calls
 * reject with `ModelDisposedError`, and its `dispose()` resolves), and a model still loading is
 * aborted; then tfjs' WASM backend is disposed (any other tensor on it becomes unusable), the
 * worker threads are terminated, and the promise resolves when all of them have exited. Safe to
 * call when nothing runs; {@linkcode initBackend} (or a new model) may start again afterwards.
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
    if (!current) return;
    // Models first, while the backend still runs: their tensors and packed filters go back to
    // it, and their calls in flight end with ModelDisposedError.
    await Promise.allSettled([...current.leases].map((lease) => lease.revoke()));
    current.leases.clear();
    running = undefined;
    await stopRunning(current);
  })();
  stopping = stop;
  stop.finally(() => {
    if (stopping === stop) stopping = undefined;
  }).catch(() => {});
  return stop;
}

/** Ends what `current` runs: growth, watchdog, our kernels, tfjs' backend, the workers. */
async function stopRunning(current: Running): Promise<void> {
  current.controller?.stop();
  const growth = current.growth;
  if (growth?.timer !== undefined) clearTimeout(growth.timer);
  current.pools?.close();
  try {
    await current.kernels?.uninstall(); // the original kernels back before the backend goes
    if (tf.findBackendFactory("wasm")) tf.removeBackend("wasm");
  } finally {
    await current.loaded.bridge?.terminate();
    await growth?.done; // ended by the terminated workers; never rejects
  }
}

/**
 * Takes a lease on the running backend for `entry`; false when no backend runs or its stop has
 * begun (then start again with {@linkcode initBackend}). For `lease.ts`.
 */
export function attachLease(entry: LeaseEntry): false | (() => Promise<void>) {
  const current = running;
  if (!current || !starting) return false;
  current.leases.add(entry);
  return () => detachLease(current, entry);
}

/**
 * Gives a lease back. When it was the last one and no tensor is left on the backend, the
 * backend shuts down, so a process that created and disposed models keeps no workers alive.
 */
function detachLease(current: Running, entry: LeaseEntry): Promise<void> {
  if (!current.leases.delete(entry)) return Promise.resolve();
  if (current !== running || !starting || current.leases.size > 0) return Promise.resolve();
  // The engine's own counter: tensors the caller still holds would die with the backend.
  if (tf.engine().state.numTensors > 0) return Promise.resolve();
  return shutdownBackend();
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
  const current = running;
  if (!current) return;
  current.controller?.report(ms, key);
  if (current.growth?.state === "waiting") scheduleGrowth(current);
}

/**
 * Runs one synchronous inference `fn`, reports its time with {@linkcode reportInferenceTime} and
 * returns its result. tfjs' WASM kernels run when called, so the time covers the computation.
 */
export function timeInference<T>(fn: () => T, key = "default"): T {
  const current = running;
  current?.kernels?.wake();
  const controller = current?.controller;
  if (!controller?.running) {
    const result = fn();
    if (current?.growth?.state === "waiting") scheduleGrowth(current);
    return result;
  }
  controller.before(key);
  const start = performance.now();
  const result = fn();
  reportInferenceTime(performance.now() - start, key);
  return result;
}

/** Starts the deferred workers {@linkcode GROW_DELAY_MS} after the first inference. */
function scheduleGrowth(current: Running): void {
  const growth = current.growth!;
  growth.state = "scheduled";
  growth.timer = setTimeout(() => {
    growth.timer = undefined;
    if (running === current) grow(current, () => running === current);
  }, GROW_DELAY_MS);
  unrefTimer(growth.timer); // a process that is done does not wait for it
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
 * watchdog off. Tensors stay valid. On a backend that defers its workers (threads "auto"), they
 * start now.
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
  const growth = current.growth;
  if (growth && (threads > 1 || growth.state === "growing")) {
    await grow(current, () => running === current);
  } else if (growth && growth.state !== "done") {
    // 1 thread asked for before the deferred workers started: they never will.
    if (growth.timer !== undefined) clearTimeout(growth.timer);
    growth.state = "done";
  }
  if (running !== current) throw new Error("the WASM backend stopped during setThreads()");
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
