/**
 * Runner of the ONNX Runtime comparison for onnxruntime-web: exports each case with
 * {@linkcode exportOnnx} (NHWC input, the same bytes our `predict` takes), creates an
 * `InferenceSession` on the WASM execution provider with `env.wasm.numThreads` set, and times
 * `session.run`, one JSON report on stdout. ORT-web sets its thread count once per process, so
 * `bench/ort_compare.ts` starts this once per thread count.
 *
 * In Deno, `npm:onnxruntime-web` resolves to its Node build (`dist/ort.node.min.mjs`), which
 * imports `ort-wasm-simd-threaded.mjs` next to it and reads the `.wasm` with `fs` from
 * node_modules: no `wasmPaths` and no network. Its only binary is the SIMD + threads one; with
 * `numThreads > 1` it starts emscripten pthreads as `node:worker_threads` workers (unref'd).
 *
 * Run: deno run -A --lock=deno.dev.lock bench/ort/ort_runner.ts --threads 2 [--runs 50] [--warmup 10]
 *
 * @module
 */
import * as ort from "npm:onnxruntime-web@1.30.0";
import { emitReport, parseRunnerOptions } from "./measure.ts";
import { type OnnxSession, timeOnnxCases } from "./onnx_cases.ts";

const options = parseRunnerOptions(Deno.args);
ort.env.wasm.numThreads = options.threads;
ort.env.wasm.proxy = false;
const cases = await timeOnnxCases(
  (model) =>
    ort.InferenceSession.create(model, {
      executionProviders: ["wasm"],
      graphOptimizationLevel: "all",
    }) as Promise<OnnxSession>,
  (data, shape) => new ort.Tensor("float32", data, shape),
  options,
);
emitReport({
  runtime: "ort",
  threadsRequested: options.threads,
  threadsActual: ort.env.wasm.numThreads ?? 0,
  detail: `onnxruntime-web ${ort.env.versions.web}, ort-wasm-simd-threaded.wasm, ` +
    `numThreads=${ort.env.wasm.numThreads}`,
  cases,
});
Deno.exit(0);
