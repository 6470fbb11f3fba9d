/**
 * Two threads against one, layer type by layer type, in one process: the bundled 0.75/224 (or
 * `--model`) on the threaded backend, switched between 1 and 2 threads (`setThreads`) round after
 * round, so the VM's drift falls on both. Every kernel call is timed (wall clock; the backend
 * runs kernels synchronously); prints, per group of layers (the first convolution, the blocks by
 * resolution, the head), the medians on each thread count and their ratio, and the whole
 * `predict`. One thread here is the threaded binary at one thread, 1-4% slower than the
 * single-thread binary that `bench/scaling_pairs.ts` compares with.
 *
 * Run: `deno run -A bench/layer_scaling.ts [--model 0.75_224] [--rounds 20]`
 *
 * @module
 */
import { parseArgs } from "../src/cli/parse_args.ts";
import { loadMobileNet, setThreads } from "../mod.ts";
import { median } from "../src/_util.ts";
import { markdownTable } from "./_table.ts";
import { timeKernels } from "./_kernel_timer.ts";

const args = parseArgs(Deno.args, { string: ["model", "rounds"] });
const model = await loadMobileNet({ model: String(args.model ?? "0.75_224"), threads: 2 });
const r = model.resolution;
const data = new Float32Array(r * r * 3).map((_, i) => Math.sin(i) * 0.9);
const input = { data, shape: [1, r, r, 3] as [number, number, number, number] };
let calls: number[] = [];
let recording = false;
timeKernels((_, ms) => {
  if (recording) calls.push(ms);
});

/** Per thread count, per round: each kernel call's median, and the whole inference's. */
const runs: Record<number, { calls: number[][]; total: number[] }> = {
  1: { calls: [], total: [] },
  2: { calls: [], total: [] },
};
for (let round = 0; round < Number(args.rounds ?? 20); round++) {
  for (const threads of round % 2 ? [1, 2] : [2, 1]) {
    await setThreads(threads);
    for (let i = 0; i < 5; i++) model.predict(input);
    for (let i = 0; i < 10; i++) {
      calls = [];
      recording = true;
      const t0 = performance.now();
      model.predict(input);
      runs[threads].total.push(performance.now() - t0);
      recording = false;
      runs[threads].calls.push(calls);
    }
  }
}

// the calls in model order: the first convolution, 13 blocks, the head (pooling and product)
const blocks = (from: number, to: number) => [...Array(to - from + 1).keys()].map((i) => from + i);
const groups: [string, number[]][] = [
  ["first convolution", [0]],
  ["blocks 1-3 (112x112 and 56x56)", blocks(1, 3)],
  ["blocks 4-5 (28x28)", blocks(4, 5)],
  ["blocks 6-11 (14x14)", blocks(6, 11)],
  ["blocks 12-13 (7x7)", blocks(12, 13)],
  ["pooling, classifier, softmax", blocks(14, runs[1].calls[0].length - 1)],
];
const at = (threads: number, i: number) => median(runs[threads].calls.map((c) => c[i] ?? 0));
const rows = groups.map(([name, calls]) => {
  const [one, two] = [1, 2].map((t) => calls.reduce((s, i) => s + at(t, i), 0));
  return [name, one.toFixed(2), two.toFixed(2), `${(one / two).toFixed(2)}x`];
});
const [one, two] = [median(runs[1].total), median(runs[2].total)];
rows.push([
  "whole `predict` (timed calls)",
  one.toFixed(2),
  two.toFixed(2),
  `${(one / two).toFixed(2)}x`,
]);
console.log(`\n## ${args.model ?? "0.75_224"}: 2 threads against 1, by layer type, one process\n`);
console.log(markdownTable(["layers", "1 thread ms", "2 threads ms", "speed-up"], rows));
await model.dispose();
Deno.exit(0);
