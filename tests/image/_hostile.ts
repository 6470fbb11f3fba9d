/**
 * Hostile image files, generated on the fly: headers that claim far more pixels than the file
 * carries, decompression bombs, truncated files, and huge-but-legitimate photos. Used by
 * `tests/image/hostile_test.ts` (small sizes) and `bench/hostile_inputs.ts` (the sizes of issue
 * 8).
 *
 * @module
 */
import { deflateSync } from "node:zlib";
import { encodeDcJpeg, withSofSize } from "./_jpeg_dc.ts";
import { ihdr, pngChunk, pngFile } from "./_png_encode.ts";
import { encodeTiff } from "./_tiff.ts";

/** A 2x2 baseline JPEG whose frame header claims `width x height`: no data behind it. */
export function jpegClaiming(width: number, height: number): Uint8Array {
  return withSofSize(encodeDcJpeg(2, 2, () => [200, 100, 50]), width, height);
}

/** A zlib stream of `length` zero bytes, streamed through `CompressionStream` in 1 MB pieces. */
export async function deflatedZeros(length: number): Promise<Uint8Array> {
  const piece: Uint8Array<ArrayBuffer> = new Uint8Array(Math.min(length, 1 << 20));
  const stream = new ReadableStream<Uint8Array<ArrayBuffer>>({
    start(controller) {
      for (let left = length; left > 0; left -= piece.length) {
        controller.enqueue(left >= piece.length ? piece : piece.subarray(0, left));
      }
      controller.close();
    },
  }).pipeThrough(new CompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * A PNG of `width x height` RGB whose rows are all zero, deflated by {@linkcode deflatedZeros}
 * (so the generator itself stays small in memory).
 */
export async function zeroRowsPng(
  width: number,
  height: number,
  interlace = false,
): Promise<Uint8Array> {
  const passes = interlace
    ? [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [
      0,
      1,
      1,
      2,
    ]]
    : [[0, 0, 1, 1]];
  let total = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const w = Math.ceil((width - x0) / dx), h = Math.ceil((height - y0) / dy);
    if (w > 0 && h > 0) total += h * (1 + w * 3);
  }
  const zlib = await deflatedZeros(total);
  return pngFile([
    pngChunk("IHDR", ihdr(width, height, 8, 2, interlace ? 1 : 0)),
    pngChunk("IDAT", zlib),
    pngChunk("IEND", new Uint8Array(0)),
  ]);
}

/** A PNG whose header claims `width x height` RGB with image data for only `rows` rows. */
export function pngClaiming(width: number, height: number, rows = 1): Uint8Array {
  const raw = new Uint8Array(rows * (1 + width * 3)).fill(7);
  for (let y = 0; y < rows; y++) raw[y * (1 + width * 3)] = 0;
  return pngFile([
    pngChunk("IHDR", ihdr(width, height, 8, 2)),
    pngChunk("IDAT", new Uint8Array(deflateSync(raw))),
    pngChunk("IEND", new Uint8Array(0)),
  ]);
}

/** An uncompressed RGB TIFF whose header claims `width x height`, one strip past the end. */
export function tiffClaiming(width: number, height: number): Uint8Array {
  return encodeTiff(new Uint8Array(2 * 2 * 3).fill(90), 2, 2, 3, {
    override: { 256: [width], 257: [height], 278: [height], 279: [width * height * 3] },
  });
}

/**
 * A TIFF whose one strip is LZW data for `realPixels` RGB pixels while the header claims
 * `width x height`.
 */
export function tiffLzwShort(width: number, height: number): Uint8Array {
  return encodeTiff(new Uint8Array(4 * 4 * 3).fill(60), 4, 4, 3, {
    compression: "lzw",
    override: { 256: [width], 257: [height], 278: [height] },
  });
}

/** A deflated RGB TIFF of `width x height` zeros (legitimate, if extreme, compression). */
export function tiffDeflateZeros(width: number, height: number): Uint8Array {
  return encodeTiff(new Uint8Array(width * height * 3), width, height, 3, {
    compression: "deflate",
  });
}
