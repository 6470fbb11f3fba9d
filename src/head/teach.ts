/**
 * `teach`: from a few labelled examples to a {@linkcode Head}. Each example is decoded once,
 * seen through its views (`augment.ts`), embedded by the model (the embedding and the ImageNet
 * probabilities of one run), turned into feature blocks (`features.ts`); cross-validation picks
 * the blocks and the L2 strength (`select.ts`), and the chosen model is fitted on everything
 * (`train.ts`). Deterministic: the same examples and model give the same head, bit for bit.
 *
 * @module
 */
import type { MobileNet, RawImage } from "../mobilenet.ts";
import { checkSize, decodeImage } from "../image/decode.ts";
import { type Pixels, toPixels } from "../image/pixels.ts";
import {
  checkResizeMode,
  checkZone,
  minSourceSide,
  type ResizeMode,
  type Zone,
} from "../image/preprocess.ts";
import { ImageDecodeError } from "../errors.ts";
import { errorMessage } from "../_util.ts";
import { HeadError } from "./errors.ts";
import { Head } from "./head.ts";
import { checkLabels, HEAD_FORMAT, HEAD_FORMAT_VERSION, type HeadJson } from "./format.ts";
import { encodeFloats } from "./codec.ts";
import { FEATURE_NAMES, featureBlock, type FeatureName } from "./features.ts";
import { type Augmentation, AUGMENTATIONS, viewCount, views, WHOLE_FRAME } from "./augment.ts";
import { type ExampleFile, listExampleFolder } from "./folder.ts";
import { type Candidate, candidates, fitRows, passThreshold, type Rows, select } from "./select.ts";

/** An example image: encoded bytes (JPEG, PNG, GIF, TIFF) or raw pixels. */
type TeachImage = Uint8Array | RawImage;

/** Options of {@linkcode teach}. */
export interface TeachOptions {
  /** Cut this part of each frame out first (and whenever the head is applied). */
  zone?: Zone;
  /**
   * How images are fitted to the model; stored in the head.
   * @default {"stretch" with a zone (all of it), else the model's mode}
   */
  resize?: ResizeMode;
  /**
   * Extra views of each example: `flip` (mirror), `light` (x0.7 and x1.3), `crop` (two zones of
   * 85%). Each multiplies the teaching time.
   * @default {[] (none helped on the evaluation)}
   */
  augment?: readonly ("flip" | "light" | "crop")[];
  /** Called after each view is embedded, with the count done and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Called with each warning: a file skipped, a class with few examples. */
  onWarning?: (message: string) => void;
}

/** What `teach` measured, stored in the head as its `report`. */
export interface TeachReport {
  /** The tool that made the head. */
  createdBy: string;
  /** Examples used per label. */
  examples: Record<string, number>;
  /** Files skipped (not images, or not decodable). */
  skipped: number;
  /** The extra views used. */
  augment: Augmentation[];
  /** The feature blocks cross-validation chose. */
  features: FeatureName[];
  /** The L2 strength cross-validation chose. */
  lambda: number;
  /** Cross-validation folds (0: some class has a single example, nothing to hold out). */
  folds: number;
  /** Held-out accuracy, 0..1, or `null` without cross-validation. */
  accuracy: number | null;
  /** Held-out counts, `confusion[true][predicted]`, in label order. */
  confusion: number[][];
  /** Share of held-out examples whose top probability passes the threshold. */
  knownPass: number | null;
  /** The warnings given while teaching. */
  warnings: string[];
}

/** Classes with fewer examples than this get a warning. */
export const FEW_EXAMPLES = 5;

/** The most examples (before augmentation) one head is taught from. */
export const MAX_EXAMPLES = 1000;

/** The candidate used when there is nothing to hold out: every block, a middle strength. */
const FALLBACK: Candidate = { blocks: { embedding: 1, logprob: 1, hierarchy: 1 }, lambda: 1e-3 };

/** The threshold used without cross-validation: nothing is flagged, as nothing was measured. */
const FALLBACK_THRESHOLD = 0;

interface Source {
  name: string;
  read: () => Promise<TeachImage>;
}

