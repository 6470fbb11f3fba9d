import { assert, assertEquals, assertThrows } from "../../_assert.ts";
import { JpegSplitter, MAX_FILL_BYTES } from "../../../src/ingest/sources/jpeg_splitter.ts";
import { chunked, fillRun } from "../_hostile_streams.ts";
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

Deno.test("FF D8 then a long run of FF fill bytes: read once, abandoned at the fill cap and reported", async () => {
  // Finding 7 of issue 17: the old splitter rescanned the whole run at every push (16 MB in
  // 4 KB chunks took 41.6 s). Here 4 MB in 4 KB chunks, then a whole JPEG that must come out.
  const [a] = (await readPhotos()).map((p) => p.bytes);
  const stream = concat(fillRun(4 * 1024 * 1024), a);
  const skips: { reason: string; bytes: number; message: string }[] = [];
  const splitter = new JpegSplitter(undefined, { onSkip: (s) => skips.push(s) });
  const out = [...chunked(stream, 4096)].flatMap((chunk) => splitter.push(chunk));
  assertEquals(out, [a]);
  assertEquals(splitter.brokenImages, 1);
  assertEquals(skips[0].reason, "FILL");
  assertEquals(skips[0].message, `a run of over ${MAX_FILL_BYTES} FF fill bytes`);
  // The rest of the run is skipped as bytes outside any image, reported once.
  assertEquals(skips.slice(1).map((s) => s.reason), ["NO_IMAGE"]);
  assertEquals(splitter.skippedBytes, stream.length - a.length);
  assert(splitter.examined <= 4 * stream.length, `${splitter.examined} for ${stream.length}`);
});

Deno.test("fill runs under the cap, before a marker or in the entropy data, stay in the image", async () => {
  const [a] = (await readPhotos()).map((p) => p.bytes);
  const run = new Uint8Array(1024 * 1024).fill(0xff);
  // After the start marker (before APP0), and before the end marker (after the scan data).
  const filled = concat(a.subarray(0, 2), run, a.subarray(2, -2), run, a.subarray(-2));
  const stream = concat(filled, a);
  for (const size of [4096, 65536]) {
    const skips: string[] = [];
    const splitter = new JpegSplitter(undefined, {
      maxFillBytes: 2 * 1024 * 1024,
      onSkip: (s) => skips.push(s.reason),
    });
    const out = [...chunked(stream, size)].flatMap((chunk) => splitter.push(chunk));
    assertEquals(out, [filled, a]);
    assertEquals(skips, []);
    assert(splitter.examined <= 4 * stream.length, `${splitter.examined} for ${stream.length}`);
  }
  // With the default cap the same image is abandoned at its first run, and the next one kept.
  const capped = new JpegSplitter();
  assertEquals([...chunked(stream, 4096)].flatMap((chunk) => capped.push(chunk)), [a]);
  assertEquals(capped.brokenImages, 1);
});

Deno.test("each abandoned image is reported with its reason", async () => {
  const [a, b] = (await readPhotos()).map((p) => p.bytes);
  const skips: string[] = [];
  const splitter = new JpegSplitter(undefined, {
    onSkip: (s) => skips.push(`${s.reason} ${s.bytes}`),
  });
  const corrupt = concat(a.subarray(0, 2), new Uint8Array([0x12, 0x34]));
  const badLength = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x01]);
  const out = splitter.push(concat(a.subarray(0, 5000), corrupt, badLength, b));
  assertEquals(out, [b]);
  assertEquals(skips, ["RESTART 5000", "CORRUPT 2", "CORRUPT 4"]);
  const small = new JpegSplitter(1000, { onSkip: (s) => skips.push(`${s.reason} ${s.bytes}`) });
  assertEquals(small.push(a.subarray(0, 1500)), []);
  assertEquals(skips.at(-1), "TOO_LARGE 1500");
  assertThrows(() => new JpegSplitter(0), RangeError);
  assertThrows(() => new JpegSplitter(undefined, { maxFillBytes: -1 }), RangeError);
});
