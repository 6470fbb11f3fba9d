/**
 * Runner of the ONNX Runtime comparison for native onnxruntime (`npm:onnxruntime-node`, its
 * prebuilt CPU library loaded as a Node-API addon): the same exported model and input as
 * `ort_runner.ts`, on the CPU execution provider with `intraOpNumThreads` set (one inter-op
 * thread), timed, one JSON report on stdout. The native figure the issue measures against,
 * taken in the same run as ours instead of quoted from an earlier one.
 *
 * Run: deno run -A bench/ort/native_runner.ts --threads 2 [--runs 50] [--warmup 10]
 *
 * @module
 */
import * as ort from "npm:onnxruntime-node@1.30.0";
import { buildArchitecture } from "../../src/model/architecture.ts";
import { exportOnnx, ONNX_INPUT_NAME } from "../export/onnx.ts";
import { benchInput, CASES, caseWeights, INPUT_SHAPE } from "./cases.ts";
import { type CaseReport, emitReport, parseRunnerOptions, timeCalls } from "./measure.ts";

const options = parseRunnerOptions(Deno.args);
const data = await benchInput();
const cases: CaseReport[] = [];
for (const c of CASES) {
  const model = exportOnnx(buildArchitecture({ alpha: c.alpha }), await caseWeights(c), {
    batch: INPUT_SHAPE[0],
  });
  const start = performance.now();
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ["cpu"],
    graphOptimizationLevel: "all",
    intraOpNumThreads: options.threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
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
  runtime: "native",
  threadsRequested: options.threads,
  threadsActual: options.threads,
  detail: `onnxruntime-node ${ort.env.versions.node}, CPU execution provider, ` +
    `intraOpNumThreads=${options.threads}`,
  cases,
});
Deno.exit(0);