function fromRecord(record: Readonly<Record<string, readonly TeachImage[]>>) {
  const classes = new Map<string, Source[]>();
  for (const [label, images] of Object.entries(record)) {
    if (!Array.isArray(images)) {
      throw new TypeError(`examples["${label}"] must be a list of images`);
    }
    classes.set(
      label,
      images.map((image, i) => ({ name: `${label}[${i}]`, read: () => Promise.resolve(image) })),
    );
  }
  return classes;
}

/** The classes in label order, checked: two or more, each with an example, good labels. */
function checkClasses(classes: Map<string, (Source | ExampleFile)[]>): [string, Source[]][] {
  const labels = [...classes.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (labels.length < 2) {
    throw new HeadError(
      "BAD_EXAMPLES",
      labels.length === 0
        ? "no class folders: put each class's examples in a folder named as its label"
        : `only one class ("${
          labels[0]
        }"): teaching needs two or more (add a folder such as "none" for everything else)`,
    );
  }
  try {
    checkLabels(labels);
  } catch (error) {
    throw new HeadError("BAD_EXAMPLES", errorMessage(error));
  }
  for (const label of labels) {
    if (classes.get(label)!.length === 0) {
      throw new HeadError("BAD_EXAMPLES", `class "${label}" has no examples`);
    }
  }
  const total = labels.reduce((n, l) => n + classes.get(l)!.length, 0);
  if (total > MAX_EXAMPLES) {
    throw new HeadError("BAD_EXAMPLES", `${total} examples: at most ${MAX_EXAMPLES} can be taught`);
  }
  return labels.map((l) => [l, classes.get(l)! as Source[]]);
}

/** Decodes one example as the model will decode frames; `undefined` (warned) when it cannot. */
async function decode(
  source: Source,
  side: { minWidth: number; minHeight: number },
  warn: (message: string) => void,
): Promise<Pixels | undefined> {
  try {
    const image = await source.read();
    return image instanceof Uint8Array
      ? await decodeImage(image, side)
      : toPixels(checkSize(image));
  } catch (error) {
    if (!(error instanceof ImageDecodeError)) throw error;
    const why = error.code === "UNSUPPORTED_FORMAT" || error.code === "EMPTY"
      ? "not an image (JPEG, PNG, GIF or TIFF)"
      : error.message;
    warn(`skipped ${source.name}: ${why}`);
    return undefined;
  }
}

/** What `teach` decided before embedding: how images are fitted, and the extra views. */
export interface TeachSettings {
  /** The resize mode. */
  resize: ResizeMode;
  /** The zone, if any. */
  zone?: Zone;
  /** The extra views. */
  augment: readonly Augmentation[];
}

/** What the model says of one view: its embedding and its ImageNet probabilities. */
export interface ViewOutput {
  /** The pooled features. */
  embedding: Float32Array;
  /** The 1000 ImageNet probabilities. */
  probabilities: Float32Array;
}

/** The model's outputs for each view of one decoded example (the plain view first). */
export async function embedViews(
  model: MobileNet,
  pixels: Pixels,
  settings: TeachSettings,
): Promise<ViewOutput[]> {
  const out: ViewOutput[] = [];
  for (const view of views(pixels, settings.zone, settings.augment)) {
    const result = await model.classifyDetailed(view.pixels as RawImage, {
      topK: 1,
      embedding: true,
      probabilities: true,
      resize: settings.resize,
      // the whole frame when there is no zone: a head the model may have must not add its own
      zone: view.zone ?? WHOLE_FRAME,
    });
    out.push({ embedding: result.embedding!, probabilities: result.probabilities! });
  }
  return out;
}

/** The feature blocks of one view. */
export function blocksOf(output: ViewOutput): Record<FeatureName, Float64Array> {
  const blocks = {} as Record<FeatureName, Float64Array>;
  for (const name of FEATURE_NAMES) {
    blocks[name] = featureBlock(name, output.embedding, output.probabilities);
  }
  return blocks;
}

/** Rows of features: one per view of each example. */
export interface Embedded {
  /** Per block, one row per view. */
  features: Record<FeatureName, Float64Array[]>;
  /** Each row's class index. */
  labels: number[];
  /** Each row's example id (the views of an example share it). */
  examples: number[];
  /** 1 for an example's plain view, 0 for its extra views. */
  plain: number[];
  /** Examples per class. */
  counts: number[];
  /** Files skipped. */
  skipped: number;
}

async function embedAll(
  model: MobileNet,
  classes: [string, Source[]][],
  settings: TeachSettings,
  options: TeachOptions,
  warn: (message: string) => void,
): Promise<Embedded> {
  const out: Embedded = {
    features: { embedding: [], logprob: [], hierarchy: [] },
    labels: [],
    examples: [],
    plain: [],
    counts: classes.map(() => 0),
    skipped: 0,
  };
  const per = viewCount(settings.augment);
  const total = classes.reduce((n, [, s]) => n + s.length, 0) * per;
  const side = minSourceSide(model.resolution, settings.resize, settings.zone);
  const min = { minWidth: side, minHeight: side };
  let done = 0;
  let id = 0;
  for (const [label, [, sources]] of classes.entries()) {
    for (const source of sources) {
      const pixels = await decode(source, min, warn);
      if (!pixels) {
        out.skipped++;
        options.onProgress?.(done += per, total);
        continue;
      }
      for (const [v, output] of (await embedViews(model, pixels, settings)).entries()) {
        const blocks = blocksOf(output);
        for (const name of FEATURE_NAMES) out.features[name].push(blocks[name]);
        out.labels.push(label);
        out.examples.push(id);
        out.plain.push(v === 0 ? 1 : 0);
        options.onProgress?.(++done, total);
      }
      out.counts[label]++;
      id++;
    }
  }
  return out;
}

function gram(rows: Float64Array[]): Float64Array {
  const n = rows.length;
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const a = rows[i], b = rows[j];
      let s = 0;
      for (let d = 0; d < a.length; d++) s += a[d] * b[d];
      out[i * n + j] = out[j * n + i] = s;
    }
  }
  return out;
}

