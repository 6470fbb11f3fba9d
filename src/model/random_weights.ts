/**
 * Seeded random weights for any MobileNet configuration, for benchmarks and tests of
 * configurations without published weights (1.0/224 here). Kernels use He-uniform scaling and
 * BatchNorm gets plausible statistics, so activations stay in a realistic range.
 *
 * @module
 */
import { type ArchitectureOptions, buildArchitecture } from "./architecture.ts";
import { mulberry32, sizeOf } from "../_util.ts";

/** Random weights by Keras name for the architecture `options` describe. */
export function randomWeights(
  options: ArchitectureOptions = {},
  seed = 1,
): Map<string, Float32Array> {
  const random = mulberry32(seed);
  const weights = new Map<string, Float32Array>();
  for (const spec of buildArchitecture(options).weights) {
    const size = sizeOf(spec.shape);
    const data = new Float32Array(size);
    const kind = spec.name.split("/")[1];
    if (kind === "kernel" || kind === "depthwise_kernel") {
      const [kh, kw, cin] = spec.shape;
      const fanIn = kind === "kernel" ? kh * kw * cin : kh * kw;
      const limit = Math.sqrt(6 / fanIn);
      for (let i = 0; i < size; i++) data[i] = (random() * 2 - 1) * limit;
    } else if (kind === "gamma" || kind === "moving_variance") {
      for (let i = 0; i < size; i++) data[i] = 0.5 + random();
    } else {
      for (let i = 0; i < size; i++) data[i] = (random() * 2 - 1) * 0.1;
    }
    weights.set(spec.name, data);
  }
  return weights;
}
