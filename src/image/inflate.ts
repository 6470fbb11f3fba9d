/**
 * Streaming zlib inflate with bounded memory, on the web-standard `DecompressionStream` (Deno,
 * Deno Deploy, Supabase Edge and browsers have it). The input is fed in pieces of 4 KB, so one
 * output chunk is at most about 1032 times a piece (deflate's largest ratio): a decompression
 * bomb arrives a few MB at a time and the caller can stop reading whenever it has enough. Small
 * parts are gathered into whole pieces first: each write costs microseconds, so a file of a
 * million 1-byte parts (PNG IDAT chunks) must not make a million writes.
 *
 * @module
 */
import { copyBytes } from "../_util.ts";

/** Input bytes per write: at most about 4 MB of output per chunk. */
const PIECE = 4096;

/** The bytes of `parts`, in order, cut or gathered into fresh pieces of `PIECE` bytes. */
function* pieces(parts: Iterable<Uint8Array>): Generator<Uint8Array<ArrayBuffer>> {
  let piece = new Uint8Array(PIECE);
  let fill = 0;
  for (const part of parts) {
    for (let at = 0; at < part.length;) {
      const take = Math.min(PIECE - fill, part.length - at);
      copyBytes(part, at, piece, fill, take);
      fill += take;
      at += take;
      if (fill === PIECE) {
        yield piece;
        piece = new Uint8Array(PIECE);
        fill = 0;
      }
    }
  }
  if (fill > 0) yield piece.subarray(0, fill);
}

/**
 * Inflates a zlib stream given as consecutive parts (PNG's IDAT chunks, say) and yields the
 * output as it comes. Stopping the iteration early (a `break`, or an error thrown by the loop
 * body) cancels the decompression and frees it.
 *
 * A stream that ends early yields what it holds and ends without an error (callers count what
 * they needed); corrupt data throws the runtime's `TypeError`.
 *
 * @param parts the compressed data, in order
 */
export async function* inflateParts(
  parts: Iterable<Uint8Array>,
): AsyncGenerator<Uint8Array, void, undefined> {
  const stream = new DecompressionStream("deflate");
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  let stopped = false;
  const pump = (async () => {
    for (const piece of pieces(parts)) {
      if (stopped) return;
      await writer.write(piece);
    }
    if (!stopped) await writer.close();
  })();
  pump.catch(() => {}); // a failure also errors the readable side, where it is reported
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      yield value;
    }
    await pump;
  } finally {
    stopped = true;
    await reader.cancel().catch(() => {});
    await writer.abort().catch(() => {});
    await pump.catch(() => {});
  }
}
