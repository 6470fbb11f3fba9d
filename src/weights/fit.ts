/**
 * Matching a set of named weight shapes to the MobileNet architecture: inferring alpha, depth
 * multiplier, classes and top from the shapes alone, and checking that every tensor the
 * architecture needs is there with the right shape. Shared by the loader and the converters.
 *
 * @module
 */
import {
  type ArchitectureOptions,
  buildArchitecture,
  STEM_FILTERS,
  type WeightSpec,
} from "../model/architecture.ts";
import { WeightsError } from "../errors.ts";
import type { ModelConfig } from "./manifest.ts";

/**
 * Infers the model configuration from weight shapes (Keras names to shapes): alpha from the
 * first convolution's filters, the depth multiplier from `conv_dw_1`, the classes and the top
 * from `conv_preds`. The result is checked with {@linkcode checkShapes}.
 *
 * @throws {WeightsError} `MISSING_TENSOR` or `SHAPE_MISMATCH` naming the tensor.
 */
export function inferModelConfig(
  shapes: ReadonlyMap<string, readonly number[]>,
  resolution: number,
  labels: "imagenet" | null = "imagenet",
): ModelConfig {
  const stem = shapes.get("conv1/kernel");
  if (!stem) throw new WeightsError("MISSING_TENSOR", "no conv1/kernel: not a MobileNet v1");
  const dw = shapes.get("conv_dw_1/depthwise_kernel");
  if (!dw) {
    throw new WeightsError("MISSING_TENSOR", "no conv_dw_1/depthwise_kernel: not a MobileNet v1");
  }
  const preds = shapes.get("conv_preds/kernel");
  const config: ModelConfig = {
    architecture: "mobilenet_v1",
    alpha: stem[3] / STEM_FILTERS,
    depthMultiplier: dw[3],
    resolution,
    classes: preds ? preds[3] : 1000,
    includeTop: preds !== undefined,
    labels: preds && preds[3] === 1000 ? labels : null,
  };
  checkShapes(architectureOptions(config), shapes);
  return config;
}

/** The architecture options a weights configuration stands for. */
export function architectureOptions(config: ModelConfig): ArchitectureOptions {
  return {
    alpha: config.alpha,
    depthMultiplier: config.depthMultiplier,
    resolution: config.resolution,
    classes: config.classes,
    includeTop: config.includeTop,
  };
}

/**
 * Checks that every weight the architecture needs is in `shapes` with the right shape and
 * returns the architecture's weight list (network order).
 *
 * @throws {WeightsError} `MISSING_TENSOR` or `SHAPE_MISMATCH`, naming the tensor and the alpha.
 */
export function checkShapes(
  options: ArchitectureOptions,
  shapes: ReadonlyMap<string, readonly number[]>,
): WeightSpec[] {
  const arch = buildArchitecture(options);
  for (const spec of arch.weights) {
    const shape = shapes.get(spec.name);
    if (!shape) {
      throw new WeightsError(
        "MISSING_TENSOR",
        `weights have no tensor ${spec.name} (needed by MobileNet alpha=${arch.config.alpha})`,
      );
    }
    if (shape.length !== spec.shape.length || shape.some((d, i) => d !== spec.shape[i])) {
      throw new WeightsError(
        "SHAPE_MISMATCH",
        `tensor ${spec.name} has shape [${shape}], but MobileNet alpha=${arch.config.alpha} ` +
          `depth_multiplier=${arch.config.depthMultiplier} needs [${spec.shape}]`,
      );
    }
  }
  return arch.weights;
}
