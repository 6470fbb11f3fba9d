/**
 * Capability probes of the runtime, each cheap and side-effect free: WASM SIMD, WASM threads
 * (a shared memory that can really be created, atomics) and the number of logical cores.
 * `initBackend` asks them which binary to try first; a failed start of that binary is the final
 * word.
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

/** The bytes of a hex string (whitespace ignored). */
function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  const digits = hex.replace(/\s+/g, "");
  return Uint8Array.from(
    { length: digits.length / 2 },
    (_, i) => parseInt(digits.slice(2 * i, 2 * i + 2), 16),
  );
}

// The probe modules of wasm-feature-detect, which tfjs-backend-wasm's WASM_HAS_SIMD_SUPPORT and
// WASM_HAS_MULTITHREAD_SUPPORT flags validate. Sections: magic and version; one type `() -> ()`;
// one function; (threads only) one shared memory of 1 page, max 1; the code.
// SIMD: `(func i32.const 0 i8x16.splat drop)`.
const SIMD_PROBE = fromHex("0061736d 01000000 010401600000 03020100 0a09010700 4100 fd0f 1a0b");
// Threads: `(memory 1 1 shared) (func i32.const 0 i32.atomic.load drop)`.
const THREADS_PROBE = fromHex(
  "0061736d 01000000 010401600000 03020100 050401030101 0a0b010900 4100 fe100200 1a0b",
);

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
 * Whether a buffer really is a `SharedArrayBuffer`, by its own tag rather than the global of that
 * name (which some platforms alias to `ArrayBuffer`).
 */
function isShared(buffer: ArrayBufferLike): boolean {
  return Object.prototype.toString.call(buffer) === "[object SharedArrayBuffer]";
}

/**
 * Whether the runtime can run emscripten pthreads. It decides by trying, not by the globals'
 * existence: some edge platforms (Supabase Edge Functions) alias `SharedArrayBuffer` to
 * `ArrayBuffer` and throw "Creating a shared memory is not supported" when a shared memory is
 * created. So it creates a shared `WebAssembly.Memory`, checks that its buffer is a real
 * `SharedArrayBuffer`, then checks `Atomics.wait` and that WASM atomics validate. Workers
 * themselves are not started here: whether they start is learnt by starting the threaded binary
 * (with a timeout).
 */
export function probeThreads(): ProbeResult {
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  } catch (error) {
    return { ok: false, detail: `cannot create a shared WebAssembly memory: ${message(error)}` };
  }
  if (!isShared(memory.buffer)) {
    return {
      ok: false,
      detail: "a shared WebAssembly memory is not backed by a SharedArrayBuffer",
    };
  }
  if (typeof Atomics !== "object" || typeof Atomics.wait !== "function") {
    return { ok: false, detail: "no Atomics.wait" };
  }
  try {
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
