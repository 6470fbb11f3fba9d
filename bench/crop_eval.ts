/**
 * Which resize mode should be the default for photos? Scores every resize mode of the library
 * ("stretch", "center-crop", "center-crop-87.5") on the labelled photos of `../shared/`
 * (`imagenet/`: the 41 development photos; `imagenet-eval/`: 198 more, one per class, none of
 * them among the 41), for both bundled models, through the shipped image path
 * (`model.classifyDetailed(bytes, { resize })`: JPEG decode, resize, scale, network). Prints,
 * per model, top-1 and top-5 with 95% Wilson intervals, and for each pair of modes McNemar's
 * exact test on the photos where exactly one of the two is right (two-sided binomial, p = 1/2).
 *
 * The photos are not in this repository (ImageNet terms); the script reads them where they
 * are and never copies them.
 *
 * `--frames` scores the largest centred 16:9 rectangle of each photo instead (decoded, cut, and
 * passed as raw pixels): a camera's framing of the same scene, where "center-crop" keeps only
 * 56% of the frame.
 *
 * Run: deno run --allow-read --allow-env bench/crop_eval.ts [--shared DIR] [--frames] [--json]
 *
 * @module
 */
import { loadMobileNet, type MobileNet, type RawImage, type ResizeMode } from "../mod.ts";
import { RESIZE_MODES } from "../src/image/preprocess.ts";
import { decodeImage } from "../src/image/decode.ts";
import type { Pixels } from "../src/image/pixels.ts";

/** A labelled photo. */
export interface Photo {
  /** Which set it is from ("imagenet" or "imagenet-eval"). */
  set: string;
  /** Its file name. */
  file: string;
  /** Its ImageNet class index. */
  index: number;
}

/** Whether one mode got one photo right. */
export interface Outcome {
  /** The true class is the most probable. */
  top1: boolean;
  /** The true class is among the five most probable. */
  top5: boolean;
}

/** z for a two-sided 95% interval. */
const Z95 = 1.959963984540054;

