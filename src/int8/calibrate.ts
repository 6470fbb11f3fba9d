/**
 * Calibration of `precision: "int8"`, once, from photos: the float32 network runs on them, and
 * what the int8 layers (the 1x1 convolutions and the classifier) receive is measured. The result
 * goes into the weights' manifest (`int8`), so that no photo is needed at run time:
 *
 * - `scales`: each layer's input scale. Its inputs are ReLU6 outputs (the classifier's: their
 *   average), so in [0, 6]; they are gathered in a histogram of {@linkcode HISTOGRAM_BINS} bins,
 *   and the scale is `clip / 127` for the clip that minimizes the mean squared error of
 *   quantizing them to `min(127, round(x / scale)) * scale` ({@linkcode bestClip}); for a wide
 *   layer (8-bit activations, `levels` 254) the clip of least error onto `min(254, ...)`, whose
 *   step `clip / 254` is written doubled, as a 0..127 scale (so that a reader that ignores
 *   `levels` runs the layer in 7 bits with a sound scale).
 * - `means`: the mean of each input channel of each layer. The kernel subtracts from each output
 *   channel's bias the mean error its quantized weights make on such inputs (bias correction,
 *   Nagel et al. 2019, "Data-Free Quantization"): on 0.75/224 it takes the logits' mean squared
 *   error from int8 weights from 0.15 to 0.01, and top-1 agreement with float32 on 100 photos
 *   from 93 to 99 (measured with float32 arithmetic and quantized weights, `bench/int8_eval.ts`).
 *
 * @module
 */
import * as tf from "../vendor/tfjs.js";
import { inputChannels, int8Layers, MobileNetNetwork } from "../model/mobilenet.ts";
import { type ArchitectureOptions, buildArchitecture } from "../model/architecture.ts";
import { acquireBackend } from "../backend/lease.ts";
import { decodeImage } from "../image/decode.ts";
import { minSourceSide, preprocessPixels, type ResizeMode } from "../image/preprocess.ts";

/** Upper end of the histograms: ReLU6's. */
export const HISTOGRAM_MAX = 6;
/** Bins of a histogram: 0.0001 wide, far finer than any quantization step (at least 0.004). */
export const HISTOGRAM_BINS = 60_000;
/** Largest 7-bit activation. */
const LEVELS = 127;
/** Largest activation of a wide layer (8 bits as two 7-bit bytes). */
const WIDE_LEVELS = 254;

/** The distribution of one layer's input values. */
export class ActivationHistogram {
  /** Values per bin; values at or above {@linkcode HISTOGRAM_MAX} count in the last one. */
  readonly counts: Float64Array = new Float64Array(HISTOGRAM_BINS);
  /** Values seen. */
  total = 0;
  /** Largest value seen (0 for none). */
  max = 0;

  /**
   * Counts `values`.
   *
   * @throws {RangeError} for a negative or NaN value (not a ReLU6 output).
   */
  add(values: ArrayLike<number>): void {
    const scale = HISTOGRAM_BINS / HISTOGRAM_MAX;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (!(v >= 0)) throw new RangeError(`int8 layer inputs must be >= 0, got ${v}`);
      if (v > this.max) this.max = v;
      this.counts[Math.min(HISTOGRAM_BINS - 1, Math.floor(v * scale))]++;
    }
    this.total += values.length;
  }

  /**
   * Mean squared error of quantizing the values with `clip` onto 0..`levels` (each bin's values
   * taken at its centre): `x -> min(levels, round(x * levels / clip)) * clip / levels`.
   */
  error(clip: number, levels = LEVELS): number {
    const step = clip / levels;
    const width = HISTOGRAM_MAX / HISTOGRAM_BINS;
    let sum = 0;
    for (let b = 0; b < HISTOGRAM_BINS; b++) {
      const n = this.counts[b];
      if (n === 0) continue;
      const x = (b + 0.5) * width;
      const q = Math.min(levels, Math.round(x / step)) * step;
      sum += n * (x - q) * (x - q);
    }
    return this.total ? sum / this.total : 0;
  }
}

/**
 * The clip of least {@linkcode ActivationHistogram.error} onto 0..`levels`, among the largest
 * value seen and `candidates - 1` values below it down to a tenth of it (at least one
 * quantization step of ReLU6's range for an all-zero layer).
 */