/** The primal weights of a fitted model: per block in use, `classes x size`. */
function primalWeights(
  embedded: Embedded,
  candidate: Candidate,
  alpha: Float64Array,
  classes: number,
): Partial<Record<FeatureName, string>> {
  const out: Partial<Record<FeatureName, string>> = {};
  for (const name of FEATURE_NAMES) {
    const w = candidate.blocks[name];
    if (!w) continue;
    const rows = embedded.features[name];
    const size = rows[0].length;
    const weights = new Float64Array(classes * size);
    rows.forEach((x, i) => {
      for (let c = 0; c < classes; c++) {
        const a = w * alpha[i * classes + c];
        if (a === 0) continue;
        for (let d = 0; d < size; d++) weights[c * size + d] += a * x[d];
      }
    });
    out[name] = encodeFloats(Float32Array.from(weights));
  }
  return out;
}

function checkOptions(model: MobileNet, options: TeachOptions) {
  if (!model.weightsId || !model.architecture.config.includeTop) {
    throw new HeadError(
      "MODEL_MISMATCH",
      "teach needs a model loaded from a weights manifest (its hash names the base model) with its ImageNet top",
    );
  }
  const zone = options.zone === undefined ? undefined : checkZone(options.zone);
  const augment = [...(options.augment ?? [])];
  for (const a of augment) {
    if (!AUGMENTATIONS.includes(a)) {
      throw new RangeError(
        `augment must hold ${AUGMENTATIONS.join(", ")}, got ${JSON.stringify(a)}`,
      );
    }
  }
  const resize = checkResizeMode(options.resize ?? (zone ? "stretch" : model.resize));
  return { zone, resize, augment };
}

/**
 * Teaches a head from examples: a folder holding one subfolder per class (the folder name is
 * the label), or images by label. Files that are not images are skipped with a warning.
 *
 * @throws {HeadError} `BAD_EXAMPLES` for a missing folder, one class only, an empty class (also
 * when none of its files is an image), or too many examples; `MODEL_MISMATCH` for a model not
 * loaded from a manifest.
 *
 * @example Teach two states of a camera from folders `frames/open/` and `frames/closed/`
 * ```ts
 * import { loadMobileNet, teach } from "../../mod.ts";
 *
 * const model = await loadMobileNet();
 * const head = await teach(model, "frames/", { zone: { x: 0.5, y: 0.4, width: 0.3, height: 0.5 } });
 * console.log(head.labels, head.report.accuracy); // ["closed", "open"] 0.95
 * await head.save("garage.json");
 * const [state] = await model.withHead(head).classify(await Deno.readFile("now.jpg"));
 * await model.dispose();
 * ```
 */
