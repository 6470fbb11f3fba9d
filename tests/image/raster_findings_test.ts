/**
 * The fuzzing findings of issue 17 in the TIFF, PNG and GIF decoders, one test each (numbered as
 * in the issue), with the hostile files generated on the fly by `_raster_hostile.ts`: each gets
 * its typed error from the header, before the work it would have cost, or decodes to the right
 * pixels. Their cost (time, peak RSS) is in `bench/hostile_inputs.ts`.
 *
 * @module
 */
import { deflateSync } from "node:zlib";
import { assertEquals, assertRejects } from "../_assert.ts";
import { decodeImage, type DecodeOptions } from "../../src/image/decode.ts";
import { inflateParts } from "../../src/image/inflate.ts";
import { ImageDecodeError, type ImageDecodeErrorCode } from "../../src/errors.ts";
import { claimingGif } from "./_gif.ts";
import { pngClaiming, tiffClaiming, zeroRowsPng } from "./_hostile.ts";
import {
  BYTE,
  gifFrameOverScreen,
  gifManyBlocks,
  LONG,
  pngSplitIdat,
  rawTiff,
  SHORT,
  tiffManyStrips,
  tiffTileBomb,
  tiffWideTags,
  tiffZeroSamplesClaiming,
  tiffZeroSamplesPredictor,
} from "./_raster_hostile.ts";

async function refused(
  bytes: Uint8Array,
  code: ImageDecodeErrorCode,
  options: DecodeOptions = {},
): Promise<ImageDecodeError> {
  const error = await assertRejects(() => decodeImage(bytes, options), ImageDecodeError);
  assertEquals(error.code, code, error.message);
  return error;
}

Deno.test("17.1 TIFF: SamplesPerPixel 0 with the predictor is refused (the loop stepped by 0)", async () => {
  const file = tiffZeroSamplesPredictor();
  assertEquals(file.length, 122);
  await refused(file, "CORRUPT");
  // BitsPerSample must give one value, or one per sample.
  const rgb = (bits: number[]) =>
    rawTiff([
      [256, SHORT, [2]],
      [257, SHORT, [2]],
      [258, SHORT, bits],
      [262, SHORT, [2]],
      [273, LONG, [8]],
      [277, SHORT, [3]],
      [279, LONG, [12]],
    ], new Uint8Array(12).fill(50));
  await refused(rgb([8, 8]), "CORRUPT");
  await refused(rgb([8, 8, 8, 8]), "CORRUPT");
  for (const bits of [[8], [8, 8, 8]]) {
    const pixels = await decodeImage(rgb(bits));
    assertEquals([pixels.width, pixels.height, pixels.channels], [2, 2, 3]);
    assertEquals([...pixels.data], new Array(12).fill(50));
  }
});

Deno.test("17.2 TIFF: 1000 tags spanning a 1 MB file cost nothing; only the tags used are read", async () => {
  const gradient = new Array(64).fill(0).map((_, i) => i * 4);
  const wide = tiffWideTags(1 << 20, 1000); // was 4.2 GB and an abort
  assertEquals(wide.length, 1 << 20);
  const pixels = await decodeImage(wide);
  assertEquals([pixels.width, pixels.height, pixels.channels], [8, 8, 1]);
  assertEquals([...pixels.data], gradient);
  // StripOffsets may claim far more values than the image has strips: only one is read.
  const claiming = (count: number, offset: number) =>
    rawTiff([
      [256, SHORT, [8]],
      [257, SHORT, [8]],
      [258, SHORT, [8]],
      [262, SHORT, [1]],
      [273, BYTE, { count, offset }],
      [279, LONG, [64]],
    ], new Uint8Array(gradient));
  const head = claiming(1, 0).length;
  const file = new Uint8Array(head + (1 << 16)); // 65536 BYTE offsets after the IFD
  file.set(claiming(1 << 16, head));
  file[head] = 8; // the first: the gradient's place
  assertEquals([...(await decodeImage(file)).data], gradient);
  // A claim past the end of the file is refused before anything is read or allocated.
  await refused(claiming(0xffffffff, head), "TRUNCATED");
});

