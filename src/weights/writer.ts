/**
 * Writes named float32 tensors into the project's weights format: tensors back to back in
 * network order, cut into shards of a fixed size, each with its sha256, and the manifest that
 * describes them. Pure: it returns bytes; saving them is the caller's business.
 *
 * @module
 */
import {
  DEFAULT_SHARD_SIZE,
  FORMAT_NAME,
  FORMAT_VERSION,
  type ModelConfig,
  type ShardEntry,
  type TensorEntry,
  validateManifest,
  type WeightsManifest,
} from "./manifest.ts";
import { sha256Hex } from "./sha256.ts";

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
  const shardSize = options.shardSize ?? DEFAULT_SHARD_SIZE;
  if (!Number.isInteger(shardSize) || shardSize < 1024) {
    throw new RangeError(`shardSize must be an integer of at least 1024 bytes, got ${shardSize}`);
  }
  let total = 0;
  for (const t of tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== size) {
      throw new RangeError(
        `tensor ${t.name} has ${t.data.length} values but shape [${t.shape}] needs ${size}`,
      );
    }
    total += t.data.byteLength;
  }
  const stream = new Uint8Array(total);
  const entries: TensorEntry[] = [];
  let position = 0;
  for (const t of tensors) {
    stream.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), position);
    entries.push({
      name: t.name,
      shape: [...t.shape],
      dtype: "float32",
      shard: Math.floor(position / shardSize),
      offset: position % shardSize,
      byteLength: t.data.byteLength,
    });
    position += t.data.byteLength;
  }
  const shards: Uint8Array[] = [];
  const shardEntries: ShardEntry[] = [];
  for (let start = 0, i = 0; start < total; start += shardSize, i++) {
    const bytes = stream.subarray(start, Math.min(total, start + shardSize));
    shards.push(bytes);
    shardEntries.push({
      file: shardFileName(i),
      byteLength: bytes.byteLength,
      sha256: await sha256Hex(bytes),
    });
  }
  const manifest = validateManifest({
    format: FORMAT_NAME,
    formatVersion: FORMAT_VERSION,
    ...(options.generatedBy ? { generatedBy: options.generatedBy } : {}),
    model,
    shardSize,
    shards: shardEntries,
    tensors: entries,
  });
  return { manifest, shards };
}
