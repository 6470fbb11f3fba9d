/**
 * `--min-change`: a cheap measure of how much a frame differs from the last one inferred, on a
 * 16x16 gray thumbnail of the decoded image (JPEGs are decoded at 1/8 scale in the DCT domain
 * by the library's decoder, so this costs a fraction of an inference).
 *
 * @module
 */
import { decodeImage } from "../image/decode.ts";

/** Side of the thumbnail, in pixels. */
export const THUMBNAIL_SIDE = 16;

/**
 * A `THUMBNAIL_SIDE`² gray thumbnail (box-averaged, values 0..255) of encoded image bytes.
 *
 * @throws {ImageDecodeError} for bytes that are not a decodable image.
 */
export async function thumbnail(bytes: Uint8Array): Promise<Float32Array> {
  const side = THUMBNAIL_SIDE;
  const pixels = await decodeImage(bytes, { minWidth: side * 2, minHeight: side * 2 });
  const { data, width, height, channels } = pixels;
  const sum = new Float32Array(side * side);
  const count = new Float32Array(side * side);
  for (let y = 0; y < height; y++) {
    const ty = Math.min(side - 1, Math.floor((y * side) / height));
    for (let x = 0; x < width; x++) {
      const tx = Math.min(side - 1, Math.floor((x * side) / width));
      const i = (y * width + x) * channels;
      const gray = channels >= 3
        ? 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2]
        : data[i];
      sum[ty * side + tx] += gray;
      count[ty * side + tx]++;
    }
  }
  for (let i = 0; i < sum.length; i++) sum[i] /= count[i] || 1;
  return sum;
}

/** Mean absolute difference of two thumbnails, as a fraction of full scale (0..1). */
export function changeBetween(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 1;
  let total = 0;
  for (let i = 0; i < a.length; i++) total += Math.abs(a[i] - b[i]);
  return total / (a.length * 255);
}
