/**
 * Is int8 as accurate as float32? Scores both precisions of each bundled model on labelled
 * photos that calibration never saw (`../shared/imagenet-eval` and `../shared/imagenet-more`,
 * 398 photos; the bundled calibration used `../shared/imagenet`), through the shipped image path
 * (`classifyDetailed(bytes)`, default resize). Prints, per model: top-1 of each precision with
 * 95% Wilson intervals, their difference in points with McNemar's exact test, the photos where
 * both give the same top-1 (with its interval), and the largest difference of the top class's
 * probability.
 *
 * `--ablation` adds two int8 variants built from the same weights with `createMobileNet`: the
 * calibrated scales without the means (no bias correction), and no calibration at all (ReLU6's
 * whole range, no means): what each part of the scheme is worth. `--calibration-set` scores the
 * 41 calibration photos too (apart). `--float LAYERS` adds the shipped calibration with those
 * layers float32; `--calibration FILE` the `int8` field of another manifest (e.g. one written by
 * `deno task calibrate` into a copy of the weights), to score a calibration before shipping it.
 *
 * Run: deno run --allow-read --allow-env --allow-sys bench/int8_eval.ts [--shared DIR]
 *      [--models 0.75_224,0.25_224] [--ablation] [--calibration-set] [--float LAYERS]
 *      [--calibration FILE]
 *
 * @module
 */
import { createMobileNet, loadMobileNet, type MobileNet } from "../mod.ts";
import { parseArgs } from "../src/cli/parse_args.ts";
import { loadWeights } from "../src/weights/loader.ts";
import { resolveModel } from "../src/bundled.ts";
import { architectureOptions } from "../src/weights/fit.ts";
import { mcnemarExact, type Photo, readSet, wilson } from "./crop_eval.ts";
import { markdownTable } from "./_table.ts";
import type { WeightsManifest } from "../src/weights/manifest.ts";

type Calibration = NonNullable<WeightsManifest["int8"]>;

/** What one model variant answered on one photo. */
interface Answer {
  top1: number;
  probability: number;
}

/** `calibration` without the layers of `float` (which then run float32). */
function withoutLayers(calibration: Calibration, float: string[]): Calibration {
  const drop = <T>(r: Record<string, T> | undefined) =>
    r && Object.fromEntries(Object.entries(r).filter(([l]) => !float.includes(l)));
  return { ...calibration, scales: drop(calibration.scales)!, means: drop(calibration.means) };
}

