/**
 * The head file format (`weights/HEAD_FORMAT.md`): its JSON shape, its limits, and the strict
 * check of a parsed file. Every field is checked and every array's length is checked against
 * the declared dimensions before it is decoded, so a hostile file costs no more than its size.
 *
 * @module
 */
import { HeadError } from "./errors.ts";
import { decodeFloats } from "./codec.ts";
import { blockSize, FEATURE_NAMES, type FeatureName, IMAGENET_CLASS_COUNT } from "./features.ts";
import { checkResizeMode, checkZone, type ResizeMode, type Zone } from "../image/preprocess.ts";
import { errorMessage } from "../_util.ts";

/** The `format` of every head file. */
export const HEAD_FORMAT = "mobilenet-edge-head";

/** The head file version this code writes and reads. */
export const HEAD_FORMAT_VERSION = 1;

/**
 * A head file as JSON (see `weights/HEAD_FORMAT.md`). Read it with {@linkcode Head.load}; write
 * it with {@linkcode Head.save} or `JSON.stringify(head)`.
 */
export interface HeadJson {
  /** Always `"mobilenet-edge-head"`. */
  format: string;
  /** The format version: 1. */
  formatVersion: number;
  /** `"taught"` (from examples) or `"categories"` (ImageNet classes summed under synsets). */
  kind: "taught" | "categories";
  /** The classes, in the order of the weights. */
  labels: string[];
  /**
   * The base model. Taught heads: `architecture`, `alpha`, `resolution`, `featureSize` and
   * `weightsSha256` (the sha256 of the manifest's shard hashes); categories heads:
   * `{ "labels": "imagenet" }` (any model with the ImageNet top).
   */
  model: {
    architecture?: string;
    alpha?: number;
    resolution?: number;
    featureSize?: number;
    weightsSha256?: string;
    labels?: string;
  };
  /** How images are fitted to the model: a resize mode and a zone, or `null` for the model's. */
  preprocessing: { resize: ResizeMode | null; zone: Zone | null };
  /** Taught heads: per feature block, `labels.length x blockSize` float32s as base64, and `bias`. */
  weights?: {
    /** `labels.length x featureSize` values: the L2-normalised embedding's weights. */
    embedding?: string;
    /** `labels.length x 1000`: the centred ImageNet log-probabilities' weights. */
    logprob?: string;
    /** `labels.length x groups`: the weights of the probabilities summed under each synset. */
    hierarchy?: string;
    /** `labels.length` biases. */
    bias?: string;
  };
  /** Categories heads: per label, the ImageNet class indices summed. */
  categories?: number[][];
  /** A top probability under this is reported as `unknown`. */
  threshold: number;
  /** How the head was made (for a taught head: the cross-validation; see `TeachReport`). */
  report: Record<string, unknown>;
  /** sha256 of the canonical JSON of every other field. */
  sha256: string;
}

/** The largest head file read, in bytes (8 MiB). */
export const MAX_HEAD_BYTES = 8 << 20;

/** The most classes a head may have. */
export const MAX_CLASSES = 1000;

/** The longest label, in characters. */
export const MAX_LABEL_LENGTH = 100;

/** The longest embedding a head may declare (MobileNet v1 at alpha 4). */
const MAX_FEATURE_SIZE = 4096;

/** A taught head's weights, decoded: one matrix per feature block, and the biases. */
export interface Blocks {
  /** Per block in use, `classes x blockSize` weights, row-major by class. */
  blocks: { name: FeatureName; weights: Float32Array }[];
  /** One bias per class. */
  bias: Float32Array;
}

