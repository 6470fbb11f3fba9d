/**
 * Helpers of the edge tests: generated images (a PNG whose header claims any size, the hostile
 * body), the fixture photo, free loopback ports, and reading a JSON response.
 *
 * @module
 */
import { crc32, encodePng } from "../_png.ts";

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
