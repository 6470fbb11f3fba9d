/**
 * Start-up of the TensorFlow.js WASM backend and the report of what it runs on.
 *
 * This is the only place that selects a tfjs backend. Everything above it asks for
 * {@linkcode initBackend} and reads {@linkcode backendInfo}.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-wasm";

/** Which WASM binary of tfjs-backend-wasm is running. */
export type WasmBinary =
  | "tfjs-backend-wasm-threaded-simd.wasm"
  | "tfjs-backend-wasm-simd.wasm"
  | "tfjs-backend-wasm.wasm";

/** What the backend runs on, and why. */
export interface BackendInfo {
  /** The WASM binary in use. */
  binary: WasmBinary;
  /** Whether the binary uses WASM SIMD. */
  simd: boolean;
  /** Number of threads that compute one inference (1 = no worker pool). */
  threads: number;
  /** Why this binary and thread count were chosen (probe results, forced options, failures). */
  reason: string;
}

/** Options of {@linkcode initBackend}. */
export interface BackendOptions {
  /**
   * Threads for one inference. Only 1 is supported by this build of the backend.
   * @default {1}
   */
  threads?: number;
}

let info: BackendInfo | undefined;
let starting: Promise<BackendInfo> | undefined;

/**
 * Starts the WASM backend once per process and returns what it runs on. Later calls return the
 * same information.
 */
export function initBackend(_options: BackendOptions = {}): Promise<BackendInfo> {
  starting ??= (async () => {
    const ok = await tf.setBackend("wasm");
    if (!ok) throw new Error("the tfjs WASM backend failed to start");
    await tf.ready();
    const simd = Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"));
    info = {
      binary: simd ? "tfjs-backend-wasm-simd.wasm" : "tfjs-backend-wasm.wasm",
      simd,
      threads: 1,
      reason: simd ? "SIMD probe passed; single thread" : "SIMD probe failed; plain WASM",
    };
    return info;
  })();
  return starting;
}

/**
 * What the backend runs on, or `undefined` before {@linkcode initBackend} has finished.
 */
export function backendInfo(): BackendInfo | undefined {
  return info ? { ...info } : undefined;
}
