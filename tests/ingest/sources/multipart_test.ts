import { assertEquals, assertThrows } from "../../_assert.ts";
import { multipartBoundary, MultipartParser } from "../../../src/ingest/sources/multipart.ts";
import { IngestSourceError } from "../../../src/ingest/errors.ts";
import { concat, readPhotos } from "../_photos.ts";
import { MJPEG_TYPES, mjpegPart } from "../_mjpeg.ts";

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
