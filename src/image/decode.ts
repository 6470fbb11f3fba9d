/**
 * Decoding encoded image bytes (JPEG, PNG, GIF's first frame, TIFF) into {@linkcode Pixels},
 * within a pixel budget, upright per EXIF orientation, with a clear {@linkcode ImageDecodeError}
 * for empty, unknown, truncated, corrupt, tiny or too large images.
 *
 * @module
 */
import {
  checkJpegWork,
  chooseScale,
  decodeJpeg,
  fallbackWork,
  JpegError,
  jpegWork,
  minimumScanBytes,
  peekJpegFrame,
  readJpegInfo,
} from "./jpeg/mod.ts";
import { decodeGifWasm, decodeJpegWasm } from "./imagescript_codecs.ts";
import { ImageDecodeError } from "../errors.ts";
import { errorMessage } from "../_util.ts";
import { checkBudget, checkMaxPixels } from "./budget.ts";
import { checkGif } from "./gif.ts";
import { checkOrientationMode, type OrientationMode, orientPixels } from "./orientation.ts";
import { decodePng } from "./png.ts";
import { decodeTiff } from "./tiff.ts";
import { checkSize, type Pixels } from "./pixels.ts";

export { checkSize };

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
   * Let the decoder reduce the image (JPEG: by 1/2, 1/4 or 1/8 in the DCT domain; PNG and TIFF:
   * a box filter by an integer factor, row by row) as long as the result stays at least this
   * wide. 0 decodes at full size. GIF is always decoded at full size.
   * @default {0}
   */
  minWidth?: number;
  /** Like `minWidth`, for the height. @default {0} */
  minHeight?: number;
  /**
   * The pixel budget: an image whose decode would hold more pixels is refused with
   * `TOO_LARGE` before anything is allocated (see `DEFAULT_MAX_PIXELS` in `budget.ts`).
   * @default {DEFAULT_MAX_PIXELS}
   */
  maxPixels?: number;
  /**
   * "exif" turns the pixels upright as the file's EXIF orientation says (JPEG APP1, PNG eXIf,
   * the TIFF Orientation tag); "ignore" returns them as stored.
   * @default {"exif"}
   */
  orientation?: OrientationMode;
}

/** What a format's decoder returns: the pixels as stored and the orientation the file gives. */
interface Decoded {
  pixels: Pixels;
  orientation: number;
}

/**
 * Decodes JPEG, PNG, GIF (first frame) or TIFF bytes into {@linkcode Pixels} (gray, RGB or
 * RGBA as the file has it), upright per the EXIF orientation unless `orientation: "ignore"`.
 * The pixel budget is checked from the header before anything proportional to the pixels is
 * allocated, and a file that claims more pixels than it carries is refused.
 *
 * @throws {ImageDecodeError} `EMPTY`, `UNSUPPORTED_FORMAT`, `TRUNCATED` (also: the header claims
 * more pixels than the data holds), `CORRUPT`, `TOO_SMALL` (either side under 2 pixels),
 * `TOO_LARGE` (over `maxPixels`) or `TOO_COMPLEX` (a decode that would cost more than the work
 * budget, e.g. a JPEG of thousands of scans).
 * @throws {RangeError} for a bad `maxPixels` or `orientation`
 * @throws {TypeError} when `bytes` is not a `Uint8Array`
 * @example Decode off the model (in a worker, say), then classify the pixels
 * ```ts
 * import { decodeImage, loadMobileNet } from "../../mod.ts";
 *
 * const bytes = await Deno.readFile("samples/african_elephant.jpg");
 * // a JPEG may be reduced in the DCT domain, never below 224 on either side
 * const pixels = await decodeImage(bytes, { minWidth: 224, minHeight: 224 });
 * console.log(pixels.width, pixels.height, pixels.channels); // 500 375 3
 * const model = await loadMobileNet();
 * console.log((await model.classify(pixels, { topK: 1 }))[0].label); // "African elephant"
 * await model.dispose();
 * ```
 */
export async function decodeImage(
  bytes: Uint8Array,
  options: DecodeOptions = {},
): Promise<Pixels> {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError("image bytes must be a Uint8Array");
  }
  const maxPixels = checkMaxPixels(options.maxPixels);
  const mode = checkOrientationMode(options.orientation ?? "exif");
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
  // A quarter turn swaps the sides: ask for the larger minimum on both.
  const side = Math.max(options.minWidth ?? 0, options.minHeight ?? 0);
  const min = mode === "exif"
    ? { minWidth: side, minHeight: side }
    : { minWidth: options.minWidth ?? 0, minHeight: options.minHeight ?? 0 };
  const decoded = format === "jpeg"
    ? await decodeJpegAny(bytes, { ...min, maxPixels })
    : format === "png"
    ? await decodePng(bytes, { ...min, maxPixels })
    : format === "tiff"
    ? await decodeTiff(bytes, { ...min, maxPixels })
    : await decodeGif(bytes, maxPixels);
  const pixels = mode === "exif"
    ? orientPixels(decoded.pixels, decoded.orientation)
    : decoded.pixels;
  return checkSize(pixels);
}

