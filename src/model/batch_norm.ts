/**
 * Folding inference-mode BatchNorm into the convolution before it: for every output channel c,
 * `scale = gamma / sqrt(variance + epsilon)`, `kernel' = kernel * scale` and
 * `bias = beta - mean * scale`, so conv + BN becomes one conv with a bias. Done once at load, in
 * float64, stored as float32.
 *
 * @module
 */
import { BATCH_NORM_EPSILON } from "./architecture.ts";

/** The four vectors of a Keras BatchNormalization layer, one value per channel. */
export interface BatchNormParams {
  /** Scale. */
  gamma: Float32Array;
  /** Offset. */
  beta: Float32Array;
  /** Moving mean. */
  mean: Float32Array;
  /** Moving variance. */
  variance: Float32Array;
}

/** A convolution kernel with BatchNorm folded in, and its new bias. */
export interface FoldedConv {
  /** The scaled kernel, same shape and layout as the input kernel. */
  kernel: Float32Array;
  /** One bias per output channel. */
  bias: Float32Array;
}

/**
 * Folds BatchNorm into a kernel whose innermost dimension runs over the output channels: a conv
 * kernel `[kh, kw, in, out]`, or a depthwise kernel `[kh, kw, in, multiplier]` whose output
 * channel is `in_index * multiplier + m` (the flattened last two dimensions). The folded kernel
 * is written to `out` when it is given (at least as long as `kernel`; the result is then a view
 * of its start), else to a new array.
 *
 * @throws {RangeError} when the kernel length is not a multiple of the channel count, or `out`
 * is too short.
 */
export function foldBatchNorm(
  kernel: Float32Array,
  bn: BatchNormParams,
  epsilon: number = BATCH_NORM_EPSILON,
  out?: Float32Array,
): FoldedConv {
  const channels = bn.gamma.length;
  const { scale, bias } = foldScale(bn, epsilon);
  if (kernel.length % channels !== 0) {
    throw new RangeError(
      `kernel of ${kernel.length} values does not divide into ${channels} output channels`,
    );
  }
  if (out && out.length < kernel.length) {
    throw new RangeError(`out holds ${out.length} values, the kernel ${kernel.length}`);
  }
  const folded = out ? out.subarray(0, kernel.length) : new Float32Array(kernel.length);
  // Row by row of `channels` values (no division per value: a third of the time).
  for (let row = 0; row < kernel.length; row += channels) {
    for (let c = 0; c < channels; c++) folded[row + c] = kernel[row + c] * scale[c];
  }
  return { kernel: folded, bias };
}

/**
 * The per-channel factors of a fold: `scale = gamma / sqrt(variance + epsilon)` (float64) and
 * the folded `bias = beta - mean * scale`; the kernel's values are then `kernel * scale`.
 *
 * @throws {RangeError} when the four vectors differ in length.
 */
export function foldScale(
  bn: BatchNormParams,
  epsilon: number = BATCH_NORM_EPSILON,
): { scale: Float64Array; bias: Float32Array } {
  const channels = bn.gamma.length;
  for (const key of ["beta", "mean", "variance"] as const) {
    if (bn[key].length !== channels) {
      throw new RangeError(`BatchNorm ${key} has ${bn[key].length} values, gamma has ${channels}`);
    }
  }
  const scale = new Float64Array(channels);
  const bias = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    scale[c] = bn.gamma[c] / Math.sqrt(bn.variance[c] + epsilon);
    bias[c] = bn.beta[c] - bn.mean[c] * scale[c];
  }
  return { scale, bias };
}
