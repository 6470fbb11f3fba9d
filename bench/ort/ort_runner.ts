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
 * Run: deno run -A bench/ort/ort_runner.ts --threads 2 [--runs 50] [--warmup 10]
 *
 * @module
 */
import * as ort from "npm:onnxruntime-web@1.30.0";
import { buildArchitecture } from "../../src/model/architecture.ts";
import { exportOnnx, ONNX_INPUT_NAME } from "../export/onnx.ts";
import { benchInput, CASES, caseWeights, INPUT_SHAPE } from "./cases.ts";
import { type CaseReport, emitReport, parseRunnerOptions, timeCalls } from "./measure.ts";

const options = parseRunnerOptions(Deno.args);
ort.env.wasm.numThreads = options.threads;
ort.env.wasm.proxy = false;
const data = await benchInput();
const cases: CaseReport[] = [];
for (const c of CASES) {
  const model = exportOnnx(buildArchitecture({ alpha: c.alpha }), await caseWeights(c), {
    batch: INPUT_SHAPE[0],
  });
  const start = performance.now();
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ["wasm"],
    graphOptimizationLevel: "all",
  });
  const setupMs = performance.now() - start;
  const { stats, times, last } = await timeCalls(async () => {
    const results = await session.run({
      [ONNX_INPUT_NAME]: new ort.Tensor("float32", data, INPUT_SHAPE),
    });
    return results.probabilities.data as Float32Array;
  }, options);
  cases.push({ id: c.id, setupMs, stats, times, probs: [...last] });
  await session.release();
}
emitReport({
  runtime: "ort",
  threadsRequested: options.threads,
  threadsActual: ort.env.wasm.numThreads ?? 0,
  detail: `onnxruntime-web ${ort.env.versions.web}, ort-wasm-simd-threaded.wasm, ` +
    `numThreads=${ort.env.wasm.numThreads}`,
  cases,
});
Deno.exit(0);
