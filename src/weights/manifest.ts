/**
 * The weights manifest: its types, the format name and version, and validation of a parsed
 * manifest against the rules in `weights/FORMAT.md`. Reading and writing shards live in
 * `loader.ts` and `writer.ts`.
 *
 * @module
 */
import { WeightsError } from "../errors.ts";
import { sizeOf } from "../_util.ts";

/** The `format` field every manifest carries. */
export const FORMAT_NAME = "mobilenet-edge-weights";

/**
 * The newest manifest version this code reads. Writers write the lowest version that describes
 * their content: {@linkcode FORMAT_VERSION_FLOAT32} when every tensor is plain float32,
 * {@linkcode FORMAT_VERSION} when some are quantized.
 */
export const FORMAT_VERSION = 2;

/** The version of manifests whose tensors are all plain float32 (readable by every release). */
export const FORMAT_VERSION_FLOAT32 = 1;

/** The default shard size in bytes (1 MiB). */
export const DEFAULT_SHARD_SIZE = 1 << 20;

/** Storage types of a tensor's bytes. */
export type StoredDtype = "float32" | "float16" | "uint8";

/**
 * How a quantized tensor is turned back into float32 (format version 2): float16 values are
 * IEEE 754 halves; uint8 values are affine, `value = (q - zeroPoint) * scale`.
 */
export interface Quantization {
  /** Stored type: "float16" (IEEE half, no scale) or "uint8" (affine). */
  dtype: "float16" | "uint8";
  /** uint8 only: one scale per tensor, or one per channel along `axis`. */
  scale?: number | number[];
  /** uint8 only: zero points (integers 0..255), like `scale`. */
  zeroPoint?: number | number[];
  /**
   * uint8 per-channel only: the axis the scales run along (the output-channel axis: the last
   * one for convolution kernels, the input-channel axis 2 for depthwise kernels).
   */
  axis?: number;
}

/** One tensor in the shards. */
export interface TensorEntry {
  /** Keras weight name, e.g. `conv_dw_1/depthwise_kernel`. */
  name: string;
  /** Shape in Keras order. */
  shape: number[];
  /** The tensor's logical type once loaded. Always "float32" in version 1. */
  dtype: "float32";
  /** Index of the shard the tensor's first byte is in. */
  shard: number;
  /** Byte offset of the first byte in that shard. */
  offset: number;
  /** Stored length in bytes; the tensor continues into the next shards when it runs past one. */
  byteLength: number;
  /** Present when the stored bytes are quantized (format version 2 and later). */
  quantization?: Quantization;
}

/** One shard file. */
export interface ShardEntry {
  /** File name relative to the manifest. */
  file: string;
  /** Length in bytes. */
  byteLength: number;
  /** Lowercase hex sha256 of the shard's bytes. */
  sha256: string;
}

/** The model a set of weights belongs to. */
export interface ModelConfig {
  /** Always "mobilenet_v1". */
  architecture: "mobilenet_v1";
  /** Width multiplier. */
  alpha: number;
  /** Depthwise multiplier. */
  depthMultiplier: number;
  /** Input side in pixels the weights were trained at. */
  resolution: number;
  /** Classes of the top (ignored when `includeTop` is false). */
  classes: number;
  /** Whether `conv_preds` is included. */
  includeTop: boolean;
  /** Label set of the classes: "imagenet", or null for a custom top. */
  labels: "imagenet" | null;
}

/** A parsed weights manifest (`manifest.json`). */
export interface WeightsManifest {
  /** The format's name, always `"mobilenet-edge-weights"` (`FORMAT_NAME`). */
  format: "mobilenet-edge-weights";
  /** Format version; readers refuse versions newer than they know. */
  formatVersion: number;
  /** Free text: the tool and source that wrote the weights. */
  generatedBy?: string;
  /** The model the weights are for. */
  model: ModelConfig;
  /** Target shard size used when writing. */
  shardSize: number;
  /** Shards in network order. */
  shards: ShardEntry[];
  /** Tensors in network order: the first layers' tensors in the first shards. */
  tensors: TensorEntry[];
  /**
   * Optional: what `precision: "int8"` needs, calibrated once from photos (`deno task
   * calibrate`): the input scale of each int8 layer (`conv_pw_1` ... `conv_pw_13`,
   * `conv_preds`), a positive number; the mean of each of their input channels (bias
   * correction); and how it was calibrated (free text). Readers that do not know it ignore it
   * (no format version).
   */
  int8?: {
    scales: Record<string, number>;
    means?: Record<string, number[]>;
    levels?: Record<string, number>;
    calibration?: string;
  };
}