function bad(message: string): HeadError {
  return new HeadError("BAD_HEAD", message);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Checks labels: 1 to {@linkcode MAX_CLASSES} distinct non-empty strings without control
 * characters, at most {@linkcode MAX_LABEL_LENGTH} long.
 *
 * @throws {RangeError} naming the bad label.
 */
export function checkLabels(labels: unknown): string[] {
  if (!Array.isArray(labels) || labels.length < 1 || labels.length > MAX_CLASSES) {
    throw new RangeError(`labels must be a list of 1 to ${MAX_CLASSES} class names`);
  }
  const seen = new Set<string>();
  for (const label of labels) {
    if (
      typeof label !== "string" || label.length === 0 || label.length > MAX_LABEL_LENGTH ||
      // deno-lint-ignore no-control-regex
      /[\u0000-\u001f\u007f]/.test(label)
    ) {
      throw new RangeError(
        `label ${JSON.stringify(label)} must be 1 to ${MAX_LABEL_LENGTH} printable characters`,
      );
    }
    if (seen.has(label)) throw new RangeError(`label ${JSON.stringify(label)} appears twice`);
    seen.add(label);
  }
  return labels;
}

function checkModelField(json: Record<string, unknown>, kind: string): HeadJson["model"] {
  const model = json.model;
  if (!isObject(model)) throw bad("model must be an object");
  if (kind === "categories") {
    if (model.labels !== "imagenet") {
      throw bad('a categories head\'s model must be {"labels": "imagenet"}');
    }
    return model;
  }
  const { architecture, alpha, resolution, featureSize, weightsSha256 } = model;
  if (architecture !== "mobilenet_v1") throw bad('model.architecture must be "mobilenet_v1"');
  if (typeof alpha !== "number" || !(alpha > 0)) throw bad("model.alpha must be a positive number");
  if (!Number.isInteger(resolution) || (resolution as number) < 1) {
    throw bad("model.resolution must be a positive integer");
  }
  if (
    !Number.isInteger(featureSize) || (featureSize as number) < 1 ||
    (featureSize as number) > MAX_FEATURE_SIZE
  ) throw bad(`model.featureSize must be an integer from 1 to ${MAX_FEATURE_SIZE}`);
  if (typeof weightsSha256 !== "string" || !/^[0-9a-f]{64}$/.test(weightsSha256)) {
    throw bad("model.weightsSha256 must be 64 lowercase hex digits");
  }
  return model;
}

function checkPreprocessing(value: unknown): HeadJson["preprocessing"] {
  if (!isObject(value)) throw bad("preprocessing must be an object");
  const resize = value.resize ?? null;
  const zone = value.zone ?? null;
  return {
    resize: resize === null ? null : checkResizeMode(resize),
    zone: zone === null ? null : checkZone(zone),
  };
}

function checkBlocks(json: Record<string, unknown>, classes: number, featureSize: number): Blocks {
  const weights = json.weights;
  if (!isObject(weights)) throw bad("a taught head needs weights");
  for (const key of Object.keys(weights)) {
    if (key !== "bias" && !FEATURE_NAMES.includes(key as FeatureName)) {
      throw bad(`weights.${key} is not a feature block (${FEATURE_NAMES.join(", ")}, bias)`);
    }
  }
  const decode = (key: string, count: number) => {
    const text = weights[key];
    const values = typeof text === "string" ? decodeFloats(text, count) : undefined;
    if (!values) throw bad(`weights.${key} must be base64 of ${count} float32 values`);
    if (!values.every(Number.isFinite)) {
      throw bad(`weights.${key} holds a value that is not finite`);
    }
    return values;
  };
  const blocks = FEATURE_NAMES.filter((name) => weights[name] !== undefined).map((name) => ({
    name,
    weights: decode(name, classes * blockSize(name, featureSize)),
  }));
  if (blocks.length === 0) throw bad("a taught head needs the weights of a feature block");
  return { blocks, bias: decode("bias", classes) };
}

function checkCategories(value: unknown, classes: number): number[][] {
  if (!Array.isArray(value) || value.length !== classes) {
    throw bad("categories must hold one list of ImageNet classes per label");
  }
  for (const list of value) {
    if (
      !Array.isArray(list) || list.length < 1 || list.length > IMAGENET_CLASS_COUNT ||
      !list.every((i) => Number.isInteger(i) && i >= 0 && i < IMAGENET_CLASS_COUNT)
    ) throw bad(`each category must list 1 to 1000 ImageNet class indices (0..999)`);
  }
  return value;
}

/**
 * Checks a parsed head file strictly and decodes a taught head's weights.
 *
 * @throws {HeadError} `BAD_HEAD` naming the field, `UNSUPPORTED_VERSION` for a newer format.
 */
export function parseHeadJson(value: unknown): { json: HeadJson; blocks?: Blocks } {
  if (!isObject(value) || value.format !== HEAD_FORMAT) {
    throw bad(`not a head file (its "format" must be "${HEAD_FORMAT}")`);
  }
  const version = value.formatVersion;
  if (!Number.isInteger(version) || (version as number) < 1) {
    throw bad("formatVersion must be a positive integer");
  }
  if ((version as number) > HEAD_FORMAT_VERSION) {
    throw new HeadError(
      "UNSUPPORTED_VERSION",
      `head format version ${version} is newer than this code reads (${HEAD_FORMAT_VERSION})`,
    );
  }
  const kind = value.kind;
  if (kind !== "taught" && kind !== "categories") {
    throw bad('kind must be "taught" or "categories"');
  }
  let labels: string[];
  try {
    labels = checkLabels(value.labels);
  } catch (error) {
    throw bad(errorMessage(error));
  }
  if (kind === "taught" && labels.length < 2) throw bad("a taught head needs two or more labels");
  const model = checkModelField(value, kind);
  let preprocessing;
  try {
    preprocessing = checkPreprocessing(value.preprocessing);
  } catch (error) {
    throw error instanceof HeadError ? error : bad(`preprocessing: ${errorMessage(error)}`);
  }
  const threshold = value.threshold;
  if (typeof threshold !== "number" || !(threshold >= 0 && threshold <= 1)) {
    throw bad("threshold must be a number from 0 to 1");
  }
  if (!isObject(value.report)) throw bad("report must be an object");
  if (typeof value.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(value.sha256)) {
    throw bad("sha256 must be 64 lowercase hex digits");
  }
  const blocks = kind === "taught"
    ? checkBlocks(value, labels.length, model.featureSize!)
    : undefined;
  if (kind === "categories") checkCategories(value.categories, labels.length);
  const json = { ...value, labels, model, preprocessing } as unknown as HeadJson;
  return { json, blocks };
}
