// Types of src/vendor/wasm_glue.js (tools/tfjs_bundle/build.ts): tfjs-backend-wasm's emscripten
// glue files, each run by a function given the CommonJS names it reads; each returns the file's
// `module.exports`.
import type {
  BackendWasmModule,
  WasmFactoryConfig,
} from "npm:@tensorflow/tfjs-backend-wasm@4.22.0/wasm-out/tfjs-backend-wasm.js";

/** An emscripten module factory of `wasm-out/`. */
export type GlueFactory = (config: WasmFactoryConfig) => Promise<BackendWasmModule>;

/** `wasm-out/tfjs-backend-wasm-threaded-simd.js`: the threaded SIMD binary's factory. */
export function threadedSimdGlue(
  require: (name: string) => unknown,
  process: unknown,
  __dirname: string,
  __filename: string,
): GlueFactory;

/** `wasm-out/tfjs-backend-wasm.js`: the single-thread binaries' factory. */
export function singleGlue(
  require: (name: string) => unknown,
  process: unknown,
  __dirname: string,
  __filename: string,
): GlueFactory;

/** `wasm-out/tfjs-backend-wasm-threaded-simd.worker.js`: the pthread worker's source. */
export function pthreadWorkerGlue(): { wasmWorkerContents: string };
