/**
 * Runner of the ONNX Runtime comparison for our model: `createMobileNet(weights, {alpha,
 * threads})` then `model.predict({data, shape})` for each case, float32 and int8 (`precision:
 * "int8"`, id `<case> int8`) timed interleaved in the same process, one JSON report on stdout.
 * tfjs allows one backend configuration per process, so `bench/ort_compare.ts` starts this once
 * per thread count.
 *
 * Run: deno run -A bench/ort/ours_runner.ts --threads 2 [--runs 50] [--warmup 10]
 *
 * @module
 */
import { backendInfo, createMobileNet } from "../../mod.ts";
import { benchInput, caseInt8, CASES, caseWeights, INPUT_SHAPE } from "./cases.ts";
import { type CaseReport, emitReport, parseRunnerOptions, timeInterleaved } from "./measure.ts";

const options = parseRunnerOptions(Deno.args);
const data = await benchInput();
const cases: CaseReport[] = [];
let info: ReturnType<typeof backendInfo>;
for (const c of CASES) {
  const weights = await caseWeights(c);
  const base = { alpha: c.alpha, threads: options.threads };
  const start = performance.now();
  const float = await createMobileNet(weights, base);
  const setupMs = performance.now() - start;
  const int8 = await createMobileNet(weights, {
    ...base,
    precision: "int8",
    int8: await caseInt8(c),
  });
  const [f, q] = await timeInterleaved(
    [float, int8].map((model) => () => model.predict({ data, shape: INPUT_SHAPE })),
    options,
  );
  cases.push({ id: c.id, setupMs, stats: f.stats, times: f.times, probs: [...f.last] });
  const id = `${c.id} ${int8.precision}`;
  cases.push({ id, setupMs: 0, stats: q.stats, times: q.times, probs: [...q.last] });
  info = backendInfo(); // before the last dispose stops the backend
  await float.dispose();
  await int8.dispose();
}
emitReport({
  runtime: "ours",
  threadsRequested: options.threads,
  threadsActual: info?.threads ?? 0,
  detail: info ? `${info.binary}: ${info.reason}` : "backend not started",
  int8: info?.int8?.kernels,
  cases,
});
// A thread pool must not keep the process alive once the report is out.
Deno.exit(0);
