/**
 * Where one inference spends its time, kernel by kernel: every kernel registered for the `wasm`
 * backend is wrapped with a wall-clock timer (the backend runs kernels synchronously), and the
 * model runs `--runs` times after a warm-up. Prints, per kernel call in model order, the median
 * time, and the sum per kernel name.
 *
 * Run: deno run -A bench/op_profile.ts [--alpha 1] [--threads 2] [--runs 50] [--precision int8]
 *
 * @module
 */
import { parseArgs } from "../src/cli/parse_args.ts";
import { backendInfo, createMobileNet } from "../mod.ts";
import { median } from "../src/_util.ts";
import { timeKernels } from "./_kernel_timer.ts";
import { benchInput, CASES, caseWeights, INPUT_SHAPE } from "./ort/cases.ts";

const values = parseArgs(Deno.args, {
  string: ["alpha", "threads", "runs", "precision"],
  default: { alpha: "1", threads: "2", runs: "50", precision: "float32" },
});
const c = CASES.find((x) => x.alpha === Number(values.alpha));
if (!c) throw new RangeError(`--alpha must be one of ${CASES.map((x) => x.alpha).join(", ")}`);
const model = await createMobileNet(await caseWeights(c), {
  alpha: c.alpha,
  threads: Number(values.threads),
  precision: values.precision as "float32" | "int8",
});
const data = await benchInput();
const calls: { name: string; ms: number }[] = [];
let recording = false;
timeKernels((name, ms) => {
  if (recording) calls.push({ name, ms });
});
for (let i = 0; i < 10; i++) model.predict({ data, shape: INPUT_SHAPE });
const runs = Number(values.runs);
const perRun: { name: string; ms: number }[][] = [];
const totals: number[] = [];
for (let i = 0; i < runs; i++) {
  calls.length = 0;
  recording = true;
  const t0 = performance.now();
  model.predict({ data, shape: INPUT_SHAPE });
  totals.push(performance.now() - t0);
  recording = false;
  perRun.push([...calls]);
}
console.log(`${c.id}, ${model.precision}, ${backendInfo()?.reason}`);
console.log(`inference median ${median(totals).toFixed(2)} ms (wrapped kernels)`);
const byName = new Map<string, number>();
let sum = 0;
perRun[0].forEach((call, i) => {
  const ms = median(perRun.map((r) => r[i]?.ms ?? 0));
  sum += ms;
  byName.set(call.name, (byName.get(call.name) ?? 0) + ms);
  console.log(`${String(i).padStart(3)} ${call.name.padEnd(24)} ${ms.toFixed(3)}`);
});
console.log(`sum of kernel medians ${sum.toFixed(2)} ms`);
for (const [name, ms] of [...byName].sort((a, b) => b[1] - a[1])) {
  console.log(`${name.padEnd(24)} ${ms.toFixed(3)}`);
}
model.dispose();
Deno.exit(0);
