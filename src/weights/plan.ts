/**
 * Planning a weights load, without I/O: which shards hold the wanted tensors, and cutting those
 * tensors out of the shards' bytes as the shards arrive in order (a tensor may span shards).
 *
 * @module
 */
import { WeightsError } from "../errors.ts";
import { errorMessage } from "../_util.ts";
import type { TensorEntry, WeightsManifest } from "./manifest.ts";
import { dequantize } from "./quantize.ts";

/** A tensor whose bytes have all arrived and been verified. */
export interface LoadedTensor {
  /** The manifest entry. */
  entry: TensorEntry;
  /** The values, float32 (dequantized when stored quantized). */
  data: Float32Array;
}

/** Which shards a load reads and where each wanted tensor starts in them. */
export interface ShardPlan {
  /** Offset of each shard's first byte in the manifest's concatenated shards. */
  starts: number[];
  /** The wanted tensors in network order, each with the offset of its first byte. */
  tensors: { entry: TensorEntry; start: number }[];
  /** Shards holding a byte of a wanted tensor, ascending. */
  shards: number[];
  /** Bytes of those shards. */
  totalBytes: number;
}

/**
 * Plans a load: the shards holding any byte of a wanted tensor (those `only` accepts, or all),
 * in order, and where each tensor starts. Pure: no I/O.
 */
export function planShards(
  manifest: WeightsManifest,
  only?: (name: string) => boolean,
): ShardPlan {
  const starts: number[] = [];
  let at = 0;
  for (const shard of manifest.shards) {
    starts.push(at);
    at += shard.byteLength;
  }
  const shardOf = (position: number) => {
    let i = starts.length - 1;
    while (starts[i] > position) i--;
    return i;
  };
  const tensors = manifest.tensors
    .filter((entry) => !only || only(entry.name))
    .map((entry) => ({ entry, start: starts[entry.shard] + entry.offset }));
  const needed = new Set<number>();
  for (const { entry, start } of tensors) {
    const last = shardOf(start + entry.byteLength - 1);
    for (let i = entry.shard; i <= last; i++) needed.add(i);
  }
  const shards = [...needed].sort((a, b) => a - b);
  const totalBytes = shards.reduce((n, i) => n + manifest.shards[i].byteLength, 0);
  return { starts, tensors, shards, totalBytes };
}

/** One shard's verified bytes. */
export interface ShardBytes {
  /** The shard's index in the manifest. */
  index: number;
  /** Its bytes. */
  bytes: Uint8Array;
}

/**
 * Cuts the plan's tensors out of its shards as they arrive in order; a tensor spanning shards
 * is assembled, and yielded once its last byte is in.
 */
export async function* sliceTensors(
  plan: ShardPlan,
  shards: AsyncIterable<ShardBytes>,
): AsyncGenerator<LoadedTensor> {
  let next = 0;
  let partial: Partial | undefined;
  for await (const { index, bytes } of shards) {
    const shardStart = plan.starts[index];
    const shardEnd = shardStart + bytes.byteLength;
    while (next < plan.tensors.length && plan.tensors[next].start < shardEnd) {
      const { entry, start } = plan.tensors[next];
      const end = start + entry.byteLength;
      const piece = bytes.subarray(
        Math.max(start, shardStart) - shardStart,
        Math.min(end, shardEnd) - shardStart,
      );
      if (start >= shardStart && end <= shardEnd) {
        yield { entry, data: decode(entry, piece) };
      } else {
        partial = extend(partial, piece, entry.byteLength);
        if (end > shardEnd) break;
        yield { entry, data: decode(entry, partial.bytes) };
        partial = undefined;
      }
      next++;
    }
  }
}

/** The bytes of a tensor that spans shards, so far: a view, or a copy of its own. */
interface Partial {
  bytes: Uint8Array;
  filled: number;
  owned: boolean;
}

/**
 * A tensor that spans shards, with `piece` (its next bytes) added: a view across the shards as
 * long as they lie one after the other in one buffer (the loader reads them so), else a copy.
 */
function extend(partial: Partial | undefined, piece: Uint8Array, size: number): Partial {
  if (!partial) return { bytes: piece, filled: piece.byteLength, owned: false };
  const { bytes, filled } = partial;
  const total = filled + piece.byteLength;
  if (
    !partial.owned && piece.buffer === bytes.buffer &&
    piece.byteOffset === bytes.byteOffset + filled
  ) {
    return {
      bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, total),
      filled: total,
      owned: false,
    };
  }
  const out = partial.owned ? bytes : new Uint8Array(size);
  if (!partial.owned) out.set(bytes.subarray(0, filled));
  out.set(piece, filled);
  return { bytes: out, filled: total, owned: true };
}

function decode(entry: TensorEntry, bytes: Uint8Array): Float32Array {
  try {
    return dequantize(bytes, entry.shape, entry.quantization);
  } catch (error) {
    throw new WeightsError("BAD_MANIFEST", `tensor ${entry.name}: ${errorMessage(error)}`, {
      cause: error,
    });
  }
}