/** Bytes per stored element of each storage type. */
export const STORED_BYTES: Record<StoredDtype, number> = { float32: 4, float16: 2, uint8: 1 };

function bad(message: string): never {
  throw new WeightsError("BAD_MANIFEST", `invalid weights manifest: ${message}`);
}

function isCount(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 0;
}

function isScale(v: unknown): boolean {
  return typeof v === "number" && Number.isFinite(v) && v > 0;
}

function isZeroPoint(v: unknown): boolean {
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 255;
}

function checkQuantization(q: Quantization, shape: number[], where: string): void {
  if (typeof q !== "object" || q === null) bad(`${where}.quantization must be an object`);
  if (q.dtype === "float16") {
    if (q.scale !== undefined || q.zeroPoint !== undefined || q.axis !== undefined) {
      bad(`${where}.quantization: float16 takes no scale, zeroPoint or axis`);
    }
    return;
  }
  if (q.dtype !== "uint8") {
    bad(`${where}.quantization.dtype must be "float16" or "uint8", got ${JSON.stringify(q.dtype)}`);
  }
  if (Array.isArray(q.scale)) {
    if (!Number.isInteger(q.axis) || q.axis! < 0 || q.axis! >= shape.length) {
      bad(`${where}.quantization.axis must be an axis of shape [${shape}]`);
    }
    const channels = shape[q.axis!];
    if (q.scale.length !== channels || !q.scale.every(isScale)) {
      bad(`${where}.quantization.scale must be ${channels} positive numbers (axis ${q.axis})`);
    }
    if (
      !Array.isArray(q.zeroPoint) || q.zeroPoint.length !== channels ||
      !q.zeroPoint.every(isZeroPoint)
    ) {
      bad(`${where}.quantization.zeroPoint must be ${channels} integers 0..255 (axis ${q.axis})`);
    }
  } else {
    if (!isScale(q.scale)) bad(`${where}.quantization.scale must be a positive number`);
    if (!isZeroPoint(q.zeroPoint)) {
      bad(`${where}.quantization.zeroPoint must be an integer 0..255`);
    }
    if (q.axis !== undefined) bad(`${where}.quantization.axis needs one scale per channel`);
  }
}

function checkVersion(m: Record<string, unknown>): void {
  if (m.format !== FORMAT_NAME) {
    bad(`format is ${JSON.stringify(m.format)}, expected ${JSON.stringify(FORMAT_NAME)}`);
  }
  if (!isCount(m.formatVersion) || m.formatVersion < 1) bad("formatVersion must be >= 1");
  if ((m.formatVersion as number) > FORMAT_VERSION) {
    throw new WeightsError(
      "UNSUPPORTED_VERSION",
      `weights manifest has format version ${m.formatVersion}, but this mobilenet-edge reads ` +
        `versions up to ${FORMAT_VERSION}; upgrade mobilenet-edge or convert the weights again`,
    );
  }
}

function checkModel(model: Record<string, unknown> | undefined): void {
  if (typeof model !== "object" || model === null) bad("model is missing");
  if (model.architecture !== "mobilenet_v1") bad("model.architecture must be mobilenet_v1");
  for (const key of ["alpha", "resolution", "classes", "depthMultiplier"]) {
    if (typeof model[key] !== "number" || !((model[key] as number) > 0)) {
      bad(`model.${key} must be a positive number`);
    }
  }
  if (typeof model.includeTop !== "boolean") bad("model.includeTop must be a boolean");
  if (model.labels !== "imagenet" && model.labels !== null) {
    bad('model.labels must be "imagenet" or null');
  }
}

function checkShards(shards: ShardEntry[]): void {
  shards.forEach((s, i) => {
    if (typeof s?.file !== "string" || s.file === "" || /(^|[\\/])\.\.([\\/]|$)/.test(s.file)) {
      bad(`shards[${i}].file must be a relative file name`);
    }
    if (!isCount(s.byteLength)) bad(`shards[${i}].byteLength must be a byte count`);
    if (typeof s.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(s.sha256)) {
      bad(`shards[${i}].sha256 must be 64 lowercase hex digits`);
    }
  });
}

