/**
 * Capability probes of the runtime, each cheap and side-effect free: WASM SIMD, WASM threads
 * (shared memory, atomics, workers) and the number of logical cores. `initBackend` asks them
 * which binary to try first; a failed start of that binary is the final word.
 *
 * @module
 */
import { errorMessage as message } from "../_util.ts";

/** The outcome of one probe. */
export interface ProbeResult {
  /** Whether the capability is there. */
  ok: boolean;
  /** What was found, for `BackendInfo.reason`. */
  detail: string;
}

// A module with one function that runs `i8x16.splat`: the bytes tfjs-backend-wasm's
// WASM_HAS_SIMD_SUPPORT flag validates (from wasm-feature-detect).
const SIMD_PROBE = new Uint8Array([
  0,
  97,
  115,
  109,
  1,
  0,
  0,
  0,
  1,
  4,
  1,
  96,
  0,
  0,
  3,
  2,
  1,
  0,
  10,
  9,
  1,
  7,
  0,
  65,
  0,
  253,
  15,
  26,
  11,
]);

// A module with a shared memory and an atomic load (`i32.atomic.load`), as in tfjs'
// WASM_HAS_MULTITHREAD_SUPPORT flag (from wasm-feature-detect).
const THREADS_PROBE = new Uint8Array([
  0,
  97,
  115,
  109,
  1,
  0,
  0,
  0,
  1,
  4,
  1,
  96,
  0,
  0,
  3,
  2,
  1,
  0,
  5,
  4,
  1,
  3,
  1,
  1,
  10,
  11,
  1,
  9,
  0,
  65,
  0,
  254,
  16,
  2,
  0,
  26,
  11,
]);

/** Whether the runtime validates WASM SIMD instructions. */
export function probeSimd(): ProbeResult {
  try {
    return WebAssembly.validate(SIMD_PROBE)
      ? { ok: true, detail: "WASM SIMD validates" }
      : { ok: false, detail: "WASM SIMD does not validate" };
  } catch (error) {
    return { ok: false, detail: `WASM SIMD probe threw: ${message(error)}` };
  }
}

/**
 * Whether the runtime can run emscripten pthreads: `SharedArrayBuffer`, `Atomics.wait`, a shared
 * `WebAssembly.Memory` and WASM atomics. Workers themselves are not started here: whether they
 * start is learnt by starting the threaded binary (with a timeout).
 */
export function probeThreads(): ProbeResult {
  if (typeof SharedArrayBuffer !== "function") {
    return { ok: false, detail: "no SharedArrayBuffer" };
  }
  if (typeof Atomics !== "object" || typeof Atomics.wait !== "function") {
    return { ok: false, detail: "no Atomics.wait" };
  }
  try {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    if (!(memory.buffer instanceof SharedArrayBuffer)) {
      return { ok: false, detail: "shared WebAssembly.Memory is not backed by SharedArrayBuffer" };
    }
    if (!WebAssembly.validate(THREADS_PROBE)) {
      return { ok: false, detail: "WASM atomics do not validate" };
    }
  } catch (error) {
    return { ok: false, detail: `WASM threads probe threw: ${message(error)}` };
  }
  return { ok: true, detail: "shared memory and WASM atomics available" };
}

/** Logical cores the runtime reports (`navigator.hardwareConcurrency`), at least 1. */
export function logicalCores(): number {
  const n = typeof navigator === "object" ? Number(navigator.hardwareConcurrency) : NaN;
  return Number.isInteger(n) && n > 0 ? n : 1;
}
