/**
 * Our pointwise kernels against XNNPACK's, interleaved in the same process so that background
 * load hits both alike (the ratios are what to read on a shared machine):
 *
 * 1. Per layer: the thirteen 1x1 convolutions of MobileNet v1 1.0/224 (`tf.fused.conv2d`, bias,
 *    relu6), GFLOP/s of ours and of XNNPACK's, and GFLOP/s-equivalent (the same 2 m k n
 *    operations) of our int8 kernel (`precision: "int8"`, input quantized in the call), on 1 and
 *    2 threads; and the total of the 13 depthwise 3x3 layers, ours and XNNPACK's.
 * 2. Model only: `predict` of 1.0/224 (random weights) and 0.75/224 (bundled) on 1 and 2
 *    threads, ours against XNNPACK's.
 *
 * Each kernel build runs in its own subprocess: the default (`auto`: relaxed SIMD here) and
 * `MOBILENET_EDGE_KERNELS=simd-muladd`. `deno task bench` calls {@linkcode pointwiseReport};
 * alone: `deno run -A bench/pointwise_bench.ts [--runs N] [--builds auto,simd-muladd]
 * [--stat median|min]`.
 *
 * @module
 */
import { markdownTable } from "./_table.ts";
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import { median } from "../src/_util.ts";
import { parseArgs } from "../src/cli/parse_args.ts";
import { backendInfo, createMobileNet, loadMobileNet, randomWeights, setThreads } from "../mod.ts";
import { activeKernels } from "../src/backend/wasm.ts";
import { INT8_KERNEL } from "../src/backend/pointwise/int8.ts";
import { initBackend } from "../src/backend/wasm.ts";

/** The thirteen pointwise layers of MobileNet v1 1.0/224: [height = width, in, out]. */
export const POINTWISE_LAYERS: [number, number, number][] = [
  [112, 32, 64],
  [56, 64, 128],
  [56, 128, 128],
  [28, 128, 256],
  [28, 256, 256],
  [14, 256, 512],
  [14, 512, 512],
  [14, 512, 512],
  [14, 512, 512],
  [14, 512, 512],
  [14, 512, 512],
  [7, 512, 1024],
  [7, 1024, 1024],
];

/** The depthwise 3x3 layers of 1.0/224: [input size, channels, stride]. */
const DEPTHWISE_LAYERS: [number, number, number][] = [
  [112, 32, 1],
  [112, 64, 2],
  [56, 128, 1],
  [56, 128, 2],
  [28, 256, 1],
  [28, 256, 2],
  ...Array.from({ length: 5 }, (): [number, number, number] => [14, 512, 1]),
  [14, 512, 2],
  [7, 1024, 1],
];

interface ChildReport {
  build: string;
  kernels: string;
  reason: string;
  /** Per pointwise layer and thread count: [ours ms, xnnpack ms, ours int8 ms (NaN: none)]. */
  layers: Record<string, [number, number, number][]>;
  /** Which int8 kernels ran. */
  int8: string;
  /** Depthwise layers' total ms per thread count: [ours, XNNPACK]. */
  depthwise: Record<string, [number, number]>;
  /** Model-only medians: name -> threads -> [ours, xnnpack]. */
  model: Record<string, Record<string, [number, number]>>;
}

/**
 * The statistic of a sample: `median` (default) or `min` (`--stat min`: on a machine shared with
 * other work, the least disturbed run).
 */
let statistic: (values: number[]) => number = median;

/**
 * Times `fns` in turn, `runs` times each after `warmup`, the order reversed every other round;
 * returns their statistics.
 */
function interleaved(fns: (() => void)[], runs: number, warmup = 3): number[] {
  const times = fns.map((): number[] => []);
  for (let i = 0; i < warmup; i++) fns.forEach((fn) => fn());
  const order = fns.map((_, j) => j);
  for (let i = 0; i < runs; i++) {
    for (const j of i % 2 ? order.toReversed() : order) {
      const t0 = performance.now();
      fns[j]();
      times[j].push(performance.now() - t0);
    }
  }
  return times.map((t) => statistic(t));
}

type Kernels = NonNullable<ReturnType<typeof activeKernels>>;

/** Our kernels on the running backend, their workers ready. */
async function installed(): Promise<Kernels> {
  const kernels = activeKernels();
  if (!kernels) throw new Error(`our kernels are not installed: ${backendInfo()!.reason}`);
  await kernels.ready;
  return kernels;
}

