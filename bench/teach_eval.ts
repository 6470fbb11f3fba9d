/**
 * How good are taught heads? (issue 20). Prints Markdown tables:
 *
 * 1. **Few-shot groups.** The developer photos of `../shared/` (`imagenet/`, `imagenet-eval/`,
 *    `imagenet-more/`) that fall in the 9 ImageNet-9 groups (`imagenet-more/in9_groups.csv`);
 *    each photo is a different fine class. Per draw, `k` photos of each group teach (at most all
 *    but one of the group), and the other photos of the group, fine classes never seen, test.
 *    Mean ± sd over seeded draws, for k = 1, 3, 5, 10, 20. Compared: the head `teach` makes
 *    (`fitHead`, the same code on the same features), the head without the WordNet hierarchy
 *    block, kNN k=3 (knn-classifier's method: cosine on the embedding, majority of 3, a tie
 *    to the nearest), the nearest centroid, and plain logistic regression on the embedding
 *    (its strength cross-validated the same way).
 * 2. **Unknown.** At k = 10: the share of photos of classes outside the groups flagged
 *    `unknown`, and of the test photos of the groups (known groups, unseen fine classes) passing.
 * 3. **Camera states.** `bench/teach_scene.ts`: a front door under changing light, "package" or
 *    "empty"; 10 frames per state teach, 100 new frames with packages never seen test. Packages
 *    are generated boxes, or objects cut from the developer photos (those of `imagenet/` teach,
 *    those of `imagenet-eval/` test). With the doorstep zone, and on the whole frame.
 * 4. **Augmentation.** The head's accuracy with each kind of extra view, on both tasks: the
 *    evidence behind `teach`'s default.
 * 5. **Time and determinism.** `teach` end to end on 90 photos (10 per group: decode, embed,
 *    cross-validate, fit), median of 3; the heads of the 3 runs must be identical, and identical
 *    to `fitHead` on the cached features (what this bench scores).
 * 6. **Categories.** The WordNet head of the 9 group names on the same photos (no teaching).
 *
 * The photos are not in this repository (ImageNet terms); the bench reads them where they are.
 *
 * Run: deno run --allow-read --allow-env bench/teach_eval.ts [--model 0.75_224] [--draws 10]
 * [--shared DIR] (about 18 minutes with 10 draws on 2 busy cores; the camera part uses half the
 * draws, at least 3).
 *
 * @module
 */
import { Head, loadMobileNet, type MobileNet } from "../mod.ts";
import { decodeImage } from "../src/image/decode.ts";
import { minSourceSide, type ResizeMode, type Zone } from "../src/image/preprocess.ts";
import type { Pixels } from "../src/image/pixels.ts";
import {
  blocksOf,
  type Embedded,
  embedViews,
  fitHead,
  teach,
  type TeachSettings,
  type ViewOutput,
} from "../src/head/teach.ts";
import { FEATURE_NAMES, type FeatureName } from "../src/head/features.ts";
import type { Augmentation } from "../src/head/augment.ts";
import { median, mulberry32 } from "../src/_util.ts";
import { parseArgs } from "../src/cli/parse_args.ts";
import { markdownTable } from "./_table.ts";
import { DOORSTEP, type SceneFrame, sceneFrame } from "./teach_scene.ts";

/** One example as the bench keeps it: the model's outputs for each view, and its class. */
interface Item {
  /** Outputs per view: plain, flip, light x0.7, light x1.3, crop, crop. */
  views: ViewOutput[];
  /** Its class. */
  label: number;
}

/** The view indices each augmentation adds (the order `augment.ts` makes them in). */
const VIEW_INDICES: Record<Augmentation, number[]> = { flip: [1], light: [2, 3], crop: [4, 5] };
const ALL_AUGMENT: Augmentation[] = ["flip", "light", "crop"];

const GROUP_SYNSETS = [
  "dog",
  "bird",
  "wheeled_vehicle",
  "reptile",
  "carnivore",
  "insect",
  "musical_instrument",
  "primate",
  "fish",
];

/** A labelled photo of the shared sets. */
interface Photo {
  set: string;
  file: string;
  index: number;
}

