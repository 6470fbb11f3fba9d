/**
 * The pixel budget: the one place that decides whether an image is too large to decode. Every
 * decoder asks {@linkcode checkBudget} with the sizes it read from the file's header, before it
 * allocates anything proportional to pixels, in the fast paths and in every fallback.
 *
 * What is counted is what the decoder would hold at once: the full size for a full decode (PNG,
 * GIF, TIFF, the JPEG fallback, a multi-scan JPEG whose coefficients libjpeg buffers whole), the
 * reduced size for a single-scan JPEG decoded in the DCT domain (a 12000x9000 photo decoded at
 * 1/8 holds 1500x1125 pixels).
 *
 * @module
 */
import { ImageDecodeError } from "../errors.ts";

/**
 * The default pixel budget: 16,777,216 pixels (4096 x 4096, 16 MP), enough for a 12 MP phone
 * photo (4032 x 3024) decoded at full size. At the worst measured cost of a full decode (about
 * 8 to 12 bytes per pixel: the decoder's buffer, our RGBA copy, the row buffers), that is 130 to
 * 200 MB at the very most, which leaves room for the runtime and the model in a 256 MB edge
 * isolate; streamed and DCT-scaled decodes cost far less (see the README's "Untrusted images").
 */
export const DEFAULT_MAX_PIXELS = 16_777_216;

/**
 * Checks a `maxPixels` option.
 *
 * @returns the value, or {@linkcode DEFAULT_MAX_PIXELS} when it is `undefined`
 * @throws {RangeError} unless it is a positive integer (or `Infinity`, no limit)
 */
export function checkMaxPixels(value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_PIXELS;
  if (value === Infinity || (Number.isInteger(value) && (value as number) >= 1)) {
    return value as number;
  }
  throw new RangeError(`maxPixels must be a positive integer or Infinity, got ${String(value)}`);
}

/**
 * Refuses an image whose decode would hold more than `maxPixels` pixels.
 *
 * @param format the format's name for the message, e.g. "PNG"
 * @param width width in pixels of what the decoder would allocate
 * @param height height in pixels of what the decoder would allocate
 * @param maxPixels the budget
 * @param what what is counted, for the message (default: the image)
 * @throws {ImageDecodeError} `TOO_LARGE`
 */
export function checkBudget(
  format: string,
  width: number,
  height: number,
  maxPixels: number,
  what = "image",
): void {
  const pixels = width * height;
  if (pixels <= maxPixels) return;
  throw new ImageDecodeError(
    "TOO_LARGE",
    `${format} ${what} of ${width}x${height} (${(pixels / 1e6).toFixed(1)} MP) is over the ` +
      `pixel budget of ${maxPixels} pixels (maxPixels)`,
  );
}