Deno.test("17.4 TIFF: every strip and tile is held to the pixel budget, and counts as work", async () => {
  // One 4096x4096 tile for a 2x2 image: 16.8 MP held, over the default 8.4 MP.
  const error = await refused(await tiffTileBomb(4096), "TOO_LARGE");
  assertEquals(error.message.includes("tile of 4096x4096"), true, error.message);
  // Each 64x64 tile is within a 4096-pixel budget, but 20 of them decode 20 budgets of pixels
  // for a 2-pixel-wide image: over the work budget, refused before any is decoded.
  const tiles = rawTiff([
    [256, SHORT, [2]],
    [257, SHORT, [64 * 20]],
    [258, SHORT, [8]],
    [262, SHORT, [1]],
    [322, SHORT, [64]],
    [323, SHORT, [64]],
    [324, LONG, new Array(20).fill(8)],
    [325, LONG, new Array(20).fill(4)],
  ], new Uint8Array(4));
  await refused(tiles, "TOO_COMPLEX", { maxPixels: 4096 });
  // The same image in 64-row strips holds what it shows and fits the work budget: it goes on
  // to the data checks (4 bytes cannot hold 2560 pixels).
  const strips = rawTiff([
    [256, SHORT, [2]],
    [257, SHORT, [64 * 20]],
    [258, SHORT, [8]],
    [262, SHORT, [1]],
    [273, LONG, new Array(20).fill(8)],
    [278, SHORT, [64]],
    [279, LONG, new Array(20).fill(4)],
  ], new Uint8Array(4));
  await refused(strips, "TRUNCATED", { maxPixels: 4096 });
});

Deno.test("17.8 TIFF: 4,194,304 deflate strips are over the work budget; a few thousand are not", async () => {
  const many = tiffManyStrips(4_194_304); // 8.4 MB: was 40 s and 551 MB
  const error = await refused(many, "TOO_COMPLEX");
  assertEquals(error.message.includes("4194304 strips of 2x1"), true, error.message);
  const fine = await decodeImage(tiffManyStrips(2000));
  assertEquals([fine.width, fine.height, fine.channels], [2, 2000, 1]);
  assertEquals(fine.data.every((v) => v === 0), true);
});

Deno.test("fuzz campaign: strips whose shared deflate stream inflates far past a row hit the work meter", async () => {
  // 20,000 one-row strips of 400 pixels all point at one ~1 KB stream of 1 MB of zeros: the
  // header's count (20,000 chunks and 8 MB of rows) fits the budget, but each strip made the
  // inflater produce 1 MB for its 400 bytes: 1.3-1.5 s before, now refused part way through.
  const amplified = tiffManyStrips(20_000, 400, 1 << 20);
  const error = await refused(amplified, "TOO_COMPLEX");
  assertEquals(error.message.includes("cost more than"), true, error.message);
  const fine = await decodeImage(tiffManyStrips(20_000, 400));
  assertEquals([fine.width, fine.height], [400, 20_000]);
});

Deno.test("17.8 PNG: IDAT data in 1-byte or empty chunks decodes as one chunk does", async () => {
  const whole = await decodeImage(pngSplitIdat(256, 128, 1 << 30));
  for (const [size, empty] of [[1, 0], [7, 0], [1 << 30, 50_000], [3, 1000]]) {
    const split = await decodeImage(pngSplitIdat(256, 128, size, empty));
    assertEquals(split, whole, `IDAT chunks of ${size} bytes after ${empty} empty ones`);
  }
  // Chunks are work: 4000 empty IDATs around a 64x64 image are over a 4096-pixel budget's.
  await refused(pngSplitIdat(64, 64, 1 << 30, 4000), "TOO_COMPLEX", { maxPixels: 4096 });
  await decodeImage(pngSplitIdat(64, 64, 1 << 30, 100), { maxPixels: 4096 });
});