async function readPhotos(root: URL): Promise<Photo[]> {
  const out: Photo[] = [];
  for (const set of ["imagenet", "imagenet-eval", "imagenet-more"]) {
    const text = await Deno.readTextFile(new URL(`${set}/labels.csv`, root));
    for (const line of text.trim().split(/\r?\n/).slice(1)) {
      const [file, index] = line.trim().split(",");
      out.push({ set, file, index: Number(index) });
    }
  }
  return out;
}

async function readGroups(root: URL): Promise<Map<number, string>> {
  const text = await Deno.readTextFile(new URL("imagenet-more/in9_groups.csv", root));
  return new Map(
    text.trim().split(/\r?\n/).slice(1).map((line) => {
      const [index, , group] = line.trim().split(",");
      return [Number(index), group];
    }),
  );
}

async function decodeFor(model: MobileNet, bytes: Uint8Array, s: TeachSettings): Promise<Pixels> {
  const side = minSourceSide(model.resolution, s.resize, s.zone);
  return await decodeImage(bytes, { minWidth: side, minHeight: side });
}

// ---------------------------------------------------------------- the methods compared

const dot = (a: Float64Array, b: Float64Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

function embeddingOf(item: Item): Float64Array {
  return blocksOf(item.views[0]).embedding;
}

/** kNN k=3 on the normalised embedding: majority vote, a tie to the nearest. */
function knn(train: Item[], test: Item[], k = 3): number {
  const keys = train.map(embeddingOf);
  let right = 0;
  for (const item of test) {
    const x = embeddingOf(item);
    const near = train.map((t, i) => ({ s: dot(x, keys[i]), label: t.label }))
      .sort((a, b) => b.s - a.s).slice(0, k);
    const votes = new Map<number, number>();
    for (const n of near) votes.set(n.label, (votes.get(n.label) ?? 0) + 1);
    const most = Math.max(...votes.values());
    if (near.find((n) => votes.get(n.label) === most)!.label === item.label) right++;
  }
  return right / test.length;
}

/** The nearest class centroid (cosine) on the normalised embedding. */
function centroid(train: Item[], test: Item[], classes: number): number {
  const centres = Array.from({ length: classes }, (_, c) => {
    const members = train.filter((t) => t.label === c).map(embeddingOf);
    const m = new Float64Array(members[0].length);
    for (const x of members) x.forEach((v, i) => m[i] += v);
    const norm = Math.sqrt(dot(m, m));
    return m.map((v) => v / norm);
  });
  let right = 0;
  for (const item of test) {
    const x = embeddingOf(item);
    let best = 0;
    centres.forEach((c, i) => {
      if (dot(x, c) > dot(x, centres[best])) best = i;
    });
    if (best === item.label) right++;
  }
  return right / test.length;
}

/** Rows for `fitHead` from items, with the views of `augment`. */
function embeddedOf(train: Item[], classes: number, augment: readonly Augmentation[]): Embedded {
  const pick = [0, ...augment.flatMap((a) => VIEW_INDICES[a])];
  const out: Embedded = {
    features: { embedding: [], logprob: [], hierarchy: [] },
    labels: [],
    examples: [],
    plain: [],
    counts: new Array(classes).fill(0),
    skipped: 0,
  };
  train.forEach((item, id) => {
    for (const v of pick) {
      const blocks = blocksOf(item.views[v]);
      for (const name of FEATURE_NAMES) out.features[name].push(blocks[name]);
      out.labels.push(item.label);
      out.examples.push(id);
      out.plain.push(v === 0 ? 1 : 0);
    }
    out.counts[item.label]++;
  });
  return out;
}

interface Context {
  model: MobileNet;
  labels: string[];
  settings: TeachSettings;
}

async function headOf(
  ctx: Context,
  train: Item[],
  names: readonly FeatureName[] = FEATURE_NAMES,
  augment: readonly Augmentation[] = [],
): Promise<Head> {
  const embedded = embeddedOf(train, ctx.labels.length, augment);
  return await fitHead(ctx.model, embedded, ctx.labels, { ...ctx.settings, augment }, [], names);
}

/** Accuracy of a head on items, and the share of them flagged unknown. */
function score(head: Head, test: Item[]): { accuracy: number; unknown: number } {
  let right = 0, unknown = 0;
  for (const item of test) {
    const p = head.apply(item.views[0].embedding, item.views[0].probabilities);
    let best = 0;
    for (let c = 1; c < p.length; c++) if (p[c] > p[best]) best = c;
    if (best === item.label) right++;
    if (p[best] < head.threshold) unknown++;
  }
  return { accuracy: right / test.length, unknown: unknown / test.length };
}

// ---------------------------------------------------------------- statistics and printing

function meanSd(values: number[]): string {
  const m = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = values.length > 1
    ? Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / (values.length - 1))
    : 0;
  return `${(100 * m).toFixed(1)} ± ${(100 * sd).toFixed(1)}`;
}

