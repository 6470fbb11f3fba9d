/**
 * The identity of a set of weights: one hash standing for all of them, which heads taught on
 * the weights record, so that a head is never applied to other weights.
 *
 * @module
 */
import type { WeightsManifest } from "./manifest.ts";
import { sha256Hex } from "./sha256.ts";

/**
 * The sha256 of the manifest's shard hashes, each followed by a newline: it changes when any
 * weight does (a shard's bytes, and so its hash), and not when the manifest is only moved or
 * reformatted.
 */
export function weightsId(manifest: Pick<WeightsManifest, "shards">): Promise<string> {
  const text = manifest.shards.map((shard) => `${shard.sha256}\n`).join("");
  return sha256Hex(new TextEncoder().encode(text));
}