/** Checks one tensor entry on its own (name, shape, dtype, shard, offset, length). */
function checkTensor(
  t: TensorEntry,
  where: string,
  shards: ShardEntry[],
  formatVersion: number,
): void {
  if (!Array.isArray(t.shape) || !t.shape.every((d) => isCount(d) && d > 0)) {
    bad(`${where}.shape must be a list of positive integers`);
  }
  if (t.dtype !== "float32") bad(`${where}.dtype must be "float32"`);
  if (!isCount(t.shard) || t.shard >= shards.length) bad(`${where}.shard is out of range`);
  if (!isCount(t.offset) || t.offset >= shards[t.shard].byteLength) {
    bad(`${where}.offset is out of range`);
  }
  if (t.quantization !== undefined) {
    if (formatVersion < 2) {
      bad(`${where}.quantization needs formatVersion 2, the manifest says ${formatVersion}`);
    }
    checkQuantization(t.quantization, t.shape, where);
  }
  const stored = t.quantization?.dtype ?? "float32";
  if (t.byteLength !== sizeOf(t.shape) * STORED_BYTES[stored]) {
    bad(`${where}.byteLength ${t.byteLength} does not fit shape [${t.shape}] as ${stored}`);
  }
}

/** Checks every tensor, and that they follow each other in the shards without overlapping. */
function checkTensors(tensors: TensorEntry[], shards: ShardEntry[], formatVersion: number): void {
  const total = shards.reduce((sum, s) => sum + s.byteLength, 0);
  const starts = shards.map((_, i) => shards.slice(0, i).reduce((a, s) => a + s.byteLength, 0));
  let end = 0;
  const names = new Set<string>();
  tensors.forEach((t, i) => {
    const where = `tensors[${i}] (${JSON.stringify(t?.name)})`;
    if (typeof t?.name !== "string" || t.name === "") bad(`tensors[${i}].name is missing`);
    if (names.has(t.name)) bad(`${where} appears twice`);
    names.add(t.name);
    checkTensor(t, where, shards, formatVersion);
    const start = starts[t.shard] + t.offset;
    if (start < end) bad(`${where} overlaps the tensor before it`);
    end = start + t.byteLength;
    if (end > total) bad(`${where} runs past the last shard`);
  });
}

/** Checks the optional `int8` field: an object of positive scales, means, levels, and a text. */
function checkInt8(int8: Record<string, unknown>): void {
  if (typeof int8 !== "object" || int8 === null) bad("int8 must be an object");
  const scales = int8.scales as Record<string, unknown>;
  if (typeof scales !== "object" || scales === null || Array.isArray(scales)) {
    bad("int8.scales must be an object of layer names to scales");
  }
  for (const [layer, scale] of Object.entries(scales)) {
    if (!isScale(scale)) bad(`int8.scales.${layer} must be a positive finite number`);
  }
  const means = int8.means as Record<string, unknown> | undefined;
  if (means !== undefined && (typeof means !== "object" || means === null)) {
    bad("int8.means must be an object of layer names to lists of numbers");
  }
  for (const [layer, list] of Object.entries(means ?? {})) {
    if (!Array.isArray(list) || !list.every((v) => typeof v === "number" && Number.isFinite(v))) {
      bad(`int8.means.${layer} must be a list of finite numbers`);
    }
  }
  const levels = int8.levels as Record<string, unknown> | undefined;
  if (levels !== undefined && (typeof levels !== "object" || levels === null)) {
    bad("int8.levels must be an object of layer names to 127 or 254");
  }
  for (const [layer, value] of Object.entries(levels ?? {})) {
    if (value !== 127 && value !== 254) bad(`int8.levels.${layer} must be 127 or 254`);
  }
  if (int8.calibration !== undefined && typeof int8.calibration !== "string") {
    bad("int8.calibration must be a string");
  }
}

/**
 * Checks a parsed JSON value against the manifest rules and returns it typed.
 *
 * @throws {WeightsError} `UNSUPPORTED_VERSION` for a newer format version, `BAD_MANIFEST` for
 * anything else that does not fit (the message names the field).
 */
export function validateManifest(json: unknown): WeightsManifest {
  if (typeof json !== "object" || json === null) bad("not a JSON object");
  const m = json as Record<string, unknown>;
  checkVersion(m);
  checkModel(m.model as Record<string, unknown> | undefined);
  if (!Array.isArray(m.shards) || m.shards.length === 0) bad("shards must be a non-empty list");
  if (!Array.isArray(m.tensors) || m.tensors.length === 0) bad("tensors must be a non-empty list");
  if (!isCount(m.shardSize) || m.shardSize === 0) bad("shardSize must be a positive integer");
  const shards = m.shards as ShardEntry[];
  checkShards(shards);
  checkTensors(m.tensors as TensorEntry[], shards, m.formatVersion as number);
  if (m.int8 !== undefined) checkInt8(m.int8 as Record<string, unknown>);
  return m as unknown as WeightsManifest;
}
