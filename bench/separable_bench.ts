/**
 * Our depthwise-separable block kernel against two kernels per block, in one process on 2
 * threads, interleaved round by round (this VM drifts): a network of the bundled weights
 * (`--model`, default 0.75_224) run with the block kernel cut each way `PointwiseKernels.bands`
 * allows, and without it. Prints each variant's median and its speed against two kernels; the
 * outputs are checked to be bit for bit the same.
 *
 * Run: `deno run -A bench/separable_bench.ts [--model 0.75_224] [--rounds 25]`
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import { parseArgs } from "../src/cli/parse_args.ts";
import { median } from "../src/_util.ts";
import { activeKernels, initBackend } from "../src/backend/wasm.ts";
import type { Bands } from "../src/backend/pointwise/install.ts";
import { buildArchitecture } from "../src/model/architecture.ts";
import { MobileNetNetwork } from "../src/model/mobilenet.ts";
import { loadWeights } from "../src/weights/loader.ts";
import { markdownTable } from "./_table.ts";

const args = parseArgs(Deno.args, { string: ["model", "rounds"] });
const model = String(args.model ?? "0.75_224");
await initBackend({ threads: 2, adaptive: false });
const kernels = activeKernels();
if (!kernels) throw new Error("our kernels are not running");
await kernels.ready;
const { manifest, tensors } = await loadWeights(
  new URL(`../weights/mobilenet_v1_${model}/`, import.meta.url),
);
const arch = buildArchitecture({ alpha: manifest.model.alpha });
const build = (separable: boolean) => {
  const network = new MobileNetNetwork(arch, {
    packing: kernels.filterPacking,
    separable: separable ? kernels.separable : undefined,
  });
  for (const [name, data] of tensors) network.addWeight(name, data);
  return network;
};
const [two, one] = [build(false), build(true)];
const input = tf.randomUniform([1, 224, 224, 3], -1, 1, "float32", 1) as tf.Tensor4D;
const run = (network: MobileNetNetwork) => tf.tidy(() => network.run(input, "logits").dataSync());
const DEFAULT_CUT: Bands = {
  perThread: 0,
  minRows: 4,
  scheduling: "affinity",
  groups: false,
  chunkMacs: 0,
};
const cut = (bands: Partial<Bands>) => () => {
  kernels.bands = { ...DEFAULT_CUT, ...bands };
  return run(one);
};
const variants: [string, () => Float32Array | Int32Array | Uint8Array][] = [
  ["two kernels per block", () => run(two)],
  ["block kernel (default: halving bands of pixels, to 0.5M multiply-adds)", cut({})],
  ["block kernel, halving bands to 0.15M multiply-adds", cut({ chunkMacs: 150_000 })],
  ["block kernel, halving bands to 1M multiply-adds", cut({ chunkMacs: 1_000_000 })],
  ["block kernel, halving bands to 2M multiply-adds", cut({ chunkMacs: 2_000_000 })],
  ["block kernel, dynamic bands", cut({ scheduling: "dynamic" })],
  ["block kernel, column groups", cut({ groups: true })],
  ["block kernel, 1 band a thread", cut({ perThread: 1 })],
  ["block kernel, 4 bands a thread", cut({ perThread: 4 })],
];
const reference = run(two);
for (const [name, fn] of variants) {
  if (!fn().every((v, i) => v === reference[i])) throw new Error(`${name}: other values`);
}
const times = variants.map(() => [] as number[]);
for (let round = 0; round < Number(args.rounds ?? 25); round++) {
  variants.forEach(([, fn], i) => {
    fn();
    const t0 = performance.now();
    for (let j = 0; j < 10; j++) fn();
    times[i].push((performance.now() - t0) / 10);
  });
}
kernels.bands = DEFAULT_CUT;
const base = median(times[0]);
console.log(`\n## ${model}, 2 threads: the block kernel against two kernels per block\n`);
console.log(markdownTable(
  ["variant", "median ms", "speed"],
  variants.map((
    [name],
    i,
  ) => [name, median(times[i]).toFixed(2), `${(base / median(times[i])).toFixed(3)}x`]),
));
Deno.exit(0);
