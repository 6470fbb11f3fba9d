/**
 * Streaming zlib inflate with bounded memory, on the web-standard `DecompressionStream` (Deno,
 * Deno Deploy, Supabase Edge and browsers have it). The input is fed in small pieces, so one
 * output chunk is at most about 1032 times a piece (deflate's largest ratio): a decompression
 * bomb arrives a few MB at a time and the caller can stop reading whenever it has enough.
 *
 * @module
 */

/** Input bytes per write: at most about 4 MB of output per chunk. */
const PIECE = 4096;

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
    for (const part of parts) {
      for (let at = 0; at < part.length && !stopped; at += PIECE) {
        await writer.write(part.slice(at, at + PIECE));
      }
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
