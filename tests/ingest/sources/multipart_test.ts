import { assert, assertEquals, assertThrows } from "../../_assert.ts";
import { multipartBoundary, MultipartParser } from "../../../src/ingest/sources/multipart.ts";
import { IngestSourceError } from "../../../src/ingest/errors.ts";
import { concat, readPhotos } from "../_photos.ts";
import { MJPEG_TYPES, mjpegPart } from "../_mjpeg.ts";
import { chunked, longHeaderParts, sameLetterMultipart } from "../_hostile_streams.ts";

const enc = new TextEncoder();

Deno.test("the boundary is read from the content type", () => {
  assertEquals(multipartBoundary(MJPEG_TYPES.esp32), "123456789000000000000987654321");
  assertEquals(multipartBoundary(MJPEG_TYPES.homeassistant), "--frameboundary");
  assertEquals(multipartBoundary('multipart/x-mixed-replace; boundary="a b"'), "a b");
  assertEquals(multipartBoundary("image/jpeg"), undefined);
});

Deno.test("ESP32-CAM, Frigate and Home Assistant streams give the exact frames, in any chunking", async () => {
  const photos = (await readPhotos()).slice(0, 3).map((p) => p.bytes);
  for (const style of ["esp32", "frigate", "homeassistant"] as const) {
    const stream = concat(...photos.map((p, i) => mjpegPart(style, p, i)));
    for (const size of [1, 7, 1000, 1 << 20]) {
      const parser = new MultipartParser(multipartBoundary(MJPEG_TYPES[style])!);
      const bodies: Uint8Array[] = [];
      const headers: string[] = [];
      for (let at = 0; at < stream.length; at += size) {
        for (const part of parser.push(stream.subarray(at, at + size))) {
          bodies.push(part.body);
          headers.push(part.headers.get("x-timestamp") ?? "");
        }
      }
      // Without Content-Length the last part ends only at the next boundary.
      const expected = style === "frigate" ? photos.slice(0, 2) : photos;
      assertEquals(bodies.length, expected.length, `${style} in chunks of ${size}`);
      bodies.forEach((b, i) => assertEquals(b, expected[i], `${style} frame ${i}`));
      if (style === "esp32") assertEquals(headers, ["0.100000", "1.100001", "2.100002"]);
    }
  }
});

Deno.test("boundary lines with the RFC's extra dashes, LF line ends and a closing boundary", async () => {
  const [a, b] = (await readPhotos()).map((p) => p.bytes);
  const stream = concat(
    enc.encode("----frameboundary\nContent-Type: image/jpeg\n\n"),
    a,
    enc.encode("\n----frameboundary\n\n"),
    b,
    enc.encode("\r\n----frameboundary--\r\n"),
  );
  const parser = new MultipartParser("--frameboundary");
  const parts = parser.push(stream);
  assertEquals(parts.map((p) => p.body), [a, b]);
  assertEquals(parser.closed, true);
});

Deno.test("an endless part is refused", () => {
  const parser = new MultipartParser("frame", 1000);
  parser.push(enc.encode("--frame\r\nContent-Type: image/jpeg\r\n\r\n"));
  assertThrows(() => parser.push(new Uint8Array(20000)), IngestSourceError, "over 1000");
});

Deno.test("a boundary over 70 characters (RFC 2046) or an empty one is refused with PROTOCOL", () => {
  const long = () => new MultipartParser("a".repeat(10 * 1024));
  const error = assertThrows(long, IngestSourceError, "boundary over 70 characters (10240");
  assertEquals(error.code, "PROTOCOL");
  assertEquals(assertThrows(() => new MultipartParser("--"), IngestSourceError).code, "PROTOCOL");
  new MultipartParser("a".repeat(70)); // the longest the RFC allows is fine
});

Deno.test("the boundary search is linear: a 70-char boundary over the same letter, in 512-byte chunks", () => {
  // Finding 6 of issue 17 at the longest legal boundary: the part still ends at its boundary
  // line, and the bytes examined stay a small multiple of those pushed (a search that rescanned
  // the bytes held at every push would examine about 128 times more here).
  const size = 256 * 1024;
  const { boundary, bytes } = sameLetterMultipart(70, size);
  const stream = concat(bytes, enc.encode(`\r\n--${boundary}--\r\n`));
  const parser = new MultipartParser(boundary);
  const parts = [...chunked(stream, 512)].flatMap((chunk) => parser.push(chunk));
  assertEquals(parts.length, 1);
  assertEquals(parts[0].body.length, size);
  assertEquals(parts[0].headers.get("content-type"), "image/jpeg");
  assertEquals(parser.closed, true);
  assert(parser.examined <= 4 * stream.length, `${parser.examined} examined for ${stream.length}`);
});

Deno.test("headers read a byte at a time are scanned once, and padding after a boundary is waited out", () => {
  const a = Uint8Array.from({ length: 3000 }, (_, i) => i % 251); // any body: no JPEG needed
  // 16 KB of header lines per part: the old reader rescanned them all at every push.
  const stream = longHeaderParts(a, 3, 16000);
  const parser = new MultipartParser("frame");
  const parts = [...chunked(stream, 1)].flatMap((chunk) => parser.push(chunk));
  assertEquals(parts.map((p) => p.body), [a, a, a]);
  assertEquals(parts[2].headers.get("x-padding"), "p".repeat(53));
  assert(parser.examined <= 4 * stream.length, `${parser.examined} examined for ${stream.length}`);
  // Transport padding (RFC 2046 allows blanks after a boundary) longer than the boundary,
  // and a closing boundary cut after its first dash, arriving a byte at a time.
  const padded = concat(
    enc.encode("--frame" + " ".repeat(5000) + "\r\n\r\n"),
    a,
    enc.encode("\r\n--frame--\r\n"),
  );
  const lazy = new MultipartParser("frame");
  const bodies = [...chunked(padded, 1)].flatMap((chunk) => lazy.push(chunk)).map((p) => p.body);
  assertEquals(bodies, [a]);
  assertEquals(lazy.closed, true);
  assert(lazy.examined <= 4 * padded.length, `${lazy.examined} examined for ${padded.length}`);
});

Deno.test("header lines over 16 KB in all are refused, with or without line breaks", () => {
  for (const line of ["X-A: b\r\n", "x"]) {
    const parser = new MultipartParser("frame");
    parser.push(enc.encode("--frame\r\n"));
    const error = assertThrows(
      () => parser.push(enc.encode(line.repeat(Math.ceil(20000 / line.length)))),
      IngestSourceError,
      "headers over 16384 bytes",
    );
    assertEquals(error.code, "PROTOCOL");
  }
});