export function bestClip(
  histogram: ActivationHistogram,
  candidates = 200,
  levels = LEVELS,
): number {
  const top = Math.max(histogram.max, HISTOGRAM_MAX / levels);
  let best = top;
  let bestError = histogram.error(top, levels);
  for (let i = 1; i < candidates; i++) {
    const clip = top * (1 - (0.9 * i) / (candidates - 1));
    const error = histogram.error(clip, levels);
    if (error < bestError) [best, bestError] = [clip, error];
  }
  return best;
}

/** What one int8 layer's inputs looked like. */
export class LayerStats {
  /** The distribution of all the values. */
  readonly histogram: ActivationHistogram = new ActivationHistogram();
  /** Sum of each channel's values. */
  readonly sums: Float64Array;
  /** Values per channel seen. */
  count = 0;

  /** Statistics of a layer with `channels` input channels. */
  constructor(readonly channels: number) {
    this.sums = new Float64Array(channels);
  }

  /**
   * Adds `values`, channels last (NHWC pixels or `[n, channels]` rows).
   *
   * @throws {RangeError} when the length is not a multiple of the channels, or for a negative
   * value.
   */
  add(values: ArrayLike<number>): void {
    const c = this.channels;
    if (values.length % c !== 0) {
      throw new RangeError(`${values.length} values are not rows of ${c} channels`);
    }
    this.histogram.add(values);
    for (let i = 0; i < values.length; i++) this.sums[i % c] += values[i];
    this.count += values.length / c;
  }

  /** The mean of each channel (0 when nothing was seen). */
  means(): number[] {
    return Array.from(this.sums, (sum) => (this.count ? sum / this.count : 0));
  }
}

/** A manifest's `int8` field. */
export interface Int8Calibration {
  /** Input scale of each int8 layer. */
  scales: Record<string, number>;
  /** Mean of each input channel of each int8 layer. */
  means: Record<string, number[]>;
  /** The wide layers (8-bit activations): 254 (absent: 127). */
  levels?: Record<string, number>;
  /** How it was measured. */
  calibration: string;
}

/**
 * Significant digits kept in the manifest, far below the quantization's own error: 6 for scales,
 * 4 for means (a relative error of 1e-4 on a correction that is itself small).
 */
const round = (v: number, digits: number) => Number(v.toPrecision(digits));

/**
 * Runs the float32 `network` on each input (NHWC float32, one image at the network's
 * resolution) and returns the calibration of its int8 layers; `calibration` describes the
 * inputs, and the layers of `wide` get 8-bit activations (scales onto 0..254, `levels` 254).
 *
 * @throws {RangeError} when no input is given or the network is int8 (calibrate float32).
 */
export async function calibrateNetwork(
  network: MobileNetNetwork,
  inputs: Iterable<Float32Array> | AsyncIterable<Float32Array>,
  calibration: string,
  wide: readonly string[] = [],
): Promise<Int8Calibration> {
  if (network.precision !== "float32") throw new RangeError("calibrate a float32 network");
  const arch = network.architecture;
  const size = arch.config.resolution;
  const stats = new Map(int8Layers(arch).map((l) => [l, new LayerStats(inputChannels(arch, l))]));
  let images = 0;
  for await (const data of inputs) {
    const x = tf.tensor4d(data, [1, size, size, 3]);
    try {
      network.observeInt8Inputs(x, (layer, values) => stats.get(layer)?.add(values));
    } finally {
      x.dispose();
    }
    images++;
  }
  if (images === 0) throw new RangeError("calibration needs at least one image");
  const scales: Record<string, number> = {};
  const means: Record<string, number[]> = {};
  const levels: Record<string, number> = {};
  for (const [layer, s] of stats) {
    const top = wide.includes(layer) ? WIDE_LEVELS : LEVELS;
    // a wide layer's step (clip / 254, rounded) doubled: written as a 0..127 scale
    const step = round(bestClip(s.histogram, 200, top) / top, 6);
    scales[layer] = top === WIDE_LEVELS ? 2 * step : step;
    means[layer] = s.means().map((m) => round(m, 4));
    if (top !== LEVELS) levels[layer] = top;
  }
  return { scales, means, ...(wide.length ? { levels } : {}), calibration };
}

/** File names calibration reads from a folder: JPEG and PNG. */
const PHOTO = /\.(jpe?g|png)$/i;

/**
 * The photos of `dir` (JPEG and PNG, sorted by name, at most `limit`), each decoded and fitted
 * to `size` x `size` as `classify` does (`resize`), as NHWC float32 inputs.
 *
 * @throws {RangeError} when `dir` holds no photo; `ImageDecodeError` for one that cannot be read.
 */