function shuffled<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** One draw: `k` items of each class teach (at most all but one), the rest test. */
function draw(items: Item[], classes: number, k: number, seed: number) {
  const random = mulberry32(seed);
  const train: Item[] = [], test: Item[] = [];
  for (let c = 0; c < classes; c++) {
    const members = shuffled(items.filter((i) => i.label === c), random);
    const n = Math.min(k, members.length - 1);
    train.push(...members.slice(0, n));
    test.push(...members.slice(n));
  }
  return { train, test };
}

// ---------------------------------------------------------------- the tasks

async function groupItems(model: MobileNet, root: URL, settings: TeachSettings) {
  const groups = await readGroups(root);
  const labels = [...new Set(groups.values())].sort();
  const known: Item[] = [], others: Item[] = [];
  const photos = await readPhotos(root);
  for (const photo of photos) {
    const bytes = await Deno.readFile(new URL(`${photo.set}/images/${photo.file}`, root));
    const pixels = await decodeFor(model, bytes, settings);
    const group = groups.get(photo.index);
    // photos outside the groups need only their plain view
    const s = group ? { ...settings, augment: ALL_AUGMENT } : settings;
    const views = await embedViews(model, pixels, s);
    if (group) known.push({ views, label: labels.indexOf(group) });
    else others.push({ views, label: -1 });
  }
  return { labels, known, others, photos, groups };
}

async function fewShot(ctx: Context, known: Item[], others: Item[], draws: number) {
  const rows: (string | number)[][] = [];
  const unknownRows: (string | number)[][] = [];
  const classes = ctx.labels.length;
  for (const k of [1, 3, 5, 10, 20]) {
    const acc: Record<string, number[]> = {
      head: [],
      noWordNet: [],
      knn: [],
      centroid: [],
      lr: [],
    };
    const flagged: number[] = [], passed: number[] = [];
    for (let seed = 1; seed <= draws; seed++) {
      const { train, test } = draw(known, classes, k, seed);
      const head = await headOf(ctx, train);
      const s = score(head, test);
      acc.head.push(s.accuracy);
      acc.noWordNet.push(score(await headOf(ctx, train, ["embedding", "logprob"]), test).accuracy);
      acc.lr.push(score(await headOf(ctx, train, ["embedding"]), test).accuracy);
      acc.knn.push(knn(train, test));
      acc.centroid.push(centroid(train, test, classes));
      passed.push(1 - s.unknown);
      flagged.push(score(head, others).unknown);
    }
    rows.push([String(k), ...Object.values(acc).map(meanSd)]);
    unknownRows.push([String(k), meanSd(flagged), meanSd(passed)]);
  }
  console.log(`\n### Few-shot: 9 groups, tested on fine classes never seen (${draws} draws)\n`);
  console.log(markdownTable(
    [
      "per group",
      "head (teach)",
      "head, no WordNet block",
      "kNN k=3",
      "nearest centroid",
      "logistic regression",
    ],
    rows,
  ));
  console.log(`\n### Unknown at the head's threshold (${others.length} photos of other classes)\n`);
  console.log(markdownTable(
    ["per group", "other classes flagged unknown %", "known groups passing %"],
    unknownRows,
  ));
}

