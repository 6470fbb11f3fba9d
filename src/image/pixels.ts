/**
 * Decoded pixels: the one in-memory image type every input is turned into before resizing.
 *
 * @module
 */
import { ImageDecodeError } from "../errors.ts";

/** Interleaved 8-bit pixels, row-major, `channels` values per pixel (gray, RGB or RGBA). */
export interface Pixels {
  /** Pixel values, `width * height * channels` of them. */
  data: Uint8Array | Uint8ClampedArray;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Values per pixel: 1 (gray), 3 (RGB) or 4 (RGBA; alpha is ignored). */
  channels: 1 | 3 | 4;
}

/** Smallest width and height accepted for classification. */
export const MIN_IMAGE_SIDE = 2;

/**
 * Checks that an image is large enough to classify. Decoders call it with the header's sizes,
 * before decoding (no orientation or reduction makes the smaller side larger).
 *
 * @throws {ImageDecodeError} `TOO_SMALL` when a side is under 2 pixels.
 */
export function checkSize<T extends { width: number; height: number }>(pixels: T): T {
  if (pixels.width < MIN_IMAGE_SIDE || pixels.height < MIN_IMAGE_SIDE) {
    throw new ImageDecodeError(
      "TOO_SMALL",
      `image is ${pixels.width}x${pixels.height} pixels; at least ${MIN_IMAGE_SIDE}x${MIN_IMAGE_SIDE} is needed`,
    );
  }
  return pixels;
}

/**
 * Checks a `{data, width, height}` object and works out its channel count from the data length.
 *
 * @throws {TypeError} when `data` is not a byte array or the sizes are not integers;
 * {@linkcode RangeError} when the data length fits neither RGB nor RGBA (nor gray).
 */
export function toPixels(image: {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels?: number;
}): Pixels {
  const { data, width, height } = image;
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
    throw new TypeError("pixel data must be a Uint8Array or Uint8ClampedArray");
  }
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new TypeError(`width and height must be non-negative integers, got ${width}x${height}`);
  }
  const count = width * height;
  const channels = image.channels ?? (count > 0 ? data.length / count : 0);
  if (channels !== 1 && channels !== 3 && channels !== 4) {
    throw new RangeError(
      `pixel data of ${data.length} bytes does not fit ${width}x${height} RGB (${
        count * 3
      }) or RGBA (${count * 4})`,
    );
  }
  if (data.length !== count * channels) {
    throw new RangeError(
      `pixel data has ${data.length} bytes, ${width}x${height}x${channels} needs ${
        count * channels
      }`,
    );
  }
  return { data, width, height, channels };
}