export async function* photoInputs(
  dir: string,
  size: number,
  resize: ResizeMode,
  limit = Infinity,
): AsyncGenerator<Float32Array> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && PHOTO.test(entry.name)) files.push(entry.name);
  }
  if (files.length === 0) throw new RangeError(`${dir} holds no JPEG or PNG photo`);
  const side = minSourceSide(size, resize);
  for (const file of files.sort().slice(0, limit)) {
    const bytes = await Deno.readFile(`${dir}/${file}`);
    const pixels = await decodeImage(bytes, { minWidth: side, minHeight: side });
    yield preprocessPixels(pixels, size, resize);
  }
}

/** Options of {@linkcode calibrateWeights}. */
export interface CalibrateOptions {
  /** Use the first photos by name only. @default {Infinity} */
  limit?: number;
  /** How photos are fitted, as `classify` does. */
  resize: ResizeMode;
  /** Layers to leave float32 (no scale, no means). @default {[]} */
  float?: readonly string[];
  /** Layers to give 8-bit activations (0..254, two dot products), or all of them. @default {[]} */
  wide?: readonly string[] | "all";
  /** Who calibrates, for the description (e.g. `deno task calibrate`). */
  tool: string;
}

/**
 * The `--float LAYERS` and `--wide LAYERS|all` flags of `calibrate` and `convert --int8`:
 * comma-separated layer names (checked by {@linkcode calibrateWeights}).
 */
export function layerFlags(
  float: unknown,
  wide: unknown,
): { float: string[]; wide: string[] | "all" } {
  const list = (v: unknown) => typeof v === "string" ? v.split(",").filter(Boolean) : [];
  return { float: list(float), wide: wide === "all" ? "all" : list(wide) };
}

/**
 * Calibrates weights (Keras names to float32 values, of the architecture `options` describe) on
 * the photos of `photos` (a folder), on the shared backend.
 *
 * @throws {RangeError} for a `float` name that is not an int8 layer, or a folder without photos.
 */
export async function calibrateWeights(
  options: ArchitectureOptions,
  tensors: Iterable<[string, Float32Array]>,
  photos: string,
  how: CalibrateOptions,
): Promise<Int8Calibration> {
  const arch = buildArchitecture(options);
  const known = int8Layers(arch);
  const float = how.float ?? [];
  const wide = how.wide === "all" ? known : how.wide ?? [];
  for (const layer of [...float, ...wide]) {
    if (!known.includes(layer)) throw new RangeError(`${layer} is not one of ${known.join(", ")}`);
  }
  const lease = await acquireBackend({});
  const network = new MobileNetNetwork(arch);
  try {
    for (const [name, data] of tensors) network.addWeight(name, data);
    network.checkComplete("the weights to calibrate");
    let count = 0;
    const inputs = async function* () {
      const size = arch.config.resolution;
      for await (const input of photoInputs(photos, size, how.resize, how.limit)) {
        count++;
        yield input;
      }
    };
    const result = await calibrateNetwork(network, inputs(), "", wide);
    for (const layer of float) {
      delete result.scales[layer];
      delete result.means[layer];
      delete result.levels?.[layer];
    }
    const folder = photos.replace(/\/+$/, "").split("/").slice(-2).join("/");
    const kept = float.length ? `; float32: ${float.join(", ")}` : "";
    const eight = wide.filter((l) => !float.includes(l));
    const bits = eight.length ? `; 0..254 (8-bit): ${eight.join(", ")}` : "";
    result.calibration = `${how.tool}: ${count} photos of ${folder} (${how.resize}), float32; ` +
      "scales: least-squared-error clip of each layer's inputs over 0..127; " +
      `means: each input channel's, for bias correction${kept}${bits}`;
    return result;
  } finally {
    network.dispose();
    await lease.release();
  }
}

/**
 * A manifest as JSON text: two-space indents, as the converter writes it, with each list of more
 * than 4 numbers on one line (int8 means and per-channel scales: thousands of numbers).
 */
export function manifestText(manifest: object): string {
  const lists: string[] = [];
  const text = JSON.stringify(manifest, (_, value) => {
    if (Array.isArray(value) && value.length > 4 && value.every((v) => typeof v === "number")) {
      lists.push(JSON.stringify(value).replaceAll(",", ", "));
      return `\u0000${lists.length - 1}`;
    }
    return value;
  }, 2);
  return text.replace(/"\\u0000(\d+)"/g, (_, i) => lists[Number(i)]) + "\n";
}
