/**
 * Runner of the ONNX Runtime comparison for our model: `createMobileNet(weights, {alpha,
 * threads})` then `model.predict({data, shape})` for each case, timed, one JSON report on
 * stdout. tfjs allows one backend configuration per process, so `bench/ort_compare.ts` starts
 * this once per thread count.
 *
 * Run: deno run -A bench/ort/ours_runner.ts --threads 2 [--runs 50] [--warmup 10]
 *
 * @module
 */
import { backendInfo, createMobileNet } from "../../mod.ts";
import { benchInput, CASES, caseWeights, INPUT_SHAPE } from "./cases.ts";
import { type CaseReport, emitReport, parseRunnerOptions, timeCalls } from "./measure.ts";

const options = parseRunnerOptions(Deno.args);
const data = await benchInput();
const cases: CaseReport[] = [];
for (const c of CASES) {
  const weights = await caseWeights(c);
  const start = performance.now();
  const model = await createMobileNet(weights, { alpha: c.alpha, threads: options.threads });
  const setupMs = performance.now() - start;
  const { stats, times, last } = await timeCalls(
    () => model.predict({ data, shape: INPUT_SHAPE }),
    options,
  );
  cases.push({ id: c.id, setupMs, stats, times, probs: [...last] });
  model.dispose();
}
const info = backendInfo();
emitReport({
  runtime: "ours",
  threadsRequested: options.threads,
  threadsActual: info?.threads ?? 0,
  detail: info ? `${info.binary}: ${info.reason}` : "backend not started",
  cases,
});
// A thread pool must not keep the process alive once the report is out.
Deno.exit(0);