/** Objects to paste: the centre square of each photo, at most 160 pixels a side. */
async function objects(root: URL, photos: Photo[], set: string): Promise<SceneFrame[]> {
  const out: SceneFrame[] = [];
  for (const photo of photos.filter((p) => p.set === set)) {
    const bytes = await Deno.readFile(new URL(`${photo.set}/images/${photo.file}`, root));
    const px = await decodeImage(bytes, { minWidth: 160, minHeight: 160 });
    const side = Math.min(px.width, px.height);
    const x0 = (px.width - side) >> 1, y0 = (px.height - side) >> 1;
    const data = new Uint8Array(side * side * 3);
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        for (let c = 0; c < 3; c++) {
          const from = ((y0 + y) * px.width + x0 + x) * px.channels + (px.channels === 1 ? 0 : c);
          data[(y * side + x) * 3 + c] = px.data[from];
        }
      }
    }
    out.push({ data, width: side, height: side, channels: 3 });
  }
  return out;
}

interface CameraSetup {
  name: string;
  settings: TeachSettings;
  objects?: { train: SceneFrame[]; test: SceneFrame[] };
}

async function cameraItems(
  ctx: Context,
  setup: CameraSetup,
  seed: number,
  n: number,
  test: boolean,
) {
  const items: Item[] = [];
  const pool = setup.objects && (test ? setup.objects.test : setup.objects.train);
  const random = mulberry32(seed);
  const s = test ? { ...setup.settings, augment: [] } : { ...setup.settings, augment: ALL_AUGMENT };
  for (let i = 0; i < n; i++) {
    const packaged = i % 2 === 1;
    const frame = sceneFrame({
      seed: seed * 1000 + i,
      packageSeed: packaged ? seed * 1000 + i : undefined,
      object: packaged && pool ? pool[Math.floor(random() * pool.length)] : undefined,
    });
    items.push({ views: await embedViews(ctx.model, frame, s), label: packaged ? 1 : 0 });
  }
  return items;
}

async function camera(model: MobileNet, root: URL, photos: Photo[], draws: number) {
  const pasted = {
    train: await objects(root, photos, "imagenet"),
    test: await objects(root, photos, "imagenet-eval"),
  };
  const zone: Zone = DOORSTEP;
  const setups: CameraSetup[] = [
    { name: "boxes, zone", settings: { resize: "stretch", zone, augment: [] } },
    { name: "boxes, whole frame", settings: { resize: "stretch", augment: [] } },
    {
      name: "photo objects, zone",
      settings: { resize: "stretch", zone, augment: [] },
      objects: pasted,
    },
    {
      name: "photo objects, whole frame",
      settings: { resize: "stretch", augment: [] },
      objects: pasted,
    },
  ];
  const rows: (string | number)[][] = [];
  const augRows: (string | number)[][] = [];
  for (const setup of setups) {
    const ctx = { model, labels: ["empty", "package"], settings: setup.settings };
    const acc: Record<string, number[]> = { head: [], knn: [], centroid: [], lr: [], unknown: [] };
    const aug: Record<string, number[]> = { none: [], flip: [], light: [], crop: [] };
    for (let d = 1; d <= draws; d++) {
      const train = await cameraItems(ctx, setup, d, 20, false);
      const test = await cameraItems(ctx, setup, 100 + d, 100, true);
      const s = score(await headOf(ctx, train), test);
      acc.head.push(s.accuracy);
      acc.unknown.push(s.unknown);
      acc.knn.push(knn(train, test));
      acc.centroid.push(centroid(train, test, 2));
      acc.lr.push(score(await headOf(ctx, train, ["embedding"]), test).accuracy);
      aug.none.push(s.accuracy);
      for (const a of ALL_AUGMENT) {
        aug[a].push(score(await headOf(ctx, train, FEATURE_NAMES, [a]), test).accuracy);
      }
    }
    rows.push([setup.name, ...Object.values(acc).map(meanSd)]);
    augRows.push([setup.name, ...Object.values(aug).map(meanSd)]);
  }
  console.log(
    `\n### Camera states: 10 frames per state teach, 100 new frames test (${draws} draws)\n`,
  );
  console.log(markdownTable(
    [
      "task",
      "head (teach)",
      "kNN k=3",
      "nearest centroid",
      "logistic regression",
      "known flagged unknown",
    ],
    rows,
  ));
  return augRows;
}

