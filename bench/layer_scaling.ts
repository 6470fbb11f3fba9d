/**
 * Two threads against one, layer type by layer type, in one process: the bundled 0.75/224 (or
 * `--model`) on the threaded backend, switched between 1 and 2 threads (`setThreads`) round after
 * round, so the VM's drift falls on both. Every kernel call is timed (wall clock; the backend
 * runs kernels synchronously); prints, per group of layers (the first convolution, the blocks by
 * resolution, the head), the medians on each thread count and their ratio, and the whole
 * `predict`. One thread here is the threaded binary at one thread, 1-4% slower than the
 * single-thread binary that `bench/scaling_pairs.ts` compares with. This VM's two cores often
 * differ in speed for minutes, so the calling thread runs the 1-thread rounds pinned to each core
 * in turn (`taskset -p`, when there is one), and the 1-thread time is the mean of the cores' (as in
 * `bench/scaling_pairs.ts`); the 2-thread rounds run unpinned.
 *
 * A second table says where two threads' time goes, per inference: each thread's time in chunks
 * and the calling thread's waits for the worker's last ones (`PointwiseKernels.profiling`, on
 * for extra inferences after each 2-thread round's timed ones), the kernel calls' other time (posting jobs,
 * the head's pooling and softmax), the time outside kernel calls, and the two threads' kernel
 * work against one thread's.
 *
 * Run: `deno run -A bench/layer_scaling.ts [--model 0.75_224] [--rounds 20]`
 *
 * @module
 */
import { parseArgs } from "../src/cli/parse_args.ts";
import { loadMobileNet, setThreads } from "../mod.ts";
import { activeKernels } from "../src/backend/wasm.ts";
import { median } from "../src/_util.ts";
import { markdownTable } from "./_table.ts";
import { timeKernels } from "./_kernel_timer.ts";
import { pinCallingThread, pinnableCores } from "./_taskset.ts";

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

/** Per 2-thread round, ms per profiled inference: wall, kernel calls, chunks (caller, worker), waits. */
const budget: { wall: number; kernels: number; chunks: number[]; wait: number }[] = [];

/** Runs `n` inferences profiled on our threads and adds their means to `budget`. */
function profiled(n: number): void {
  const kernels = activeKernels()!;
  kernels.profiling = true;
  let inKernels = 0;
  calls = [];
  recording = true;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) model.predict(input);
  const wall = performance.now() - t0;
  recording = false;
  for (const ms of calls) inKernels += ms;
  const stats = kernels.threadStats!;
  kernels.profiling = false;
  const chunks = stats.chunkMs.map((ms) => ms / n);
  budget.push({ wall: wall / n, kernels: inKernels / n, chunks, wait: stats.waitMs / n });
}

const CORES = (await pinnableCores())?.map(String) ?? [];
const pinned = CORES.length > 1;
/** Where the 1-thread rounds run: each core in turn, or unpinned. */
const ONE = pinned ? CORES.map((cpu) => `1@${cpu}`) : ["1"];

/** Per run ("1@cpu", "1" or "2"), per inference: each kernel call's time, and the whole one's. */
const runs: Record<string, { calls: number[][]; total: number[] }> = {};

/** Times `n` inferences after 5 untimed ones into `runs[key]`. */
function record(key: string, n: number): void {
  const run = runs[key] ??= { calls: [], total: [] };
  for (let i = 0; i < 5; i++) model.predict(input);
  for (let i = 0; i < n; i++) {
    calls = [];
    recording = true;
    const t0 = performance.now();
    model.predict(input);
    run.total.push(performance.now() - t0);
    recording = false;
    run.calls.push(calls);
  }
}

for (let round = 0; round < Number(args.rounds ?? 20); round++) {
  for (const threads of round % 2 ? [1, 2] : [2, 1]) {
    await setThreads(threads);
    if (threads === 2) {
      record("2", 10);
      profiled(10);
      continue;
    }
    for (const key of ONE) {
      if (pinned) await pinCallingThread(key.slice(2));
      record(key, Math.ceil(10 / ONE.length));
    }
    if (pinned) await pinCallingThread(CORES.join(","));
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
  ["pooling, classifier, softmax", blocks(14, runs["2"].calls[0].length - 1)],
];
/** The mean over `keys` of each run's median of `f` of an inference. */
const over = (keys: string[], f: (calls: number[], total: number) => number) =>
  keys.reduce((s, k) => s + median(runs[k].calls.map((c, i) => f(c, runs[k].total[i]))), 0) /
  keys.length;
const rows = groups.map(([name, calls]) => {
  const [one, two] = [ONE, ["2"]].map((keys) =>
    calls.reduce((s, i) => s + over(keys, (c) => c[i] ?? 0), 0)
  );
  return [name, one.toFixed(2), two.toFixed(2), `${(one / two).toFixed(2)}x`];
});
const [one, two] = [ONE, ["2"]].map((keys) => over(keys, (_, total) => total));
rows.push([
  "whole `predict` (timed calls)",
  one.toFixed(2),
  two.toFixed(2),
  `${(one / two).toFixed(2)}x`,
]);
console.log(`\n## ${args.model ?? "0.75_224"}: 2 threads against 1, by layer type, one process\n`);
if (!pinned) console.log("(`taskset` missing: the 1-thread rounds ran unpinned)\n");
console.log(markdownTable(["layers", "1 thread ms", "2 threads ms", "speed-up"], rows));
printBudget();
await model.dispose();
Deno.exit(0);

/** The second table: where two threads' time goes, against one thread's kernel calls. */
function printBudget(): void {
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const kernels1 = over(ONE, sum);
  const wall1 = over(ONE, (_, total) => total);
  const of = (f: (b: typeof budget[number]) => number) => median(budget.map(f));
  const [caller, worker] = [0, 1].map((t) => of((b) => b.chunks[t] ?? 0));
  const wait = of((b) => b.wait);
  const rest = of((b) => b.kernels - b.chunks[0] - b.wait);
  const work = of((b) => (sum(b.chunks) + b.kernels - b.chunks[0] - b.wait) / kernels1);
  const ms = (x: number) => x.toFixed(2);
  console.log(
    `\n## Where two threads' time goes, per inference (profiled, medians of the rounds)\n`,
  );
  console.log(markdownTable(["", "ms"], [
    ["1 thread: kernel calls", ms(kernels1)],
    ["1 thread: outside kernel calls", ms(wall1 - kernels1)],
    ["2 threads: the calling thread's chunks", ms(caller)],
    ["2 threads: the worker's chunks", ms(worker)],
    ["2 threads: the calling thread waiting for the worker's last chunks", ms(wait)],
    ["2 threads: the rest of the kernel calls (posting jobs, serial kernels)", ms(rest)],
    ["2 threads: outside kernel calls", ms(of((b) => b.wall - b.kernels))],
    ["2 threads: wall (profiled)", ms(of((b) => b.wall))],
    [
      "2 threads' kernel work (both threads' chunks, the rest) against 1 thread's",
      `${work.toFixed(3)}x`,
    ],
  ]));
}
