/**
 * Decoding encoded image bytes (JPEG, PNG, GIF's first frame, TIFF) into {@linkcode Pixels},
 * with a clear {@linkcode ImageDecodeError} for empty, unknown, truncated, corrupt or tiny
 * images.
 *
 * @module
 */
import { decodeJpeg, JpegError } from "./jpeg/mod.ts";
import {
  decodeGifWasm,
  decodeJpegWasm,
  decodePngWasm,
  decodeTiffWasm,
} from "./imagescript_codecs.ts";
import { ImageDecodeError } from "../errors.ts";
import { MIN_IMAGE_SIDE, type Pixels } from "./pixels.ts";

/** Image formats recognised by their first bytes. */
export type ImageFormat = "jpeg" | "png" | "gif" | "tiff" | "webp" | "bmp";

/** Recognises an image format from its magic bytes, or returns `undefined`. */
export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  const b = bytes;
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "jpeg";
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) {
    return "png";
  }
  if (b.length >= 4 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38) {
    return "gif";
  }
  if (
    b.length >= 4 &&
    ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 0x2a && b[3] === 0) ||
      (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 0x2a))
  ) return "tiff";
  if (b.length >= 12 && String.fromCharCode(...b.subarray(8, 12)) === "WEBP") return "webp";
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return "bmp";
  return undefined;
}

function hex(bytes: Uint8Array): string {
  return [...bytes.subarray(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join(" ");
}

/** Options of {@linkcode decodeImage}. */
export interface DecodeOptions {
  /**
   * JPEG only: let the decoder shrink the image in the DCT domain (by 1/2, 1/4 or 1/8) as long
   * as the result stays at least this wide. 0 decodes at full size.
   * @default {0}
   */
  minWidth?: number;
  /** Like `minWidth`, for the height. @default {0} */
  minHeight?: number;
}

/**
 * Decodes JPEG, PNG, GIF (first frame) or TIFF bytes into {@linkcode Pixels} (gray, RGB or
 * RGBA as the file has it).
 *
 * @throws {ImageDecodeError} `EMPTY`, `UNSUPPORTED_FORMAT`, `TRUNCATED`, `CORRUPT` or
 * `TOO_SMALL` (either side under 2 pixels).
 */
export async function decodeImage(
  bytes: Uint8Array,
  options: DecodeOptions = {},
): Promise<Pixels> {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError("image bytes must be a Uint8Array");
  }
  if (bytes.length === 0) throw new ImageDecodeError("EMPTY", "image is empty (0 bytes)");
  const format = sniffFormat(bytes);
  if (format === undefined) {
    throw new ImageDecodeError(
      "UNSUPPORTED_FORMAT",
      `not a JPEG, PNG, GIF or TIFF image (${bytes.length} bytes starting ${hex(bytes)})`,
    );
  }
  if (format === "webp" || format === "bmp") {
    throw new ImageDecodeError(
      "UNSUPPORTED_FORMAT",
      `${format.toUpperCase()} images are not supported; send JPEG, PNG, GIF or TIFF`,
    );
  }
  if (format === "jpeg") return checkSize(await decodeJpegFast(bytes, options));
  let pixels: Pixels;
  try {
    pixels = format === "png"
      ? await decodePngWasm(bytes)
      : format === "gif"
      ? await decodeGifWasm(bytes)
      : await decodeTiffWasm(bytes);
  } catch (error) {
    throw new ImageDecodeError(
      "CORRUPT",
      `${format.toUpperCase()} could not be decoded (${bytes.length} bytes): ${message(error)}`,
      { cause: error },
    );
  }
  return checkSize(pixels);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The JPEG path: libjpeg-turbo with DCT scaling, imagescript as the fallback. */
async function decodeJpegFast(bytes: Uint8Array, options: DecodeOptions): Promise<Pixels> {
  const scaled = (options.minWidth ?? 0) > 0 || (options.minHeight ?? 0) > 0;
  try {
    const jpeg = await decodeJpeg(
      bytes,
      scaled ? { minWidth: options.minWidth ?? 0, minHeight: options.minHeight ?? 0 } : {},
    );
    return { data: jpeg.data, width: jpeg.width, height: jpeg.height, channels: jpeg.channels };
  } catch (error) {
    if (!(error instanceof JpegError)) throw error;
    if (error.code === "TRUNCATED") {
      throw new ImageDecodeError("TRUNCATED", `JPEG is truncated: ${error.message}`, {
        cause: error,
      });
    }
    // CORRUPT covers libjpeg warnings (stray bytes before a marker, say) that many cameras
    // produce; UNSUPPORTED covers arithmetic coding and other rare kinds. Try the lenient
    // decoder before giving up.
    try {
      return await decodeJpegWasm(bytes);
    } catch (fallback) {
      throw new ImageDecodeError(
        error.code === "UNSUPPORTED" ? "UNSUPPORTED_FORMAT" : "CORRUPT",
        `JPEG could not be decoded (${bytes.length} bytes): ${error.message}; ` +
          `fallback decoder: ${message(fallback)}`,
        { cause: error },
      );
    }
  }
}

/**
 * Checks that an image is large enough to classify.
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
