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
 * The default pixel budget: 8,388,608 pixels (4096 x 2048, 8.4 MP; a 3840 x 2160 4K frame fits).
 * The worst full-size decodes measured (GIF, the JPEG fallback: 11 to 13 bytes per pixel, the
 * decoder's buffer plus our copy) then add at most about 110 MB to the runtime and the model
 * (about 130 MB for the classify CLI), which fits a 256 MB edge isolate. Streamed PNG/TIFF and
 * DCT-scaled JPEG decodes hold far less than the full size, and count what they hold.
 */
export const DEFAULT_MAX_PIXELS = 8_388_608;

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
 * @param pixels the pixels counted, when the decode holds other than `width * height` of them
 * @throws {ImageDecodeError} `TOO_LARGE`
 */
export function checkBudget(
  format: string,
  width: number,
  height: number,
  maxPixels: number,
  what = "image",
  pixels: number = width * height,
): void {
  if (pixels <= maxPixels) return;
  throw new ImageDecodeError(
    "TOO_LARGE",
    `${format} ${what} of ${width}x${height} (${(pixels / 1e6).toFixed(1)} MP held) is over the ` +
      `pixel budget of ${maxPixels} pixels (maxPixels)`,
  );
}

/**
 * The work budget, as a multiple of the pixel budget: a decode may do work equivalent to
 * producing this many times `maxPixels` pixels, and no more. Each decoder counts its own work in
 * pixel-equivalents from what the header declares, before it decodes: a JPEG scan counts the
 * pixels of the components it covers, a TIFF strip or tile the bytes it decodes plus a fixed cost
 * per chunk, a PNG chunk or row a fixed cost. A legitimate image at the full pixel budget costs a
 * few units; a file built to make the decoder loop (thousands of scans, millions of chunks) costs
 * far more, and is refused with `TOO_COMPLEX` before any of that work is done.
 *
 * One pixel-equivalent is about 5 ns of decoding on the 2-core x86-64 VM the limits were measured
 * on: the PNG and TIFF decoders spend 1-10 ns per decompressed byte or output pixel, and count
 * one unit for each. So the budget at the default `maxPixels` (134 M units) is about 0.7 s of
 * decoding. Fixed costs are counted in the same unit: a row 16 (20-90 ns measured), a deflate
 * strip or tile 4096 (a `DecompressionStream`: 10-20 us), another strip or tile 512 (1-2 us).
 * JPEG counts in libjpeg-turbo's own unit, its time per pixel of a full-size decode (7.2 ns
 * measured, so about 1 s at the default budget; see `jpeg/work.ts`): the costliest real
 * progressive photos the pixel budget admits need that much, and a 5 ns unit would refuse them.
 */
export const WORK_PER_PIXEL_BUDGET = 16;

/**
 * Refuses a decode whose declared work is over the work budget
 * (`maxPixels * WORK_PER_PIXEL_BUDGET` pixel-equivalents).
 *
 * @param format the format's name for the message, e.g. "TIFF"
 * @param work the decode's work in pixel-equivalents, counted from the header
 * @param maxPixels the pixel budget the work budget scales with
 * @param what what makes the work, for the message (e.g. "4194304 strips")
 * @throws {ImageDecodeError} `TOO_COMPLEX`
 */
export function checkWork(format: string, work: number, maxPixels: number, what: string): void {
  const limit = maxPixels * WORK_PER_PIXEL_BUDGET;
  if (work > limit) throw tooComplex(format, what, "would cost", work, limit);
}

function tooComplex(
  format: string,
  what: string,
  verb: string,
  work: number,
  limit: number,
): ImageDecodeError {
  return new ImageDecodeError(
    "TOO_COMPLEX",
    `${format} ${what} ${verb} ${(work / 1e6).toFixed(1)} M pixel-equivalents of decoding ` +
      `work, over the work budget of ${(limit / 1e6).toFixed(1)} M (${WORK_PER_PIXEL_BUDGET} x ` +
      `maxPixels)`,
  );
}

/**
 * The work budget while a decode runs, for the work its header cannot tell: what a decompressor
 * really produces. A strip whose few deflate bytes inflate to far more than the strip holds costs
 * all of it before the surplus is thrown away; 20,000 strips pointing at the same such bytes made
 * a 47 KB TIFF cost seconds. The meter starts at the work counted from the header, and the
 * decoder adds what the header could not count (bytes inflated beyond what a chunk holds).
 *
 * @example
 * ```ts
 * import { WorkMeter } from "./budget.ts";
 * const meter = new WorkMeter("TIFF", 1_000_000, "3 strips", 2_000_000);
 * meter.add(5_000_000); // fine: 7 M of 16 M
 * ```
 */
export class WorkMeter {
  readonly #format: string;
  readonly #what: string;
  readonly #limit: number;
  #spent: number;

  /**
   * @param format the format's name for the message, e.g. "TIFF"
   * @param maxPixels the pixel budget the work budget scales with
   * @param what what makes the work, for the message
   * @param counted the work counted from the header
   * @throws {ImageDecodeError} `TOO_COMPLEX` when `counted` is already over the budget
   */
  constructor(format: string, maxPixels: number, what: string, counted: number) {
    checkWork(format, counted, maxPixels, what);
    this.#format = format;
    this.#what = what;
    this.#limit = maxPixels * WORK_PER_PIXEL_BUDGET;
    this.#spent = counted;
  }

  /** The work counted so far, in pixel-equivalents. */
  get spent(): number {
    return this.#spent;
  }

  /**
   * Adds `units` of work done.
   *
   * @throws {ImageDecodeError} `TOO_COMPLEX` once the total is over the budget
   */
  add(units: number): void {
    this.#spent += units;
    if (this.#spent > this.#limit) {
      throw tooComplex(this.#format, this.#what, "cost more than", this.#spent, this.#limit);
    }
  }
}
