import { assertEquals } from "../../_assert.ts";
import { JpegSplitter } from "../../../src/ingest/sources/jpeg_splitter.ts";
import { concat, readPhotos, withSegment } from "../_photos.ts";

function split(stream: Uint8Array, chunk: (i: number) => number, max?: number) {
  const splitter = new JpegSplitter(max);
  const out: Uint8Array[] = [];
  for (let at = 0, i = 0; at < stream.length; i++) {
    const n = Math.max(1, chunk(i));
    out.push(...splitter.push(stream.subarray(at, at + n)));
    at += n;
  }
  return { out, splitter };
}

Deno.test("back-to-back JPEGs split exactly, whatever the chunking, garbage between them skipped", async () => {
  const [a, b, c] = (await readPhotos()).map((p) => p.bytes);
  // An APP2 holding end/start markers (as an EXIF thumbnail does) must not end the image.
  const tricky = withSegment(b, 0xe2, new Uint8Array([0xff, 0xd9, 0xff, 0xd8, 0xff, 0xd9]));
  const garbage = new TextEncoder().encode("\r\n--junk--\r\n");
  const stream = concat(a, garbage, tricky, c, new Uint8Array([0xff]));
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 5000;
  for (const chunk of [() => 65536, () => 1, random, () => 4093]) {
    const { out, splitter } = split(stream, chunk);
    assertEquals(out.length, 3);
    assertEquals(out[0], a);
    assertEquals(out[1], tricky);
    assertEquals(out[2], c);
    assertEquals(splitter.skippedBytes, garbage.length);
    assertEquals(splitter.pending, 1); // the trailing 0xff might start the next image
  }
});

Deno.test("a truncated JPEG followed by a whole one is abandoned, and oversized ones too", async () => {
  const [a, b] = (await readPhotos()).map((p) => p.bytes);
  const { out, splitter } = split(concat(a.subarray(0, 5000), b), () => 1000);
  assertEquals(out, [b]);
  assertEquals(splitter.brokenImages, 1);
  const limit = Math.min(a.length, b.length) - 100;
  const small = split(concat(a, b, a.subarray(0, 50)), () => 512, limit);
  assertEquals(small.out.length, 0);
  assertEquals(small.splitter.brokenImages, 2);
  assertEquals(small.splitter.pending <= limit, true);
});
