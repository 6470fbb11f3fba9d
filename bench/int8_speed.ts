/**
 * What a calibration costs in speed: one model as float32, as its bundled int8 calibration, and
 * as each other calibration given (the `int8` field of a manifest, e.g. an older one from git or
 * one `deno task calibrate` wrote into a copy of the weights), all in one process, timed
 * interleaved (round after round, each variant in turn), so that the machine's drift falls on
 * every variant alike. Prints each variant's median time of one `predict` (one preprocessed
 * image, the network alone) and its ratio to float32 and to the bundled int8.
 *
 * Run: deno run --allow-read --allow-env bench/int8_speed.ts [--model 0.25_224] [--threads 1]
 *      [--rounds 15] [--calibration FILE,FILE...]
 *
 * @module
 */
import { createMobileNet, loadMobileNet, type MobileNet } from "../mod.ts";
import { parseArgs } from "../src/cli/parse_args.ts";
import { loadWeights } from "../src/weights/loader.ts";
import { resolveModel } from "../src/bundled.ts";
import { architectureOptions } from "../src/weights/fit.ts";
import { median, mulberry32 } from "../src/_util.ts";
import type { WeightsManifest } from "../src/weights/manifest.ts";
import { markdownTable } from "./_table.ts";

const args = parseArgs(Deno.args, { string: ["model", "threads", "rounds", "calibration"] });
const name = (args.model as string | undefined) ?? "0.25_224";
const threads = Number(args.threads ?? 1);
const rounds = Number(args.rounds ?? 15);
const files = typeof args.calibration === "string" ? args.calibration.split(",") : [];

const { manifest, tensors } = await loadWeights(resolveModel(name));
const options = { ...architectureOptions(manifest.model), threads };
const variants: [string, MobileNet][] = [
  ["float32", await loadMobileNet({ model: name, threads })],
  ["int8 (bundled)", await loadMobileNet({ model: name, threads, precision: "int8" })],
];
for (const file of files) {
  const int8 = (JSON.parse(await Deno.readTextFile(file)) as WeightsManifest).int8;
  if (!int8) throw new Error(`${file} has no int8 field`);
  variants.push([
    `int8, ${file}`,
    await createMobileNet(tensors, { ...options, precision: "int8", int8 }),
  ]);
}
const size = options.resolution ?? 224;
const random = mulberry32(19);
const data = Float32Array.from({ length: size * size * 3 }, () => random() * 2 - 1);
const input = { data, shape: [1, size, size, 3] as [number, number, number, number] };
const PER_ROUND = 10;
const times = variants.map(() => [] as number[]);
for (const [, model] of variants) model.predict(input); // pack the filters, warm up
for (let r = 0; r < rounds; r++) {
  variants.forEach(([, model], i) => {
    const t0 = performance.now();
    for (let j = 0; j < PER_ROUND; j++) model.predict(input);
    times[i].push((performance.now() - t0) / PER_ROUND);
  });
}
const medians = times.map(median);
console.log(`### ${name}, ${threads} thread(s), ${rounds} interleaved rounds of ${PER_ROUND}\n`);
console.log(markdownTable(
  ["variant", "median ms", "/ float32", "/ bundled int8"],
  variants.map(([label], i) => [
    label,
    medians[i].toFixed(2),
    (medians[i] / medians[0]).toFixed(2),
    (medians[i] / medians[1]).toFixed(2),
  ]),
));
for (const [, model] of variants) await model.dispose();