/**
 * Ours and XNNPACK's on one op, interleaved: [ours, XNNPACK], and with `extra` (run with our
 * kernels) its time third.
 */
function versus(
  kernels: Kernels,
  op: () => unknown,
  runs: number,
  extra?: () => unknown,
): number[] {
  const with_ = (on: boolean, fn = op) => () => {
    if (on) kernels.enable();
    else kernels.disable();
    const result = fn();
    if (result instanceof tf.Tensor) result.dispose();
  };
  const fns = [with_(true), with_(false), ...(extra ? [with_(true, extra)] : [])];
  const result = interleaved(fns, runs);
  kernels.enable();
  return result;
}

/** The 13 pointwise layers, each: [ours, XNNPACK, ours int8 (NaN: no int8 kernels)] ms. */
function pointwiseLayers(kernels: Kernels, runs: number): [number, number, number][] {
  return POINTWISE_LAYERS.map(([size, cin, cout]) => {
    const x = tf.randomUniform([1, size, size, cin], 0, 6) as tf.Tensor4D; // ReLU6 outputs
    const filter = tf.randomNormal([1, 1, cin, cout], 0, 0.1) as tf.Tensor4D;
    const bias = tf.randomNormal([cout]) as tf.Tensor1D;
    const mean = tf.fill([cin], 2) as tf.Tensor1D;
    const conv = () =>
      tf.fused.conv2d({ x, filter, bias, strides: 1, pad: "same", activation: "relu6" });
    const int8 = () =>
      tf.engine().runKernel(INT8_KERNEL, { x, filter, bias, mean }, {
        scale: 6 / 127,
        activation: "relu6",
      });
    const [ours, xnn, q = NaN] = versus(
      kernels,
      conv,
      runs,
      kernels.int8 === "none" ? undefined : int8,
    );
    tf.dispose([x, filter, bias, mean]);
    return [ours, xnn, q];
  });
}

/** The 13 depthwise layers, summed: [ours, XNNPACK] ms. */
function depthwiseLayers(kernels: Kernels, runs: number): [number, number] {
  const total: [number, number] = [0, 0];
  for (const [size, channels, stride] of DEPTHWISE_LAYERS) {
    const x = tf.randomUniform([1, size, size, channels], -1, 1) as tf.Tensor4D;
    const filter = tf.randomNormal([3, 3, channels, 1], 0, 0.1) as tf.Tensor4D;
    const bias = tf.randomNormal([channels]) as tf.Tensor1D;
    const strides = stride as 1 | 2;
    const dw = () =>
      tf.fused.depthwiseConv2d({ x, filter, bias, strides, pad: "same", activation: "relu6" });
    const [a, b] = versus(kernels, dw, runs);
    total[0] += a;
    total[1] += b;
    tf.dispose([x, filter, bias]);
  }
  return total;
}

/** Model-only medians, 1 and 2 threads: name -> threads -> [ours, XNNPACK]. */
async function models(runs: number): Promise<ChildReport["model"]> {
  const list: [string, () => ReturnType<typeof loadMobileNet>][] = [
    ["1.0/224", () => createMobileNet(randomWeights({ alpha: 1 }), { alpha: 1, threads: 2 })],
    ["0.75/224", () => loadMobileNet({ model: "0.75_224", threads: 2 })],
  ];
  const out: ChildReport["model"] = {};
  for (const [name, load] of list) {
    const model = await load();
    const kernels = await installed(); // the backend restarts once the previous model is gone
    const input = { data: new Float32Array(224 * 224 * 3), shape: [1, 224, 224, 3] } as {
      data: Float32Array;
      shape: [1, 224, 224, 3];
    };
    out[name] = {};
    for (const threads of [1, 2]) {
      await setThreads(threads);
      out[name][threads] = versus(kernels, () => model.predict(input), runs) as [number, number];
    }
    await model.dispose();
  }
  return out;
}

async function child(runs: number, build: string, stat: string): Promise<ChildReport> {
  if (stat === "min") statistic = (values) => Math.min(...values);
  await initBackend({ threads: 2, adaptive: false });
  const kernels = await installed();
  const report: ChildReport = {
    build,
    kernels: backendInfo()!.kernels ?? "?",
    int8: backendInfo()!.int8?.kernels ?? "none",
    reason: backendInfo()!.reason,
    layers: {},
    depthwise: {},
    model: {},
  };
  for (const threads of [1, 2]) {
    await setThreads(threads);
    report.layers[threads] = pointwiseLayers(kernels, runs);
    report.depthwise[threads] = depthwiseLayers(kernels, runs);
  }
  report.model = await models(runs);
  return report;
}

