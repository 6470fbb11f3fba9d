/**
 * From decoded pixels (or a pixel tensor) to the model's input: resize to the model's
 * resolution ("stretch" the whole frame, "center-crop" the largest centred square, or
 * "center-crop-87.5" the centre 87.5% of it, as ImageNet evaluations crop) with
 * bilinear sampling like `tf.image.resizeBilinear` (alignCorners and halfPixelCenters both
 * false, the TF.js default the reference pipeline uses; the same arithmetic as tfjs' CPU kernel,
 * within 1e-4 of the WASM kernel), then scale [0, 255] to [-1, 1] as `x / 127.5 - 1`. The pixel
 * path writes straight into the input batch buffer, one pass, no intermediate image. A zone (a
 * rectangle in fractions of the frame) is cut out first, and the mode applies within it.
 *
 * @module
 */
import * as tf from "../vendor/tfjs.js";
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
 * A rectangle in fractions of the frame's width and height (0..1), so that it means the same
 * part of a scene at any resolution: `{ x: 0.5, y: 0.4, width: 0.3, height: 0.5 }` is the
 * rectangle from 50% across and 40% down, 30% of the width wide and 50% of the height high.
 */
export interface Zone {
  /** Left edge, 0..1. */
  x: number;
  /** Top edge, 0..1. */
  y: number;
  /** Width, over 0, with `x + width <= 1`. */
  width: number;
  /** Height, over 0, with `y + height <= 1`. */
  height: number;
}

/**
 * Checks a zone: four finite fractions, a non-empty rectangle inside the frame.
 *
 * @throws {RangeError} naming what is wrong.
 */
export function checkZone(zone: unknown): Zone {
  const z = zone as Zone;
  const sides = typeof z === "object" && z !== null ? [z.x, z.y, z.width, z.height] : [];
  if (sides.length !== 4 || !sides.every((v) => typeof v === "number" && Number.isFinite(v))) {
    throw new RangeError(
      `zone must be {x, y, width, height} fractions, got ${JSON.stringify(zone)}`,
    );
  }
  const inside = (at: number, side: number) => at >= 0 && side > 0 && at + side <= 1 + 1e-9;
  if (!inside(z.x, z.width) || !inside(z.y, z.height)) {
    throw new RangeError(
      `zone must lie inside the frame (fractions 0..1, width and height over 0), got ${
        JSON.stringify({ x: z.x, y: z.y, width: z.width, height: z.height })
      }`,
    );
  }
  return { x: z.x, y: z.y, width: z.width, height: z.height };
}

/**
 * The smallest short side a decoder may reduce an image to (JPEGs are reduced in the DCT
 * domain) so that `mode`'s square still has `size` pixels or more: `size`, or `size / 0.875`
 * for "center-crop-87.5"; divided by the zone's smaller side when a zone is cut out first.
 */
export function minSourceSide(size: number, mode: ResizeMode, zone?: Zone): number {
  const side = mode === "center-crop-87.5" ? Math.ceil(size / IMAGENET_CROP_FRACTION) : size;
  return zone ? Math.ceil(side / Math.min(zone.width, zone.height)) : side;
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

/** A zone's pixels in a `width x height` image: edges rounded outwards, at least 1 pixel. */
function zoneRect(width: number, height: number, zone: Zone): Rect {
  const x = Math.min(width - 1, Math.floor(zone.x * width));
  const y = Math.min(height - 1, Math.floor(zone.y * height));
  const right = Math.min(width, Math.max(x + 1, Math.ceil((zone.x + zone.width) * width)));
  const bottom = Math.min(height, Math.max(y + 1, Math.ceil((zone.y + zone.height) * height)));
  return { x, y, width: right - x, height: bottom - y };
}

/**
 * The part of a `width x height` image that `mode` maps onto the model input: within `zone`
 * when one is given.
 *
 * @throws {RangeError} when `mode` is not a resize mode.
 */
export function sourceRect(width: number, height: number, mode: ResizeMode, zone?: Zone): Rect {
  const area = zone ? zoneRect(width, height, zone) : { x: 0, y: 0, width, height };
  if (checkResizeMode(mode) === "stretch") return area;
  const short = Math.min(area.width, area.height);
  const side = mode === "center-crop"
    ? short
    : Math.max(1, Math.round(short * IMAGENET_CROP_FRACTION));
  return {
    x: area.x + Math.floor((area.width - side) / 2),
    y: area.y + Math.floor((area.height - side) / 2),
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
 * Resizes and scales `pixels` (within `zone` when given) into `out` (NHWC float32,
 * `size * size * 3` values from `offset`), returning `out`. Alpha is ignored; gray is repeated
 * into R, G and B.
 */
export function preprocessPixels(
  pixels: Pixels,
  size: number,
  mode: ResizeMode = "stretch",
  out: Float32Array = new Float32Array(size * size * 3),
  offset = 0,
  zone?: Zone,
): Float32Array {
  const { data, width, channels } = pixels;
  const rect = sourceRect(width, pixels.height, mode, zone);
  const ys = axis(rect.y, rect.height, size);
  const xs = axis(rect.x, rect.width, size);
  const rowStride = width * channels;
  // An indexed loop over the three colors (not for-of): the first call of a cold process runs
  // in V8's interpreter, where an iterator per pixel cost about 20 ms of a 224 x 224 image.
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
      for (let i = 0; i < 3; i++) {
        const c = colors[i];
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
 * Resizes and scales a pixel tensor (HWC or NHWC, values 0..255, 3 channels, any dtype; within
 * `zone` when given) into a float32 NHWC batch at `size`. The input is not disposed.
 *
 * @throws {RangeError} for a rank other than 3 or 4, or a channel count other than 3.
 */
export function preprocessTensor(
  image: tf.Tensor,
  size: number,
  mode: ResizeMode = "stretch",
  zone?: Zone,
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
  const rect = sourceRect(w, h, mode, zone);
  return tf.tidy(() => {
    let x = (image.rank === 3 ? tf.expandDims(image, 0) : image) as tf.Tensor4D;
    x = tf.cast(x, "float32");
    if (rect.width !== w || rect.height !== h) {
      x = tf.slice(x, [0, rect.y, rect.x, 0], [-1, rect.height, rect.width, 3]);
    }
    const resized = tf.image.resizeBilinear(x, [size, size], false, false);
    return tf.sub(tf.div(resized, 127.5), 1);
  });
}
