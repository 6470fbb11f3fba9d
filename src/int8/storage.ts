/**
 * int8 storage of converted weights (`deno task convert … --int8 PHOTOS`): the kernels of the
 * int8 layers (`conv_pw_*`, `conv_preds`) stored as the int8 values the kernel computes with
 * (per output channel, symmetric: the format's uint8 per-channel encoding with zero point 128,
 * `weights/FORMAT.md`), a quarter of the bytes, read by every reader of format version 2.
 *
 * The kernel packs a stored kernel back to the same integers (its per-column scale is the
 * stored one, up to float32 rounding), but it can no longer see the float32 weights the bias
 * correction compares them with. So the correction is made here, once, from the original
 * weights and the calibration's input means, and stored in the layer's bias: BatchNorm's beta
 * (shifted by the correction times the BatchNorm scale, so that folding gives the corrected
 * bias) or `conv_preds/bias`. The manifest then carries the scales without the means.
 *
 * @module
 */
import { type Architecture, BATCH_NORM_EPSILON } from "../model/architecture.ts";
import { int8Layers } from "../model/mobilenet.ts";
import type { Quantization } from "../weights/manifest.ts";
import type { Int8Calibration } from "./calibrate.ts";

/** Zero point of the symmetric encoding: stored byte 128 is 0. */
const ZERO_POINT = 128;

/** A tensor by name, as the writer takes it. */
interface Tensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/**
 * A `[..., k, n]` kernel as int8 per output channel (last axis): `q = round(w * 127 / max)`,
 * stored as `q + 128`; the decoded values `(byte - 128) * scale`.
 */
export function symmetricInt8(data: Float32Array, shape: readonly number[]): {
  bytes: Uint8Array;
  quantization: Quantization;
  decoded: Float32Array;
} {
  const n = shape[shape.length - 1];
  const max = new Float64Array(n);
  for (let i = 0; i < data.length; i++) max[i % n] = Math.max(max[i % n], Math.abs(data[i]));
  // an all-zero channel keeps scale 1 (a scale must be positive): its bytes are all 128
  const scale = Array.from(max, (m) => (m > 0 ? Math.fround(m / 127) : 1));
  const bytes = new Uint8Array(data.length);
  const decoded = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const s = scale[i % n];
    const q = Math.max(-127, Math.min(127, Math.round(data[i] / s)));
    bytes[i] = q + ZERO_POINT;
    decoded[i] = q * s; // as the loader decodes it
  }
  const quantization: Quantization = {
    dtype: "uint8",
    scale,
    zeroPoint: scale.map(() => ZERO_POINT),
    axis: shape.length - 1,
  };
  return { bytes, quantization, decoded };
}

/**
 * The tensors to write for int8 storage: the int8 layers' kernels with their encoding, and the
 * biases they feed corrected for the mean error of the stored kernels on inputs of the
 * calibrated means. Other tensors are returned as they are.
 *
 * @throws {RangeError} when the calibration lacks the means of an int8 layer it has a scale for.
 */
export function int8Storage(
  architecture: Architecture,
  tensors: readonly Tensor[],
  calibration: Int8Calibration,
): {
  tensors: Tensor[];
  encodings: Map<string, { bytes: Uint8Array; quantization: Quantization }>;
} {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const replaced = new Map<string, Tensor>();
  const encodings = new Map<string, { bytes: Uint8Array; quantization: Quantization }>();
  for (const layer of int8Layers(architecture)) {
    if (calibration.scales[layer] === undefined) continue; // left float32
    const means = calibration.means[layer];
    if (!means) throw new RangeError(`the calibration has no means for ${layer}`);
    const kernel = byName.get(`${layer}/kernel`)!;
    const { bytes, quantization, decoded } = symmetricInt8(kernel.data, kernel.shape);
    encodings.set(kernel.name, { bytes, quantization });
    const n = kernel.shape[kernel.shape.length - 1];
    const correction = new Float64Array(n);
    for (let i = 0; i < decoded.length; i++) {
      correction[i % n] += means[Math.floor(i / n)] * (decoded[i] - kernel.data[i]);
    }
    if (layer === "conv_preds") {
      const bias = byName.get("conv_preds/bias")!;
      const data = bias.data.map((b, c) => b - correction[c]);
      replaced.set(bias.name, { ...bias, data });
    } else {
      // folding multiplies the kernel (so the error) by gamma / sqrt(variance + epsilon)
      const bn = architecture.steps.find((s) => s.name === layer)!.bn;
      const gamma = byName.get(`${bn}/gamma`)!.data;
      const variance = byName.get(`${bn}/moving_variance`)!.data;
      const beta = byName.get(`${bn}/beta`)!;
      const data = beta.data.map((b, c) =>
        b - correction[c] * (gamma[c] / Math.sqrt(variance[c] + BATCH_NORM_EPSILON))
      );
      replaced.set(beta.name, { ...beta, data });
    }
  }
  return { tensors: tensors.map((t) => replaced.get(t.name) ?? t), encodings };
}