/** GIF: the header checks (budget, data), then imagescript's decoder. */
async function decodeGif(bytes: Uint8Array, maxPixels: number): Promise<Decoded> {
  checkGif(bytes, maxPixels);
  try {
    return { pixels: await decodeGifWasm(bytes), orientation: 1 };
  } catch (error) {
    throw new ImageDecodeError(
      "CORRUPT",
      `GIF could not be decoded (${bytes.length} bytes): ${errorMessage(error)}`,
      { cause: error },
    );
  }
}

type JpegOptions = { minWidth: number; minHeight: number; maxPixels: number };

/**
 * The JPEG path: libjpeg-turbo with DCT scaling; imagescript's lenient full-size decoder as the
 * fallback for what libjpeg rejects as corrupt or unsupported. Refusals (truncated, over the
 * pixel or work budget) are final: the fallback never turns them into a picture, and the work
 * libjpeg did before it failed counts against the fallback's work budget.
 */
async function decodeJpegAny(bytes: Uint8Array, options: JpegOptions): Promise<Decoded> {
  const scaled = options.minWidth > 0 || options.minHeight > 0;
  try {
    const jpeg = await decodeJpeg(bytes, {
      ...(scaled ? { minWidth: options.minWidth, minHeight: options.minHeight } : {}),
      maxPixels: options.maxPixels,
    });
    const { data, width, height, channels } = jpeg;
    return { pixels: { data, width, height, channels }, orientation: jpeg.orientation };
  } catch (error) {
    if (!(error instanceof JpegError)) throw error;
    if (error.code === "TRUNCATED") {
      throw new ImageDecodeError("TRUNCATED", error.message, {
        cause: error,
      });
    }
    // CORRUPT covers libjpeg warnings (stray bytes before a marker, say) that many cameras
    // produce; UNSUPPORTED covers arithmetic coding and other rare kinds.
    return await jpegFallback(bytes, error, options.maxPixels, libjpegSpent(bytes, options));
  }
}

/**
 * The work libjpeg did on a JPEG it then failed on: all its counted work when the marker reader
 * accepted the file (libjpeg may only fail at the end), none when the reader refused it first.
 */
function libjpegSpent(bytes: Uint8Array, options: JpegOptions): number {
  try {
    const info = readJpegInfo(bytes);
    const scaled = options.minWidth > 0 || options.minHeight > 0;
    const { width, height } = info;
    return jpegWork(
      info,
      scaled ? chooseScale(width, height, options.minWidth, options.minHeight) : 1,
    );
  } catch {
    return 0;
  }
}

/** imagescript's decoder, its failure reported with libjpeg's. */
async function decodeJpegFallback(
  bytes: Uint8Array,
  error: JpegError,
  code: "UNSUPPORTED_FORMAT" | "CORRUPT",
): Promise<Pixels> {
  try {
    return await decodeJpegWasm(bytes);
  } catch (fallback) {
    throw new ImageDecodeError(
      code,
      `JPEG could not be decoded (${bytes.length} bytes): ${error.message}; ` +
        `fallback decoder: ${errorMessage(fallback)}`,
      { cause: error },
    );
  }
}

/**
 * The full-size fallback, with the same pixel budget, completeness checks, scan limit and work
 * budget as the fast path; its work is counted by a walk that reads the markers as leniently as
 * it does (`peekJpegFrame`), so a file libjpeg rejects is counted too.
 */
async function jpegFallback(
  bytes: Uint8Array,
  error: JpegError,
  maxPixels: number,
  spent: number,
): Promise<Decoded> {
  const code = error.code === "UNSUPPORTED" ? "UNSUPPORTED_FORMAT" : "CORRUPT";
  const peek = peekJpegFrame(bytes);
  const { frame, orientation } = peek;
  if (!frame || frame.width === 0 || frame.height === 0) {
    throw new ImageDecodeError(code, `JPEG could not be decoded: ${error.message}`, {
      cause: error,
    });
  }
  checkBudget("JPEG", frame.width, frame.height, maxPixels, "image (full-size fallback decode)");
  if (bytes.length < minimumScanBytes(frame)) {
    throw new ImageDecodeError(
      "TRUNCATED",
      `JPEG is truncated: a ${frame.width}x${frame.height} frame cannot fit in ${bytes.length} ` +
        `bytes (${error.message})`,
      { cause: error },
    );
  }
  const work = spent + fallbackWork(peek, frame.width, frame.height);
  checkJpegWork(peek.scans, work, maxPixels, `${frame.width}x${frame.height} image (fallback)`);
  const pixels = await decodeJpegFallback(bytes, error, code);
  if (pixels.width !== frame.width || pixels.height !== frame.height) {
    throw new ImageDecodeError(
      "CORRUPT",
      `JPEG could not be decoded: the fallback decoder gave ${pixels.width}x${pixels.height} ` +
        `for a ${frame.width}x${frame.height} frame (${error.message})`,
      { cause: error },
    );
  }
  return { pixels, orientation };
}