Deno.test("17.8 inflate: tiny and empty parts are gathered into pieces, the output unchanged", async () => {
  const raw = new Uint8Array(300_000).map((_, i) => (i * 7919) % 251);
  const zlib = new Uint8Array(deflateSync(raw));
  const parts: Uint8Array[] = [];
  for (let at = 0, k = 0; at < zlib.length; k++) {
    const size = [0, 1, 2, 0, 63, 64, 5000, 1][k % 8];
    parts.push(zlib.subarray(at, at + size));
    at += size;
  }
  const out = new Uint8Array(raw.length);
  let o = 0;
  for await (const chunk of inflateParts(parts)) {
    out.set(chunk, o);
    o += chunk.length;
  }
  assertEquals(o, raw.length);
  assertEquals(out, raw);
});

Deno.test("17.9 TIFF: 4096x2048 with SamplesPerPixel 0 and no data (110 bytes) is refused", async () => {
  const file = tiffZeroSamplesClaiming();
  assertEquals(file.length, 110);
  await refused(file, "CORRUPT");
});

Deno.test("17.10 a side under 2 pixels is refused from the header, before any decoding", async () => {
  // Valid files: refused before their millions of rows are decoded.
  await refused(await zeroRowsPng(1, 1 << 20), "TOO_SMALL");
  await refused(await zeroRowsPng(1 << 20, 1), "TOO_SMALL");
  // Files whose data could never be decoded: TOO_SMALL shows the header decided.
  await refused(pngClaiming(1, 5000), "TOO_SMALL");
  await refused(tiffClaiming(1, 5000), "TOO_SMALL");
  await refused(claimingGif(65535, 1), "TOO_SMALL");
  // The pixel budget still comes first.
  await refused(pngClaiming(1, 20_000_000), "TOO_LARGE");
});

Deno.test("17 GIF: blocks before the first frame count as work; a frame larger than the screen is budgeted", async () => {
  const plain = await decodeImage(gifManyBlocks(16, 16, 0, 0));
  const padded = await decodeImage(gifManyBlocks(16, 16, 1000, 100_000));
  assertEquals(padded, plain);
  // 100,000 sub-blocks are more work than a 16x16 image's budget allows.
  await refused(gifManyBlocks(16, 16, 0, 100_000), "TOO_COMPLEX", { maxPixels: 256 });
  await refused(gifManyBlocks(16, 16, 30_000, 0), "TOO_COMPLEX", { maxPixels: 256 });
  // A 64x64 frame on a 2x2 screen: the 2x2 screen is returned, the frame is held to the budget.
  const small = await decodeImage(gifFrameOverScreen(64, 64, 2));
  assertEquals([small.width, small.height], [2, 2]);
  await refused(gifFrameOverScreen(64, 64, 2), "TOO_LARGE", { maxPixels: 1000 });
});

Deno.test("GIF: a frame past the screen's right edge is cut there, not wrapped into the next rows", async () => {
  /** Which screen pixels the frame covered (alpha 255; the rest of the screen is clear). */
  const covered = async (x: number, y: number) => {
    const { data, width } = await decodeImage(gifFrameOverScreen(16, 16, 64, x, y));
    const out: string[] = [];
    for (let p = 0; p < data.length / 4; p++) {
      if (data[4 * p + 3] === 255) out.push(`${p % width},${Math.floor(p / width)}`);
    }
    return out;
  };
  const expected: string[] = [];
  for (let y = 0; y < 16; y++) for (let x = 60; x < 64; x++) expected.push(`${x},${y}`);
  assertEquals(await covered(60, 0), expected);
  assertEquals(await covered(70, 0), []);
  assertEquals(await covered(60000, 3), []); // was CORRUPT: "offset is out of bounds"
  assertEquals((await covered(0, 50)).length, 14 * 16);
});
