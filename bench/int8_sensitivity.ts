/**
 * Which int8 layers hurt most? Ranks the int8 layers of a bundled model by how much closer to
 * float32 the model gets when that one layer alone runs float32 instead (everything else as
 * calibrated), measured on the **calibration** photos only (`../shared/imagenet`, 41 photos), so
 * the choice of layers to keep float32 never looks at the photos it is scored on
 * (`bench/int8_eval.ts`). Then keeps the first 1, 2, ... of that ranking float32 together and
 * prints the same measures for each.
 *
 * The measure: the mean Kullback-Leibler divergence KL(float32 || int8) of the class
 * probabilities over the photos (finer than top-1 agreement on 41 photos, where one photo is 2.4
 * points), with the photos whose top-1 differs from float32's beside it.
 *
 * `--calibration FILE` ranks under the `int8` field of another manifest (e.g. one `deno task
 * calibrate --wide all` wrote into a copy of the weights) instead of the shipped one.
 *
 * Run: deno run --allow-read --allow-env bench/int8_sensitivity.ts [--model 0.25_224]
 *      [--shared DIR] [--steps 8] [--calibration FILE]
 *
 * @module
 */
import { createMobileNet, type MobileNet } from "../mod.ts";
import { parseArgs } from "../src/cli/parse_args.ts";
import { loadWeights } from "../src/weights/loader.ts";
import { resolveModel } from "../src/bundled.ts";
import { architectureOptions } from "../src/weights/fit.ts";
import { photoInputs } from "../src/int8/calibrate.ts";
import { DEFAULT_RESIZE } from "../src/load.ts";
import { markdownTable } from "./_table.ts";
import type { WeightsManifest } from "../src/weights/manifest.ts";

const args = parseArgs(Deno.args, { string: ["model", "shared", "steps", "calibration"] });
const name = (args.model as string | undefined) ?? "0.25_224";
const steps = Number(args.steps ?? 8);
const dir = (args.shared as string | undefined) ??
  new URL("../../shared/", import.meta.url).pathname;

const { manifest, tensors } = await loadWeights(resolveModel(name));
const calibration = args.calibration
  ? (JSON.parse(await Deno.readTextFile(String(args.calibration))) as WeightsManifest).int8
  : manifest.int8;
if (!calibration) throw new Error(`${name} has no int8 calibration`);
const options = architectureOptions(manifest.model);
const size = options.resolution ?? 224;
const inputs: Float32Array[] = [];
for await (const x of photoInputs(`${dir}/imagenet/images`, size, DEFAULT_RESIZE)) inputs.push(x);

function probabilities(model: MobileNet): Float32Array[] {
  return inputs.map((data) => model.predict({ data, shape: [1, size, size, 3] }));
}

const argmax = (p: Float32Array) => p.reduce((best, v, i) => (v > p[best] ? i : best), 0);

/** Mean KL(float || q) and the photos whose top-1 differs. */
function distance(ref: Float32Array[], got: Float32Array[]): { kl: number; differ: number } {
  let kl = 0;
  let differ = 0;
  ref.forEach((p, i) => {
    const q = got[i];
    for (let c = 0; c < p.length; c++) {
      if (p[c] > 0) kl += p[c] * Math.log(p[c] / Math.max(q[c], 1e-30));
    }
    if (argmax(p) !== argmax(q)) differ++;
  });
  return { kl: kl / ref.length, differ };
}

/** The model's probabilities with the layers of `float` left float32. */
async function withFloat(float: readonly string[]): Promise<Float32Array[]> {
  const scales = { ...calibration!.scales };
  const means = { ...calibration!.means };
  const levels = { ...calibration!.levels };
  for (const layer of float) {
    delete scales[layer];
    delete means[layer];
    delete levels[layer];
  }
  const model = await createMobileNet(tensors, {
    ...options,
    precision: "int8",
    int8: { scales, means, levels },
  });
  try {
    return probabilities(model);
  } finally {
    await model.dispose();
  }
}

const floatModel = await createMobileNet(tensors, options);
const reference = probabilities(floatModel);
await floatModel.dispose();
const layers = Object.keys(calibration.scales);
const shipped = distance(reference, await withFloat([]));
const single: [string, number, number][] = [];
for (const layer of layers) {
  const d = distance(reference, await withFloat([layer]));
  single.push([layer, d.kl, d.differ]);
}
single.sort((a, b) => a[1] - b[1]);
const fmt = (kl: number) => kl.toExponential(2);
console.log(
  `### ${name}: ${inputs.length} calibration photos; as calibrated: KL ${
    fmt(shipped.kl)
  }, ${shipped.differ} differ\n`,
);
console.log(markdownTable(
  ["layer left float32 alone", "mean KL", "photos differing"],
  single.map(([l, kl, d]) => [l, fmt(kl), String(d)]),
));
const rows: string[][] = [];
for (let k = 1; k <= Math.min(steps, single.length); k++) {
  const float = single.slice(0, k).map((s) => s[0]);
  const d = distance(reference, await withFloat(float));
  rows.push([String(k), float.join(", "), fmt(d.kl), String(d.differ)]);
}
console.log("\n" + markdownTable(["k", "float32 layers", "mean KL", "photos differing"], rows));