/** The 95% Wilson score interval of `k` successes in `n` trials, as fractions. */
export function wilson(k: number, n: number, z = Z95): [number, number] {
  if (n === 0) return [0, 1];
  const p = k / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/**
 * McNemar's exact test: `b` pairs where only the first is right, `c` where only the second is.
 * Two-sided p of the binomial(b + c, 1/2) test, 1 when there is no discordant pair.
 */
export function mcnemarExact(b: number, c: number): number {
  const n = b + c;
  if (n === 0) return 1;
  // Sum C(n, i) / 2^n for i <= min(b, c), in logs so large n stays finite.
  let logC = 0; // log C(n, 0)
  let tail = 0;
  for (let i = 0; i <= Math.min(b, c); i++) {
    if (i > 0) logC += Math.log(n - i + 1) - Math.log(i);
    tail += Math.exp(logC - n * Math.LN2);
  }
  return Math.min(1, 2 * tail);
}

/** Reads `labels.csv` of a set (`file,class_index,...`). */
export async function readSet(root: URL, set: string): Promise<Photo[]> {
  const text = await Deno.readTextFile(new URL(`${set}/labels.csv`, root));
  return text.trim().split("\n").slice(1).map((line) => {
    const [file, index] = line.split(",");
    return { set, file, index: Number(index) };
  });
}

/**
 * The largest centred 16:9 landscape rectangle of a photo, as raw pixels: what a camera
 * framing the same scene around the same centre would deliver.
 */
export function frame16x9(pixels: Pixels): RawImage {
  const { data, width, height, channels } = pixels;
  const w = width * 9 > height * 16 ? Math.round((height * 16) / 9) : width;
  const h = w === width ? Math.round((width * 9) / 16) : height;
  const x0 = Math.floor((width - w) / 2);
  const y0 = Math.floor((height - h) / 2);
  const out = new Uint8Array(w * h * channels);
  for (let y = 0; y < h; y++) {
    const from = ((y0 + y) * width + x0) * channels;
    out.set(data.subarray(from, from + w * channels), y * w * channels);
  }
  return { data: out, width: w, height: h, channels };
}

/**
 * Classifies every photo in every mode; outcomes by mode, in photo order. `frames`: classify
 * the photo's centred 16:9 rectangle (decoded at full size) instead of its bytes.
 */
async function evaluate(
  model: MobileNet,
  root: URL,
  photos: Photo[],
  frames = false,
): Promise<Map<ResizeMode, Outcome[]>> {
  const results = new Map<ResizeMode, Outcome[]>(RESIZE_MODES.map((m) => [m, []]));
  for (const photo of photos) {
    const bytes = await Deno.readFile(new URL(`${photo.set}/images/${photo.file}`, root));
    const image = frames ? frame16x9(await decodeImage(bytes)) : bytes;
    for (const resize of RESIZE_MODES) {
      const { predictions } = await model.classifyDetailed(image, { topK: 5, resize });
      results.get(resize)!.push({
        top1: predictions[0].index === photo.index,
        top5: predictions.some((p) => p.index === photo.index),
      });
    }
  }
  return results;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** `k/n (p%) [lo, hi]`. */
function score(outcomes: Outcome[], key: keyof Outcome): string {
  const k = outcomes.filter((o) => o[key]).length;
  const n = outcomes.length;
  const [lo, hi] = wilson(k, n);
  return `${k}/${n} ${pct(k / n)} [${pct(lo)}, ${pct(hi)}]`;
}

/** The markdown table of one model: one row per mode, per set and all photos. */
function accuracyTable(results: Map<ResizeMode, Outcome[]>, photos: Photo[]): string {
  const sets = [...new Set(photos.map((p) => p.set))];
  const lines = [
    `| mode | top-1 (all ${photos.length}) | top-5 (all ${photos.length}) | ${
      sets.map((s) => `top-1 ${s}`).join(" | ")
    } |`,
    `| --- | ---: | ---: | ${sets.map(() => "---:").join(" | ")} |`,
  ];
  for (const [mode, outcomes] of results) {
    const bySet = sets.map((s) => {
      const part = outcomes.filter((_, i) => photos[i].set === s);
      return `${part.filter((o) => o.top1).length}/${part.length}`;
    });
    lines.push(
      `| ${mode} | ${score(outcomes, "top1")} | ${score(outcomes, "top5")} | ${
        bySet.join(" | ")
      } |`,
    );
  }
  return lines.join("\n");
}

/** McNemar's exact test between every pair of modes, on top-1 and top-5. */
function mcnemarTable(results: Map<ResizeMode, Outcome[]>): string {
  const lines = [
    "| A vs B | top-1: only A right / only B right | p | top-5: only A / only B | p |",
    "| --- | ---: | ---: | ---: | ---: |",
  ];
  const modes = [...results.keys()];
  for (let i = 0; i < modes.length; i++) {
    for (let j = i + 1; j < modes.length; j++) {
      const a = results.get(modes[i])!;
      const b = results.get(modes[j])!;
      const cells = (["top1", "top5"] as const).map((key) => {
        const onlyA = a.filter((o, n) => o[key] && !b[n][key]).length;
        const onlyB = a.filter((o, n) => !o[key] && b[n][key]).length;
        return `${onlyA} / ${onlyB} | ${mcnemarExact(onlyA, onlyB).toFixed(3)}`;
      });
      lines.push(`| ${modes[i]} vs ${modes[j]} | ${cells.join(" | ")} |`);
    }
  }
  return lines.join("\n");
}

async function main(args: string[]): Promise<number> {
  const at = args.indexOf("--shared");
  const dir = at >= 0 ? args[at + 1] : new URL("../../shared/", import.meta.url).pathname;
  const root = new URL(`file://${dir.replace(/\/?$/, "/")}`);
  let photos: Photo[];
  try {
    photos = [...await readSet(root, "imagenet"), ...await readSet(root, "imagenet-eval")];
  } catch (error) {
    console.error(
      `cannot read the labelled photos under ${root.pathname} (imagenet/ and imagenet-eval/ ` +
        `with labels.csv; pass --shared DIR): ${(error as Error).message}`,
    );
    return 1;
  }
  const json: Record<string, Record<string, Outcome[]>> = {};
  const frames = args.includes("--frames");
  for (const name of ["0.75_224", "0.25_224"]) {
    const model = await loadMobileNet({ model: name });
    const t0 = performance.now();
    const results = await evaluate(model, root, photos, frames);
    await model.dispose();
    json[name] = Object.fromEntries(results);
    const what = frames ? ", the centred 16:9 rectangle of each photo" : "";
    console.log(`\n### ${name}${what} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
    console.log(accuracyTable(results, photos));
    console.log("");
    console.log(mcnemarTable(results));
  }
  if (args.includes("--json")) {
    console.log(JSON.stringify({ photos, results: json }));
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
