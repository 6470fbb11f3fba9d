/**
 * From decoded pixels (or a pixel tensor) to the model's input: resize to the model's
 * resolution ("stretch" the whole frame, "center-crop" the largest centred square, or
 * "center-crop-87.5" the centre 87.5% of it, as ImageNet evaluations crop) with
 * bilinear sampling like `tf.image.resizeBilinear` (alignCorners and halfPixelCenters both
 * false, the TF.js default the reference pipeline uses; the same arithmetic as tfjs' CPU kernel,
 * within 1e-4 of the WASM kernel), then scale [0, 255] to [-1, 1] as `x / 127.5 - 1`. The pixel
 * path writes straight into the input batch buffer, one pass, no intermediate image.
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import type { Pixels } from "./pixels.ts";

/**
 * How an image is fitted to the square model input:
 * - "stretch": the whole frame, aspect ratio not kept (what the reference pipeline does);
 * - "center-crop": the largest centred square;
 * - "center-crop-87.5": the ImageNet evaluation convention (resize the short side to 256 and
 *   crop the centre 224, i.e. 224/256 = 87.5%): a centred square of 87.5% of the short side.
 */
export type ResizeMode = "stretch" | "center-crop" | "center-crop-87.5";

/** The resize modes, for validation and help texts. */
export const RESIZE_MODES: readonly ResizeMode[] = ["stretch", "center-crop", "center-crop-87.5"];

/** The side of "center-crop-87.5"'s square as a fraction of the short side: 224 / 256. */
export const IMAGENET_CROP_FRACTION = 224 / 256;

/**
 * The smallest short side a decoder may reduce an image to (JPEGs are reduced in the DCT
 * domain) so that `mode`'s square still has `size` pixels or more: `size`, or `size / 0.875`
 * for "center-crop-87.5".
 */
export function minSourceSide(size: number, mode: ResizeMode): number {
  return mode === "center-crop-87.5" ? Math.ceil(size / IMAGENET_CROP_FRACTION) : size;
}

/** A source rectangle in pixels. */
export interface Rect {
  /** Left edge. */
  x: number;
  /** Top edge. */
  y: number;
  /** Width. */
  width: number;
  /** Height. */
  height: number;
}

/**
 * Checks a resize option: the one validation of resize modes (options, CLI flags, `sourceRect`).
 *
 * @throws {RangeError} when `mode` is not one of {@linkcode RESIZE_MODES}.
 */
export function checkResizeMode(mode: unknown): ResizeMode {
  if (!RESIZE_MODES.includes(mode as ResizeMode)) {
    throw new RangeError(
      `resize must be one of ${RESIZE_MODES.join(", ")}, got ${JSON.stringify(mode)}`,
    );
  }
  return mode as ResizeMode;
}

/**
 * The part of a `width x height` image that `mode` maps onto the model input.
 *
 * @throws {RangeError} when `mode` is not a resize mode.
 */
export function sourceRect(width: number, height: number, mode: ResizeMode): Rect {
  if (checkResizeMode(mode) === "stretch") return { x: 0, y: 0, width, height };
  const short = Math.min(width, height);
  const side = mode === "center-crop"
    ? short
    : Math.max(1, Math.round(short * IMAGENET_CROP_FRACTION));
  return {
    x: Math.floor((width - side) / 2),
    y: Math.floor((height - side) / 2),
    width: side,
    height: side,
  };
}

/** Sample positions of legacy bilinear resizing along one axis. */
interface Axis {
  lo: Int32Array;
  hi: Int32Array;
  frac: Float64Array;
}

function axis(start: number, inSize: number, outSize: number): Axis {
  const scale = inSize / outSize;
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const frac = new Float64Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const src = i * scale;
    const floor = Math.max(0, Math.floor(src));
    lo[i] = start + floor;
    hi[i] = start + Math.min(inSize - 1, Math.ceil(src));
    frac[i] = src - floor;
  }
  return { lo, hi, frac };
}

/**
 * Resizes and scales `pixels` into `out` (NHWC float32, `size * size * 3` values from
 * `offset`), returning `out`. Alpha is ignored; gray is repeated into R, G and B.
 */
export function preprocessPixels(
  pixels: Pixels,
  size: number,
  mode: ResizeMode = "stretch",
  out: Float32Array = new Float32Array(size * size * 3),
  offset = 0,
): Float32Array {
  const { data, width, channels } = pixels;
  const rect = sourceRect(width, pixels.height, mode);
  const ys = axis(rect.y, rect.height, size);
  const xs = axis(rect.x, rect.width, size);
  const rowStride = width * channels;
  const colors = channels === 1 ? [0, 0, 0] : [0, 1, 2];
  let o = offset;
  for (let y = 0; y < size; y++) {
    const top = ys.lo[y] * rowStride;
    const bottom = ys.hi[y] * rowStride;
    const dy = ys.frac[y];
    for (let x = 0; x < size; x++) {
      const left = xs.lo[x] * channels;
      const right = xs.hi[x] * channels;
      const dx = xs.frac[x];
      for (const c of colors) {
        const tl = data[top + left + c];
        const tr = data[top + right + c];
        const bl = data[bottom + left + c];
        const br = data[bottom + right + c];
        const upper = tl + (tr - tl) * dx;
        const lower = bl + (br - bl) * dx;
        // Same float32 steps as resizeBilinear(), div(127.5), sub(1) in tfjs.
        out[o++] = Math.fround(Math.fround(upper + (lower - upper) * dy) / 127.5) - 1;
      }
    }
  }
  return out;
}

/**
 * Resizes and scales a pixel tensor (HWC or NHWC, values 0..255, 3 channels, any dtype) into
 * a float32 NHWC batch at `size`. The input is not disposed.
 *
 * @throws {RangeError} for a rank other than 3 or 4, or a channel count other than 3.
 */
export function preprocessTensor(
  image: tf.Tensor,
  size: number,
  mode: ResizeMode = "stretch",
): tf.Tensor4D {
  if (image.rank !== 3 && image.rank !== 4) {
    throw new RangeError(
      `expected an image tensor of rank 3 (HWC) or 4 (NHWC), got rank ${image.rank} with shape [${image.shape}]`,
    );
  }
  const [h, w, c] = image.shape.slice(-3);
  if (c !== 3) {
    throw new RangeError(
      `expected 3 color channels (RGB) in the last axis, got shape [${image.shape}]`,
    );
  }
  if (h < 2 || w < 2) {
    throw new RangeError(`image tensor is ${w}x${h} pixels; at least 2x2 is needed`);
  }
  const rect = sourceRect(w, h, mode);
  return tf.tidy(() => {
    let x = (image.rank === 3 ? tf.expandDims(image, 0) : image) as tf.Tensor4D;
    x = tf.cast(x, "float32");
    if (mode !== "stretch") {
      x = tf.slice(x, [0, rect.y, rect.x, 0], [-1, rect.height, rect.width, 3]);
    }
    const resized = tf.image.resizeBilinear(x, [size, size], false, false);
    return tf.sub(tf.div(resized, 127.5), 1);
  });
}