async function answers(model: MobileNet, root: URL, photos: Photo[]): Promise<Answer[]> {
  const out: Answer[] = [];
  for (const photo of photos) {
    const bytes = await Deno.readFile(new URL(`${photo.set}/images/${photo.file}`, root));
    const { predictions } = await model.classifyDetailed(bytes, { topK: 1 });
    out.push({ top1: predictions[0].index, probability: predictions[0].probability });
  }
  return out;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const interval = (k: number, n: number) => {
  const [lo, hi] = wilson(k, n);
  return `${k}/${n} ${pct(k / n)} [${pct(lo)}, ${pct(hi)}]`;
};

/** The int8 variants of `name`: the shipped one, and with `ablation` the two reduced ones. */
async function variants(name: string, ablation: boolean): Promise<[string, MobileNet][]> {
  const shipped = await loadMobileNet({ model: name, precision: "int8" });
  const out: [string, MobileNet][] = [[`int8 (${shipped.precision})`, shipped]];
  if (!ablation && !FLOAT && !CALIBRATION) return out;
  const { manifest, tensors } = await loadWeights(resolveModel(name));
  const options = { ...architectureOptions(manifest.model), precision: "int8" as const };
  const scales = manifest.int8?.scales;
  if (FLOAT && manifest.int8) {
    const int8 = withoutLayers(manifest.int8, FLOAT);
    out.push([
      `int8, float32: ${FLOAT.join(", ")}`,
      await createMobileNet(tensors, { ...options, int8 }),
    ]);
  }
  if (CALIBRATION) {
    const int8 = (JSON.parse(await Deno.readTextFile(CALIBRATION)) as WeightsManifest).int8;
    if (!int8) throw new Error(`${CALIBRATION} has no int8 field`);
    out.push([`int8, ${CALIBRATION}`, await createMobileNet(tensors, { ...options, int8 })]);
  }
  if (!ablation) return out;
  if (scales) {
    const levels = manifest.int8?.levels;
    const model = await createMobileNet(tensors, { ...options, int8: { scales, levels } });
    out.push(["int8, no bias correction", model]);
  }
  out.push(["int8, uncalibrated", await createMobileNet(tensors, options)]);
  return out;
}

async function evaluate(name: string, root: URL, photos: Photo[], ablation: boolean) {
  const float = await loadMobileNet({ model: name });
  const reference = await answers(float, root, photos);
  const correct = (a: Answer[]) => a.filter((x, i) => x.top1 === photos[i].index).length;
  const n = photos.length;
  const rows: string[][] = [["float32", interval(correct(reference), n), "-", "-", "-", "-"]];
  for (const [label, model] of await variants(name, ablation)) {
    const got = await answers(model, root, photos);
    await model.dispose();
    const same = got.filter((a, i) => a.top1 === reference[i].top1).length;
    const onlyFloat = got.filter((a, i) =>
      reference[i].top1 === photos[i].index && a.top1 !== photos[i].index
    ).length;
    const onlyInt8 = got.filter((a, i) =>
      reference[i].top1 !== photos[i].index && a.top1 === photos[i].index
    ).length;
    const points = (100 * (correct(got) - correct(reference))) / n;
    const diff = Math.max(
      ...got.map((a, i) =>
        a.top1 === reference[i].top1 ? Math.abs(a.probability - reference[i].probability) : 0
      ),
    );
    rows.push([
      label,
      interval(correct(got), n),
      `${points >= 0 ? "+" : ""}${points.toFixed(1)} (${onlyInt8} / ${onlyFloat}, p ${
        mcnemarExact(onlyInt8, onlyFloat).toFixed(2)
      })`,
      interval(same, n),
      diff.toFixed(3),
      same / n >= 0.97 && points >= -1 ? "yes" : "no",
    ]);
  }
  await float.dispose();
  return markdownTable([
    "precision",
    "top-1 [95% Wilson]",
    "points vs float (only int8 / only float right, McNemar p)",
    "same top-1 as float [95% Wilson]",
    "max |dp| top class (same top-1)",
    "targets met (same top-1 >= 97%, top-1 at most 1 point lower)",
  ], rows);
}

const args = parseArgs(Deno.args, {
  string: ["shared", "models", "float", "calibration"],
  boolean: ["ablation", "calibration-set"],
});
const dir = (args.shared as string | undefined) ??
  new URL("../../shared/", import.meta.url).pathname;
const root = new URL(`file://${dir.replace(/\/?$/, "/")}`);
const FLOAT = typeof args.float === "string" ? args.float.split(",") : undefined;
const CALIBRATION = args.calibration as string | undefined;
const models = ((args.models as string | undefined) ?? "0.75_224,0.25_224").split(",");
const sets: [string, Photo[]][] = [[
  "imagenet-eval + imagenet-more (never calibrated on)",
  [...await readSet(root, "imagenet-eval"), ...await readSet(root, "imagenet-more")],
]];
if (args["calibration-set"]) {
  sets.push(["imagenet (the calibration photos)", await readSet(root, "imagenet")]);
}
console.log(`uptime: ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")} (load average)`);
for (const name of models) {
  for (const [label, photos] of sets) {
    const t0 = performance.now();
    const table = await evaluate(name, root, photos, args.ablation === true);
    const seconds = ((performance.now() - t0) / 1000).toFixed(0);
    console.log(`\n### ${name}, ${label}: ${photos.length} photos (${seconds} s)\n\n${table}`);
  }
}
