/**
 * A minimal valid weights manifest (one 8-byte shard, one tensor) for validation tests, with
 * the tensor's fields open to override.
 *
 * @module
 */

/** A manifest of `formatVersion` whose one tensor has the fields of `tensor` on top of a 2-value float32. */
export function minimalManifest(formatVersion = 1, tensor: Record<string, unknown> = {}) {
  return {
    format: "mobilenet-edge-weights",
    formatVersion,
    model: {
      architecture: "mobilenet_v1",
      alpha: 1,
      depthMultiplier: 1,
      resolution: 224,
      classes: 1000,
      includeTop: true,
      labels: "imagenet",
    },
    shardSize: 1024,
    shards: [{ file: "shard-000.bin", byteLength: 8, sha256: "0".repeat(64) }],
    tensors: [{
      name: "a",
      shape: [2],
      dtype: "float32",
      shard: 0,
      offset: 0,
      byteLength: 8,
      ...tensor,
    }],
  };
}
