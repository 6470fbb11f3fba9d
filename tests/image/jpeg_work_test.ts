/**
 * The JPEG work count (`src/image/jpeg/work.ts`): blocks per scan as libjpeg and jpeg-decoder
 * walk them, what the two marker walks count for a real progressive file, and the refusals.
 *
 * @module
 */
import { assertEquals, assertMatch, assertThrows } from "../_assert.ts";
import { ImageDecodeError } from "../../src/errors.ts";
import {
  checkJpegWork,
  frameBlocks,
  LIBJPEG_WEIGHTS,
  libjpegWork,
  MAX_JPEG_SCANS,
  peekJpegFrame,
  readJpegInfo,
} from "../../src/image/jpeg/mod.ts";
import {
  countScan,
  FALLBACK_WEIGHTS,
  fallbackWork,
  scanBlocks,
  type ScanCounts,
} from "../../src/image/jpeg/work.ts";

const FIXTURES = new URL("./jpeg_fixtures/", import.meta.url);

Deno.test("scanBlocks: a component's own blocks alone, whole MCUs interleaved or padded", () => {
  // 333x251 4:2:0: MCUs of 16x16, 21 x 16 of them; luma 42 x 32 blocks, chroma 21 x 16.
  const frame = {
    width: 333,
    height: 251,
    sampling: [[2, 2], [1, 1], [1, 1]] as [number, number][],
  };
  assertEquals(scanBlocks(frame, [0], false), 42 * 32);
  assertEquals(scanBlocks(frame, [1], false), 21 * 16);
  assertEquals(scanBlocks(frame, [0, 1, 2], false), 21 * 16 * 6);
  assertEquals(scanBlocks(frame, [0], true), 21 * 16 * 4); // jpeg-decoder walks whole MCUs
  assertEquals(frameBlocks(frame), 42 * 32 + 2 * 21 * 16);
  // 328x248: MCUs cover 336x256, but libjpeg's one-component scan only the 41 x 31 luma blocks.
  const even = { ...frame, width: 328, height: 248 };
  assertEquals(scanBlocks(even, [0], false), 41 * 31);
  assertEquals(scanBlocks(even, [0], true), 42 * 32);
});

Deno.test("countScan: refinements count their band for every block", () => {
  const frame = { width: 64, height: 64, sampling: [[1, 1]] as [number, number][] };
  const counts: ScanCounts = { scans: 0, blockVisits: 0, refinedCoefficients: 0 };
  countScan(counts, frame, { components: [0], ss: 0, se: 0, ah: 0, al: 1 }, false);
  countScan(counts, frame, { components: [0], ss: 1, se: 63, ah: 0, al: 1 }, false);
  countScan(counts, frame, { components: [0], ss: 0, se: 0, ah: 1, al: 0 }, false);
  countScan(counts, frame, { components: [0], ss: 6, se: 63, ah: 1, al: 0 }, false);
  assertEquals(counts, { scans: 4, blockVisits: 4 * 64, refinedCoefficients: 64 * 58 });
});

Deno.test("both walks count the scans of a real progressive file alike", async () => {
  const jpeg = await Deno.readFile(new URL("jpeg_444_scans20.jpg", FIXTURES));
  const info = readJpegInfo(jpeg);
  const peek = peekJpegFrame(jpeg);
  assertEquals([info.scans, peek.scans], [20, 20]);
  // 4:4:4: every scan walks whole MCUs either way; 20 scans of one component each.
  assertEquals(info.blockVisits, 20 * 40 * 30);
  assertEquals(peek.blockVisits, info.blockVisits);
  assertEquals(peek.dataBytes, info.scanBytes);
  // Luma refined from 3 to 0 (1..63), chroma from 2 to 0: 7 refinements of 63 coefficients.
  assertEquals(info.refinedCoefficients, 7 * 63 * 1200);
  const w = LIBJPEG_WEIGHTS;
  const expected = 20 * w.scan + info.blockVisits * w.visit +
    info.refinedCoefficients * w.refinedCoefficient + info.scanBytes * w.byte +
    3600 * w.block + 40 * 30 * w.pixel;
  const counts = { ...info, frameBlocks: frameBlocks(info) };
  assertEquals(libjpegWork(counts, 40, 30), expected);
});

Deno.test("checkJpegWork: the scan limit, then the work budget, both TOO_COMPLEX", () => {
  checkJpegWork(MAX_JPEG_SCANS, 16 * 1000, 1000, "test image");
  const many = assertThrows(
    () => checkJpegWork(MAX_JPEG_SCANS + 1, 0, 1000, "test image"),
    ImageDecodeError,
  );
  assertEquals(many.code, "TOO_COMPLEX");
  assertMatch(many.message, /501 scans, over the limit of 500/);
  const heavy = assertThrows(
    () => checkJpegWork(10, 16 * 1000 + 1, 1000, "test image"),
    ImageDecodeError,
  );
  assertEquals(heavy.code, "TOO_COMPLEX");
  assertMatch(heavy.message, /test image of 10 scans .* work budget/);
});

Deno.test("fallbackWork: a four-component frame's pixels cost more than a three-component one's", () => {
  // The fuzz campaign's 32832x240 CMYK frame cost the fallback 0.56-0.72 s, twice what the
  // three-component weight said.
  const counts = { scans: 1, blockVisits: 0, refinedCoefficients: 0, dataBytes: 0 };
  const rgb = { ...counts, frame: { sampling: [[1, 1], [1, 1], [1, 1]] } };
  const cmyk = { ...counts, frame: { sampling: [[2, 2], [1, 1], [1, 1], [2, 2]] } };
  const scan = FALLBACK_WEIGHTS.scan;
  assertEquals(fallbackWork(rgb, 100, 10), scan + 1000 * FALLBACK_WEIGHTS.pixel);
  assertEquals(fallbackWork(cmyk, 100, 10), scan + 1000 * FALLBACK_WEIGHTS.cmykPixel);
  assertEquals(fallbackWork(counts, 100, 10), scan + 1000 * FALLBACK_WEIGHTS.pixel);
});
