/**
 * Reducing an image row by row while it is decoded: a box filter by an integer factor, so that a
 * streamed decoder (PNG rows, TIFF strips) holds only the reduced image and one row of sums,
 * never the full-size image.
 *
 * @module
 */
import { copyBytes } from "../_util.ts";
import type { Pixels } from "./pixels.ts";

/**
 * Work of one row, in pixel-equivalents: the fixed cost of taking, filtering, converting and
 * reducing it (20-90 ns measured for rows of 2 pixels).
 */
export const ROW_WORK = 16;

/**
 * The work of a row-by-row decode (PNG, TIFF) in pixel-equivalents (see
 * `WORK_PER_PIXEL_BUDGET` in `budget.ts`): one per decompressed byte, one per pixel converted
 * and reduced, {@linkcode ROW_WORK} per row.
 *
 * @param bytes decompressed bytes the decode produces
 * @param rows rows it handles (each strip's or tile's, and the image's)
 * @param pixels pixels it converts and reduces
 */
export function rowsWork(bytes: number, rows: number, pixels: number): number {
  return bytes + rows * ROW_WORK + pixels;
}

/**
 * The largest integer reduction factor that keeps both sides at least the given minimum
 * (`ceil(side / factor) >= min`); 1 when no minimum is given or the image is already small.
 *
 * @param width source width in pixels
 * @param height source height in pixels
 * @param minWidth smallest acceptable output width (0 = no constraint)
 * @param minHeight smallest acceptable output height (0 = no constraint)
 */
export function reductionFactor(
  width: number,
  height: number,
  minWidth = 0,
  minHeight = 0,
): number {
  if (minWidth <= 0 && minHeight <= 0) return 1;
  const fx = minWidth > 0 ? Math.floor(width / minWidth) : Infinity;
  const fy = minHeight > 0 ? Math.floor(height / minHeight) : Infinity;
  return Math.max(1, Math.min(fx, fy));
}

/**
 * Takes full-size rows of 8-bit interleaved pixels, top to bottom, and box-averages each
 * `factor x factor` block into one output pixel (edge blocks average what they have).
 */
export class RowReducer {
  /** The reduced image being filled. */
  readonly output: Pixels;
  readonly #factor: number;
  readonly #sums: Uint32Array;
  readonly #rowLength: number;
  readonly #height: number;
  #row = 0;

  /**
   * @param width source width in pixels
   * @param height source height in pixels
   * @param channels values per pixel
   * @param factor the integer reduction factor (1 keeps the size)
   */
  constructor(width: number, height: number, channels: 1 | 3 | 4, factor: number) {
    this.#factor = factor;
    const outWidth = Math.ceil(width / factor);
    const outHeight = Math.ceil(height / factor);
    this.#rowLength = width * channels;
    this.#height = height;
    this.#sums = new Uint32Array(factor > 1 ? outWidth * channels : 0);
    this.output = {
      data: new Uint8Array(outWidth * outHeight * channels),
      width: outWidth,
      height: outHeight,
      channels,
    };
  }

  /** Adds the next source row (`width * channels` values; only that many are read). */
  push(line: Uint8Array): void {
    const f = this.#factor;
    const y = this.#row++;
    if (y >= this.#height) return; // extra rows (a lenient decoder's surplus) are ignored
    if (f === 1) {
      copyBytes(line, 0, this.output.data, y * this.#rowLength, this.#rowLength);
      return;
    }
    const { channels } = this.output;
    const sums = this.#sums;
    const step = f * channels;
    for (let start = 0, o = 0; start < this.#rowLength; start += step, o += channels) {
      const end = Math.min(start + step, this.#rowLength);
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        for (let i = start + c; i < end; i += channels) sum += line[i];
        sums[o + c] += sum;
      }
    }
    if (this.#row % f === 0 || this.#row === this.#height) this.#flush(y);
  }

  /** Writes the averages of the block row that ends at source row `y` and clears the sums. */
  #flush(y: number): void {
    const { data, width, channels } = this.output;
    const f = this.#factor;
    const rowsIn = (y % f) + 1;
    const srcWidth = this.#rowLength / channels;
    const out = Math.floor(y / f) * width * channels;
    const sums = this.#sums;
    for (let x = 0; x < width; x++) {
      const n = Math.min(f, srcWidth - x * f) * rowsIn;
      for (let c = 0; c < channels; c++) {
        const k = x * channels + c;
        data[out + k] = Math.round(sums[k] / n);
        sums[k] = 0;
      }
    }
  }
}
