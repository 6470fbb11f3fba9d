/**
 * Hostile camera streams of issue 17, generated in a few lines, for the parser tests and
 * `bench/camera_parsers.ts`.
 *
 * @module
 */
import { concat } from "./_photos.ts";

const enc = new TextEncoder();

/**
 * Finding 6: a multipart stream whose boundary (`boundaryChars` times "a") runs over a part
 * body of the same letter (`bodyBytes`), with no boundary line after it.
 */
export function sameLetterMultipart(
  boundaryChars: number,
  bodyBytes: number,
): { boundary: string; bytes: Uint8Array } {
  const boundary = "a".repeat(boundaryChars);
  const head = enc.encode(`--${boundary}\r\nContent-Type: image/jpeg\r\n\r\n`);
  return { boundary, bytes: concat(head, new Uint8Array(bodyBytes).fill(0x61)) };
}

/** Finding 7: a JPEG start marker followed by `fillBytes` FF fill bytes (and nothing else). */
export function fillRun(fillBytes: number): Uint8Array {
  const bytes = new Uint8Array(2 + fillBytes).fill(0xff);
  bytes[1] = 0xd8;
  return bytes;
}

/** Multipart parts (boundary `frame`) whose headers hold `headerBytes` of padding lines. */
export function longHeaderParts(jpeg: Uint8Array, parts: number, headerBytes: number): Uint8Array {
  const line = "X-Padding: " + "p".repeat(53) + "\r\n"; // 66 bytes
  const padding = line.repeat(Math.floor(headerBytes / line.length));
  const part = concat(
    enc.encode(`--frame\r\n${padding}Content-Length: ${jpeg.length}\r\n\r\n`),
    jpeg,
    enc.encode("\r\n"),
  );
  return concat(...Array.from({ length: parts }, () => part));
}

/** `bytes` cut into chunks of `size` (views, no copies). */
export function* chunked(bytes: Uint8Array, size: number): Generator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

/** A response body that hands out `bytes` in chunks of `size`. */
export function chunkedBody(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  const it = chunked(bytes, size);
  return new ReadableStream({
    pull(controller) {
      const next = it.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value.slice());
    },
  });
}
