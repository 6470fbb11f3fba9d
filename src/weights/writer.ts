/**
 * Writes named float32 tensors into the project's weights format: tensors back to back in
 * network order (each starting on a 4-byte boundary), optionally quantized to float16 or uint8,
 * cut into shards of a fixed size, each with its sha256, and the manifest that describes them.
 * Pure: it returns bytes; saving them is the caller's business.
 *
 * @module
 */
import {
  DEFAULT_SHARD_SIZE,
  FORMAT_NAME,
  FORMAT_VERSION,
  FORMAT_VERSION_FLOAT32,
  type ModelConfig,
  type Quantization,
  type ShardEntry,
  type TensorEntry,
  validateManifest,
  type WeightsManifest,
} from "./manifest.ts";
import { sha256Hex } from "./sha256.ts";
import { sizeOf } from "../_util.ts";
import { type QuantizeDtype, quantizeTensor } from "./quantize.ts";

/** A tensor to write: its Keras name, shape, and float32 values. */
export interface NamedTensor {
  /** Keras weight name. */
  name: string;
  /** Shape in Keras order. */
  shape: number[];
  /** Values, row-major. */
  data: Float32Array;
}

/** Options of {@linkcode writeWeights}. */
export interface WriteOptions {
  /**
   * Shard size in bytes; the last shard may be shorter.
   * @default {1048576}
   */
  shardSize?: number;
  /** Free text recorded as the manifest's `generatedBy`. */
  generatedBy?: string;
  /**
   * Storage type of the kernels (tensors of rank 2 and more). Vectors (BatchNorm parameters,
   * biases) always stay float32: they are a small part of the bytes and the most sensitive.
   * @default {"float32"}
   */
  dtype?: QuantizeDtype;
  /**
   * uint8 only: one scale and zero point per output channel ({@linkcode channelAxis}) instead
   * of one per tensor.
   * @default {false}
   */
  perChannel?: boolean;
  /**
   * Tensors already encoded, by name, written as they are whatever `dtype` says (int8 storage:
   * `src/int8/storage.ts`).
   */
  encoded?: ReadonlyMap<string, { bytes: Uint8Array; quantization: Quantization }>;
}

/**
 * The axis that a kernel's per-channel scales run along: the last axis (output channels) of a
 * convolution or dense kernel, axis 2 (the input channels, whose count is the output's) of a
 * depthwise kernel, whose last axis is the depth multiplier.
 */
export function channelAxis(name: string, shape: readonly number[]): number {
  return name.endsWith("/depthwise_kernel") && shape.length === 4 ? 2 : shape.length - 1;
}

/** The written weights: the manifest and the bytes of each shard, in order. */
export interface WrittenWeights {
  /** The manifest to save as `manifest.json`. */
  manifest: WeightsManifest;
  /** Shard bytes, index-aligned with `manifest.shards`. */
  shards: Uint8Array[];
}

/** Zero-padded shard file name, e.g. `shard-003.bin`. */
export function shardFileName(index: number): string {
  return `shard-${String(index).padStart(3, "0")}.bin`;
}

function checkWriteOptions(options: WriteOptions) {
  const shardSize = options.shardSize ?? DEFAULT_SHARD_SIZE;
  if (!Number.isInteger(shardSize) || shardSize < 1024) {
    throw new RangeError(`shardSize must be an integer of at least 1024 bytes, got ${shardSize}`);
  }
  const dtype = options.dtype ?? "float32";
  if (!["float32", "float16", "uint8"].includes(dtype)) {
    throw new RangeError(`dtype must be "float32", "float16" or "uint8", got ${String(dtype)}`);
  }
  if (options.perChannel && dtype !== "uint8") {
    throw new RangeError(`perChannel applies to uint8 only, not ${dtype}`);
  }
  return { shardSize, dtype, perChannel: options.perChannel === true };
}

/** A tensor's stored bytes: float32 as is, or quantized (vectors always stay float32). */
function storeTensor(t: NamedTensor, dtype: QuantizeDtype, perChannel: boolean) {
  const size = sizeOf(t.shape);
  if (t.data.length !== size) {
    throw new RangeError(
      `tensor ${t.name} has ${t.data.length} values but shape [${t.shape}] needs ${size}`,
    );
  }
  if (dtype === "float32" || t.shape.length < 2) {
    return { bytes: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) };
  }
  return quantizeTensor(t.data, t.shape, {
    dtype,
    axis: perChannel ? channelAxis(t.name, t.shape) : undefined,
  });
}

/** Lays stored tensors out one after the other (4-byte aligned) and makes their entries. */
function layOut(
  tensors: readonly NamedTensor[],
  stored: { bytes: Uint8Array; quantization?: Quantization }[],
  shardSize: number,
): { stream: Uint8Array; entries: TensorEntry[] } {
  const align = (n: number) => Math.ceil(n / 4) * 4;
  let total = 0;
  for (const s of stored) total = align(total) + s.bytes.byteLength;
  const stream = new Uint8Array(total);
  const entries: TensorEntry[] = [];
  let position = 0;
  tensors.forEach((t, i) => {
    const { bytes, quantization } = stored[i];
    position = align(position);
    stream.set(bytes, position);
    entries.push({
      name: t.name,
      shape: [...t.shape],
      dtype: "float32",
      shard: Math.floor(position / shardSize),
      offset: position % shardSize,
      byteLength: bytes.byteLength,
      ...(quantization ? { quantization } : {}),
    });
    position += bytes.byteLength;
  });
  return { stream, entries };
}

/**
 * Lays `tensors` out in the given order and cuts them into shards.
 *
 * @throws {RangeError} for a bad shard size or a tensor whose data does not fit its shape.
 */
export async function writeWeights(
  model: ModelConfig,
  tensors: readonly NamedTensor[],
  options: WriteOptions = {},
): Promise<WrittenWeights> {
  const { shardSize, dtype, perChannel } = checkWriteOptions(options);
  const stored = tensors.map((t) =>
    options.encoded?.get(t.name) ?? storeTensor(t, dtype, perChannel)
  );
  const { stream, entries } = layOut(tensors, stored, shardSize);
  const shards: Uint8Array[] = [];
  const shardEntries: ShardEntry[] = [];
  for (let start = 0, i = 0; start < stream.byteLength; start += shardSize, i++) {
    const bytes = stream.subarray(start, Math.min(stream.byteLength, start + shardSize));
    shards.push(bytes);
    shardEntries.push({
      file: shardFileName(i),
      byteLength: bytes.byteLength,
      sha256: await sha256Hex(bytes),
    });
  }
  const manifest = validateManifest({
    format: FORMAT_NAME,
    formatVersion: entries.some((e) => e.quantization) ? FORMAT_VERSION : FORMAT_VERSION_FLOAT32,
    ...(options.generatedBy ? { generatedBy: options.generatedBy } : {}),
    model,
    shardSize,
    shards: shardEntries,
    tensors: entries,
  });
  return { manifest, shards };
}
