/**
 * Two threads against one, per layer type, in one process: the first convolution (3x3, 3
 * input channels, stride 2), the 13 depthwise 3x3 layers, the 13 pointwise (1x1) layers and
 * the classifier of MobileNet v1 at the chosen width, each timed as the ops the model runs
 * (`tf.fused.*`, bias, relu6) on its real shapes, and the whole model (`predict`). The backend
 * starts with `threads: 2` and `setThreads` switches the same pool between 1 and 2 threads
 * round by round (interleaved), so a busy machine hits both alike; read the ratios. On 2
 * threads each way of sharing a job between the threads (`KernelPool.scheduling`: the shipped
 * `dynamic`, `affinity`, `static`) runs in the same rounds.
 *
 * Run: `deno run -A bench/scaling_bench.ts [--alpha 0.75] [--rounds 15] [--runs 10]
 * [--scheduling dynamic,affinity,static]`
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import { parseArgs } from "../src/cli/parse_args.ts";
import { median } from "../src/_util.ts";
import { markdownTable } from "./_table.ts";
import {
  activeKernels,
  backendInfo,
  initBackend,
  setThreads,
  shutdownBackend,
} from "../src/backend/wasm.ts";
import type { Scheduling } from "../src/backend/pointwise/pool.ts";
import { createMobileNet } from "../src/load.ts";
import { randomWeights } from "../src/model/random_weights.ts";
import { buildArchitecture } from "../src/model/architecture.ts";

const args = parseArgs(Deno.args, { string: ["alpha", "rounds", "runs", "scheduling"] });
const ALPHA = Number(args.alpha ?? 0.75);
const ROUNDS = Number(args.rounds ?? 15);
const RUNS = Number(args.runs ?? 10);
const MODES = String(args.scheduling ?? "dynamic,affinity,static").split(",") as Scheduling[];

type Op = () => tf.Tensor;

/** The ops of each layer type, with their inputs made once. */
function layerOps(): Record<string, Op[]> {
  const arch = buildArchitecture({ alpha: ALPHA });
  const ops: Record<string, Op[]> = { "first conv": [], depthwise: [], "1x1": [], classifier: [] };
  let side = 224;
  let channels = 3;
  for (const step of arch.steps) {
    const stride = step.stride as 1 | 2;
    const x = tf.randomUniform([1, side, side, channels], 0, 1, "float32", 1) as tf.Tensor4D;
    if (step.kind === "depthwise_conv2d") {
      const filter = tf.randomNormal([3, 3, channels, 1], 0, 0.1, "float32", 2) as tf.Tensor4D;
      const bias = tf.zeros([channels]) as tf.Tensor1D;
      ops.depthwise.push(() =>
        tf.fused.depthwiseConv2d({
          x,
          filter,
          bias,
          strides: stride,
          pad: "same",
          activation: "relu6",
        })
      );
    } else {
      const k = step.kernel;
      const out = step.outChannels;
      const filter = tf.randomNormal([k, k, channels, out], 0, 0.1, "float32", 3) as tf.Tensor4D;
      const bias = tf.zeros([out]) as tf.Tensor1D;
      const list = k === 1 ? ops["1x1"] : ops["first conv"];
      list.push(() =>
        tf.fused.conv2d({ x, filter, bias, strides: stride, pad: "same", activation: "relu6" })
      );
      channels = out;
    }
    side = Math.ceil(side / stride);
  }
  const pooled = tf.randomUniform([1, channels], 0, 1, "float32", 4) as tf.Tensor2D;
  const top = tf.randomNormal([channels, 1000], 0, 0.05, "float32", 5) as tf.Tensor2D;
  const topBias = tf.zeros([1000]) as tf.Tensor1D;
  ops.classifier.push(() => tf.fused.matMul({ a: pooled, b: top, bias: topBias }));
  return ops;
}

/** Runs every op of a layer type once (the WASM kernels compute when called). */
function runAll(list: Op[]): void {
  for (const op of list) op().dispose();
}

await initBackend({ threads: 2 });
const info = backendInfo()!;
const arch = buildArchitecture({ alpha: ALPHA });
const model = await createMobileNet(randomWeights(arch.config, 7), { alpha: ALPHA, threads: 2 });
const input = tf.randomUniform([1, 224, 224, 3], -1, 1, "float32", 9) as tf.Tensor4D;
const ops = layerOps();
const rows: Record<string, Op[] | (() => void)> = { ...ops };
const kinds = [...Object.keys(ops), "whole model"];
/** 1 thread, then 2 threads in each scheduling. */
const settings = [{ threads: 1, mode: MODES[0] }, ...MODES.map((mode) => ({ threads: 2, mode }))];
const label = (s: { threads: number; mode: Scheduling }) =>
  s.threads === 1 ? "1 thread" : `2 threads, ${s.mode}`;
const times = new Map<string, number[]>(
  kinds.flatMap((k) => settings.map((s) => [`${k} ${label(s)}`, []])),
);
const whole = () => model.predict(input);
const use = async (s: { threads: number; mode: Scheduling }) => {
  await setThreads(s.threads);
  const kernels = activeKernels();
  if (kernels) kernels.scheduling = s.mode;
};
for (const s of settings) {
  await use(s);
  for (const kind of Object.keys(ops)) runAll(ops[kind]);
  whole(); // packs the weights, warms the kernels
}
const load0 = Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
for (let round = 0; round < ROUNDS; round++) {
  for (const s of round % 2 ? [...settings].reverse() : settings) {
    await use(s);
    for (const kind of kinds) {
      const fn = kind === "whole model" ? whole : () => runAll(rows[kind] as Op[]);
      for (let i = 0; i < RUNS; i++) {
        const t0 = performance.now();
        fn();
        times.get(`${kind} ${label(s)}`)!.push(performance.now() - t0);
      }
    }
  }
}
const load1 = Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
console.log(
  `\n## MobileNet v1 ${ALPHA}/224, 1 thread against 2 (${info.kernels} kernels, ` +
    `${navigator.hardwareConcurrency} cores): median ms of ${ROUNDS} x ${RUNS} runs, ` +
    `interleaved; load average ${load0} -> ${load1}\n`,
);
const headers = ["layers", ...settings.map(label)];
for (const s of settings.slice(1)) headers.push(`speed-up, ${s.mode}`);
console.log(markdownTable(
  headers,
  kinds.map((kind) => {
    const medians = settings.map((s) => median(times.get(`${kind} ${label(s)}`)!));
    const count = kind === "whole model" ? "" : ` (${(rows[kind] as Op[]).length})`;
    return [
      `${kind}${count}`,
      ...medians,
      ...medians.slice(1).map((m) => `${(medians[0] / m).toFixed(2)}x`),
    ];
  }),
  2,
));
await model.dispose();
input.dispose();
await shutdownBackend();