async function runChild(runs: number, build: string, stat: string): Promise<ChildReport> {
  const env: Record<string, string> = {};
  if (build !== "auto") env.MOBILENET_EDGE_KERNELS = build;
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      "--child",
      build,
      "--runs",
      String(runs),
      "--stat",
      stat,
    ],
    env,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`pointwise bench child (${build}) failed`);
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
}

const gflops = (size: number, cin: number, cout: number, ms: number) =>
  (2 * size * size * cin * cout) / (ms * 1e6);

function print(reports: ChildReport[]): void {
  for (const r of reports) {
    console.log(`\n### ${r.kernels} against XNNPACK (${r.reason.replace(/^.*kernels: /, "")})\n`);
    const rows: (string | number)[][] = POINTWISE_LAYERS.map(([size, cin, cout], i) => {
      const row: (string | number)[] = [`${size}x${size} ${cin}->${cout}`];
      for (const t of ["1", "2"]) {
        const [ours, xnn, int8] = r.layers[t][i];
        row.push(
          gflops(size, cin, cout, ours),
          gflops(size, cin, cout, xnn),
          `${(xnn / ours).toFixed(2)}x`,
          gflops(size, cin, cout, int8),
          `${(ours / int8).toFixed(2)}x`,
        );
      }
      return row;
    });
    const total = (t: string, j: 0 | 1 | 2) => r.layers[t].reduce((s, v) => s + v[j], 0);
    const totals = (t: string) => [
      total(t, 0),
      total(t, 1),
      `${(total(t, 1) / total(t, 0)).toFixed(2)}x`,
      total(t, 2),
      `${(total(t, 0) / total(t, 2)).toFixed(2)}x`,
    ];
    rows.push(["all 13 (ms)", ...totals("1"), ...totals("2")]);
    const columns = (t: string) => [
      `ours ${t}T`,
      `XNNPACK ${t}T`,
      "XNNPACK/ours",
      `int8 ${t}T`,
      "ours/int8",
    ];
    console.log(`\nint8: ${r.int8} (GFLOP/s-equivalent: the float32 layer's 2 m k n operations)\n`);
    console.log(markdownTable(["layer (GFLOP/s)", ...columns("1"), ...columns("2")], rows, 2));
    const dw = (t: string) =>
      `${r.depthwise[t][0].toFixed(2)} ms ours, ${r.depthwise[t][1].toFixed(2)} ms XNNPACK (${
        (r.depthwise[t][1] / r.depthwise[t][0]).toFixed(2)
      }x)`;
    console.log(`\nThe 13 depthwise 3x3 layers: 1 thread ${dw("1")}; 2 threads ${dw("2")}`);
    console.log("\nModel only (predict, batch 1), ms:\n");
    console.log(markdownTable(
      ["model", "threads", "ours", "XNNPACK", "XNNPACK / ours"],
      Object.entries(r.model).flatMap(([name, byThreads]) =>
        Object.entries(byThreads).map((
          [t, [ours, xnn]],
        ) => [name, t, ours, xnn, `${(xnn / ours).toFixed(2)}x`])
      ),
      2,
    ));
  }
}

/** Runs each build in its own subprocess and prints the tables (`deno task bench` calls it). */
export async function pointwiseReport(
  runs = 30,
  builds = ["auto", "simd-muladd"],
  stat = "median",
): Promise<void> {
  console.log(`\n## Our pointwise kernels against XNNPACK (interleaved, ${stat}s of ${runs})`);
  const reports: ChildReport[] = [];
  for (const build of builds) reports.push(await runChild(runs, build, stat));
  print(reports);
}

if (import.meta.main) {
  const args = parseArgs(Deno.args, { string: ["runs", "child", "builds", "stat"] });
  const stat = args.stat === "min" ? "min" : "median";
  const runs = Number(args.runs ?? 30);
  if (typeof args.child === "string") {
    console.log(JSON.stringify(await child(runs, args.child, stat)));
    Deno.exit(0);
  }
  const builds = typeof args.builds === "string" ? args.builds.split(",") : undefined;
  await pointwiseReport(runs, builds, stat);
}