async function augmentation(
  ctx: Context,
  known: Item[],
  draws: number,
  cameraRows: (string | number)[][],
) {
  const rows: (string | number)[][] = [];
  for (const k of [3, 10]) {
    const acc: Record<string, number[]> = { none: [], flip: [], light: [], crop: [] };
    for (let seed = 1; seed <= draws; seed++) {
      const { train, test } = draw(known, ctx.labels.length, k, seed);
      acc.none.push(score(await headOf(ctx, train), test).accuracy);
      for (const a of ALL_AUGMENT) {
        acc[a].push(score(await headOf(ctx, train, FEATURE_NAMES, [a]), test).accuracy);
      }
    }
    rows.push([`groups, ${k} per group`, ...Object.values(acc).map(meanSd)]);
  }
  console.log("\n### Augmentation: the head's accuracy with each kind of extra view\n");
  console.log(markdownTable(
    ["task", "none", "flip", "light x0.7, x1.3", "crop 85% x2"],
    [...rows, ...cameraRows],
  ));
}

async function timing(
  ctx: Context,
  known: Item[],
  root: URL,
  photos: Photo[],
  groups: Map<number, string>,
) {
  const { train } = draw(known, ctx.labels.length, 10, 1);
  // the same 90 photos, as files: draw() kept the known items in photo order per group
  const inGroups = photos.filter((p) => groups.has(p.index));
  const record: Record<string, Uint8Array[]> = {};
  for (const item of train) {
    const photo = inGroups[known.indexOf(item)];
    const bytes = await Deno.readFile(new URL(`${photo.set}/images/${photo.file}`, root));
    (record[ctx.labels[item.label]] ??= []).push(bytes);
  }
  const times: number[] = [];
  const hashes = new Set<string>();
  for (let run = 0; run < 3; run++) {
    const t0 = performance.now();
    const head = await teach(ctx.model, record);
    times.push(performance.now() - t0);
    hashes.add(head.sha256);
  }
  const cached = await headOf(ctx, train);
  console.log(`\n### Teaching 90 photos (10 per group), end to end\n`);
  console.log(
    `- teach(): median ${(median(times) / 1000).toFixed(2)} s of 3 runs (${
      times.map((t) => (t / 1000).toFixed(2)).join(", ")
    } s)`,
  );
  console.log(
    `- the 3 heads identical: ${hashes.size === 1}; identical to fitHead on the cached features: ${
      hashes.has(cached.sha256)
    }`,
  );
}

async function categories(model: MobileNet, known: Item[], labels: string[]) {
  const head = await Head.fromCategories(GROUP_SYNSETS);
  void model;
  let right = 0;
  for (const item of known) {
    const p = head.apply(item.views[0].embedding, item.views[0].probabilities);
    let best = 0;
    for (let c = 1; c < p.length; c++) if (p[c] > p[best]) best = c;
    if (head.labels[best] === labels[item.label]) right++;
  }
  console.log(`\n### Categories head (WordNet, no teaching) of the 9 group names\n`);
  console.log(
    `- ${right}/${known.length} photos right (${(100 * right / known.length).toFixed(1)}%)`,
  );
}

if (import.meta.main) {
  const flags = parseArgs(Deno.args, { string: ["model", "draws", "shared"] });
  const shared = flags.shared as string | undefined;
  const root = shared
    ? new URL(`${shared.replace(/\/+$/, "")}/`, `file://${Deno.cwd()}/`)
    : new URL("../../shared/", import.meta.url);
  const draws = Number(flags.draws ?? 10);
  const model = await loadMobileNet({ model: (flags.model as string | undefined) ?? "0.75_224" });
  const settings: TeachSettings = { resize: model.resize as ResizeMode, augment: [] };
  const t0 = performance.now();
  const { labels, known, others, photos, groups } = await groupItems(model, root, settings);
  console.log(
    `# teach_eval: MobileNet v1 ${model.architecture.config.alpha}/${model.resolution}, ${known.length} photos in the groups, ${others.length} others (embedded in ${
      ((performance.now() - t0) / 1000).toFixed(0)
    } s)`,
  );
  const ctx = { model, labels, settings };
  await categories(model, known, labels);
  await fewShot(ctx, known, others, draws);
  await timing(ctx, known, root, photos, groups);
  const cameraRows = await camera(model, root, photos, Math.max(3, Math.round(draws / 2)));
  await augmentation(ctx, known, draws, cameraRows);
  await model.dispose();
}
