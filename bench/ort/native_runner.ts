/**
 * Runner of the ONNX Runtime comparison for native onnxruntime (`npm:onnxruntime-node`, its
 * prebuilt CPU library loaded as a Node-API addon): the same exported model and input as
 * `ort_runner.ts`, on the CPU execution provider with `intraOpNumThreads` set (one inter-op
 * thread), timed, one JSON report on stdout. The native figure the issue measures against,
 * taken in the same run as ours instead of quoted from an earlier one.
 *
 * Run: deno run -A --lock=deno.dev.lock bench/ort/native_runner.ts --threads 2 [--runs 50] [--warmup 10]
 *
 * @module
 */
import * as ort from "npm:onnxruntime-node@1.30.0";
import { emitReport, parseRunnerOptions } from "./measure.ts";
import { type OnnxSession, timeOnnxCases } from "./onnx_cases.ts";

const options = parseRunnerOptions(Deno.args);
const cases = await timeOnnxCases(
  (model) =>
    ort.InferenceSession.create(model, {
      executionProviders: ["cpu"],
      graphOptimizationLevel: "all",
      intraOpNumThreads: options.threads,
      interOpNumThreads: 1,
      executionMode: "sequential",
    }) as Promise<OnnxSession>,
  (data, shape) => new ort.Tensor("float32", data, shape),
  options,
);
emitReport({
  runtime: "native",
  threadsRequested: options.threads,
  threadsActual: options.threads,
  detail: `onnxruntime-node ${ort.env.versions.node}, CPU execution provider, ` +
    `intraOpNumThreads=${options.threads}`,
  cases,
});
Deno.exit(0);
