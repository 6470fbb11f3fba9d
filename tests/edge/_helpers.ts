/**
 * Helpers of the edge tests: generated images (a PNG whose header claims any size, the hostile
 * body), the fixture photo, free loopback ports, and reading a JSON response.
 *
 * @module
 */
import { crc32, encodePng } from "../_png.ts";
import { encodeDcJpeg } from "../image/_jpeg_dc.ts";
import { concatBytes } from "../../src/_util.ts";

/** The photo every "the next valid request succeeds" check sends. */
export const ELEPHANT = new URL(
  "../fixtures/images/n02504458_African_elephant.JPEG",
  import.meta.url,
);

/** Its expected top-1 label. */
export const ELEPHANT_LABEL = "African elephant";

/**
 * A small valid PNG (2x2 pixels of data) whose IHDR claims `width` x `height`, with a correct
 * CRC: a decompression bomb's header without the bomb (the IDAT holds 2x2 pixels).
 */
export async function pngClaiming(width: number, height: number): Promise<Uint8Array> {
  const png = await encodePng(new Uint8Array(2 * 2 * 4).fill(128), 2, 2);
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  // Signature (8), IHDR length (4) and type (4), then width and height; the CRC covers the
  // type and the 13 data bytes.
  view.setUint32(16, width);
  view.setUint32(20, height);
  view.setUint32(29, crc32(png.subarray(12, 29)));
  return png;
}

/** A loopback port that was free a moment ago (for servers that take a port number). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A response's status, headers and JSON body (the body is always read, so nothing leaks). */
export async function readJson(
  response: Response,
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: JSON.parse(text) };
}

/**
 * The hostile body of the edge tests and of `bench/edge_hostile.ts`: an image the library admits
 * that takes as long to decode as we can make one. For now a 4096x2048 DC-only baseline JPEG
 * whose scan is repeated `scans` times (9 MB at 32, under the 10 MB default body limit): libjpeg
 * refuses it, and the lenient full-size fallback decodes every copy (about 0.5 s at 16 copies
 * and 1.3 s at 32 here). It gets a label.
 *
 * SWAP: once `tests/image/_jpeg_scans.ts` is merged, return its worst case the work budget still
 * admits (or its scan bomb) here; the tests and the bench take it from this one place.
 */
export function hostileImage(scans = 32): Uint8Array {
  const jpeg = encodeDcJpeg(4096, 2048, (x, y) => [x & 255, y & 255, (x ^ y) & 255]);
  // The segments before the scan, then the scan (SOS and its data) up to the EOI.
  let at = 2;
  while (jpeg[at + 1] !== 0xda) at += 2 + ((jpeg[at + 2] << 8) | jpeg[at + 3]);
  const scan = jpeg.subarray(at, jpeg.length - 2);
  return concatBytes([
    jpeg.subarray(0, at),
    ...new Array(scans).fill(scan),
    new Uint8Array([0xff, 0xd9]),
  ]);
}