export async function teach(
  model: MobileNet,
  examples: string | URL | Readonly<Record<string, readonly (Uint8Array | RawImage)[]>>,
  options: TeachOptions = {},
): Promise<Head> {
  const settings = checkOptions(model, options);
  const warnings: string[] = [];
  const warn = (message: string) => {
    warnings.push(message);
    options.onWarning?.(message);
  };
  const listed = typeof examples === "string" || examples instanceof URL
    ? await listExampleFolder(examples, warn)
    : fromRecord(examples);
  const classes = checkClasses(listed);
  const embedded = await embedAll(model, classes, settings, options, warn);
  const labels = classes.map(([label]) => label);
  embedded.counts.forEach((count, c) => {
    if (count === 0) {
      throw new HeadError("BAD_EXAMPLES", `class "${labels[c]}" has no images`);
    }
    if (count < FEW_EXAMPLES) {
      warn(
        `class "${labels[c]}" has ${count} example${
          count === 1 ? "" : "s"
        }: teach ${FEW_EXAMPLES} or more per class for a head (and an accuracy) you can trust`,
      );
    }
  });
  return await fitHead(model, embedded, labels, settings, warnings);
}

/**
 * The head of embedded examples: cross-validation picks the blocks and the strength, then the
 * choice is fitted on every row. `teach` ends here; benches start here from cached features.
 */
export async function fitHead(
  model: MobileNet,
  embedded: Embedded,
  labels: string[],
  settings: TeachSettings,
  warnings: string[],
  names: readonly FeatureName[] = FEATURE_NAMES,
): Promise<Head> {
  const rows = rowsOf(embedded, labels.length);
  const validation = select(rows, candidates(names));
  const fallback = {
    ...FALLBACK,
    blocks: {
      embedding: 0,
      logprob: 0,
      hierarchy: 0,
      ...Object.fromEntries(names.map((n) => [n, 1])),
    },
  };
  const candidate = validation.folds > 0 ? validation.candidate : fallback;
  const fitted = fitRows(rows, candidate, [...rows.labels.keys()]);
  const threshold = validation.folds > 0
    ? passThreshold(validation.topProbabilities)
    : FALLBACK_THRESHOLD;
  const tops = validation.topProbabilities;
  const report: TeachReport = {
    createdBy: "mobilenet-edge teach",
    examples: Object.fromEntries(labels.map((l, c) => [l, embedded.counts[c]])),
    skipped: embedded.skipped,
    augment: [...settings.augment],
    features: FEATURE_NAMES.filter((n) => candidate.blocks[n] > 0),
    lambda: candidate.lambda,
    folds: validation.folds,
    accuracy: validation.accuracy,
    confusion: validation.confusion,
    knownPass: tops.length ? tops.filter((t) => t >= threshold).length / tops.length : null,
    warnings,
  };
  return await sealTaught(model, labels, settings, threshold, report, {
    ...primalWeights(embedded, candidate, fitted.alpha, labels.length),
    bias: encodeFloats(Float32Array.from(fitted.bias)),
  });
}

/** The rows cross-validation and the fit work on: per-block Gram matrices and the labels. */
function rowsOf(embedded: Embedded, classes: number): Rows {
  return {
    grams: {
      embedding: gram(embedded.features.embedding),
      logprob: gram(embedded.features.logprob),
      hierarchy: gram(embedded.features.hierarchy),
    },
    labels: Int32Array.from(embedded.labels),
    examples: Int32Array.from(embedded.examples),
    plain: Uint8Array.from(embedded.plain),
    classes,
  };
}

/** Seals a taught head: the model it fits, its preprocessing, weights, threshold and report. */
async function sealTaught(
  model: MobileNet,
  labels: string[],
  settings: TeachSettings,
  threshold: number,
  report: TeachReport,
  weights: HeadJson["weights"],
): Promise<Head> {
  const config = model.architecture.config;
  return await Head.seal({
    format: HEAD_FORMAT,
    formatVersion: HEAD_FORMAT_VERSION,
    kind: "taught",
    labels,
    model: {
      architecture: "mobilenet_v1",
      alpha: config.alpha,
      resolution: config.resolution,
      featureSize: model.featureSize,
      weightsSha256: model.weightsId,
    },
    preprocessing: { resize: settings.resize, zone: settings.zone ?? null },
    weights,
    threshold,
    report: report as unknown as Record<string, unknown>,
  });
}
