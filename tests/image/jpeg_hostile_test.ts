/**
 * JPEG scan bombs (issue 17, finding 3), generated on the fly at small sizes: the scan limit,
 * the work budget counted from the markers before anything is decoded, the fallback decoder
 * bounded by the same limits (also for files whose markers libjpeg refuses), a linear marker
 * walk, and real progressive scripts that still decode, bit for bit, at the full pixel budget.
 *
 * @module
 */
import { assert, assertEquals, assertMatch, assertRejects } from "../_assert.ts";
import { concatBytes } from "../../src/_util.ts";
import { ImageDecodeError, type ImageDecodeErrorCode } from "../../src/errors.ts";
import { WORK_PER_PIXEL_BUDGET } from "../../src/image/budget.ts";
import { decodeImage } from "../../src/image/decode.ts";
import {
  decodeJpeg,
  fallbackWork,
  frameBlocks,
  jpegWork,
  MAX_JPEG_SCANS,
  peekJpegFrame,
  readJpegInfo,
} from "../../src/image/jpeg/mod.ts";
import {
  beforeFirstScan,
  emptyComments,
  grayFrame,
  repeatedAcScanJpeg,
  repeatedSosCmykJpeg,
  scanJpeg,
  validScanScript,
  validScansJpeg,
  worstCaseFallbackJpeg,
  worstCaseJpeg,
} from "./_jpeg_scans.ts";

const FIXTURES = new URL("./jpeg_fixtures/", import.meta.url);

async function rejectsWith(
  run: () => Promise<unknown>,
  code: ImageDecodeErrorCode,
  message?: RegExp,
): Promise<ImageDecodeError> {
  const error = await assertRejects(run, ImageDecodeError);
  assertEquals(error.code, code, error.message);
  if (message) assertMatch(error.message, message);
  return error;
}

/** The pixels libjpeg holds for a multi-scan JPEG: the pixel budget it needs at least. */
function held(jpeg: Uint8Array): number {
  return Math.ceil((frameBlocks(readJpegInfo(jpeg)) * 64) / 4);
}

Deno.test("a progressive JPEG repeating one AC scan past the scan limit is TOO_COMPLEX", async () => {
  const bomb = repeatedAcScanJpeg(64, MAX_JPEG_SCANS); // + the DC scan: one over the limit
  assertEquals(readJpegInfo(bomb).scans, MAX_JPEG_SCANS + 1);
  for (const options of [{}, { minWidth: 8, minHeight: 8 }, { maxPixels: Infinity }]) {
    await rejectsWith(() => decodeImage(bomb, options), "TOO_COMPLEX", /501 scans.*limit of 500/);
  }
  await rejectsWith(() => decodeJpeg(bomb), "TOO_COMPLEX");
  // At the limit the same picture decodes (64x64 is far inside the work budget).
  const atLimit = await decodeImage(repeatedAcScanJpeg(64, MAX_JPEG_SCANS - 1));
  assertEquals([atLimit.width, atLimit.height, atLimit.data[0]], [64, 64, 128]);
});

Deno.test("repeated full-image AC scans over the work budget are TOO_COMPLEX, however few", async () => {
  // Finding 3 at 1/1000 of the sizes: 5792^2 at the default budget is a grey frame at
  // its full pixel budget (its coefficients = maxPixels); so is 256^2 at maxPixels 16384.
  const maxPixels = 256 * 256 / 4;
  const bomb = repeatedAcScanJpeg(256, 300);
  assertEquals(held(bomb), maxPixels);
  await rejectsWith(
    () => decodeImage(bomb, { maxPixels, minWidth: 32, minHeight: 32 }),
    "TOO_COMPLEX",
    /301 scans.*work budget/,
  );
  // The work is counted, not the scans: 20 repeats fit, and decode.
  const fits = repeatedAcScanJpeg(256, 20);
  assert(jpegWork(readJpegInfo(fits), 0.125) <= maxPixels * WORK_PER_PIXEL_BUDGET);
  const pixels = await decodeImage(fits, { maxPixels, minWidth: 32, minHeight: 32 });
  assertEquals([pixels.width, pixels.height], [32, 32]);
});

Deno.test("882 valid AC scans: refused by the scan limit; a legal 421-scan script by the work budget", async () => {
  const valid = validScansJpeg(64); // DC + 63 one-coefficient bands x 14 = 883 scans
  assertEquals(readJpegInfo(valid).scans, 883);
  await rejectsWith(() => decodeImage(valid), "TOO_COMPLEX", /883 scans/);
  // 30 bands x 14 + DC: every scan valid, under the scan limit; libjpeg decodes it in full...
  const legal = validScansJpeg(64, 30);
  assertEquals(readJpegInfo(legal).scans, 421);
  const pixels = await decodeImage(legal, { maxPixels: 1_000_000 });
  assert(pixels.data.every((v) => v === 128));
  // ...but at the frame's own pixel budget its 421 passes are over the work budget.
  await rejectsWith(() => decodeImage(legal, { maxPixels: held(legal) }), "TOO_COMPLEX");
});

Deno.test("a baseline CMYK JPEG of repeated SOS copies never reaches the fallback's full decodes", async () => {
  // The fuzzer's file at small size: past the scan limit, refused before libjpeg runs.
  const copies = repeatedSosCmykJpeg(64, 512, 600, 200);
  await rejectsWith(() => decodeImage(copies), "TOO_COMPLEX", /600 scans/);
  // Under the scan limit: libjpeg stops at the second scan, and the fallback, which would decode
  // each copy in full (missing data as -1 coefficients), is refused by the work budget, which
  // also counts what libjpeg did.
  const some = repeatedSosCmykJpeg(64, 512, 40, 200);
  const maxPixels = 64 * 512;
  await assertRejects(() => decodeJpeg(some, { maxPixels })); // libjpeg: CORRUPT
  await rejectsWith(() => decodeImage(some, { maxPixels }), "TOO_COMPLEX", /\(fallback\)/);
  // Two complete copies: the fallback decodes them, as it did before (the right size, no error),
  // given the room its CMYK conversion needs (13 a pixel: twice the budget of the pixels).
  const two = repeatedSosCmykJpeg(64, 512, 2);
  const pixels = await decodeImage(two, { maxPixels: 2 * maxPixels });
  assertEquals([pixels.width, pixels.height, pixels.channels], [64, 512, 3]);
});

Deno.test("a file whose markers libjpeg refuses is counted by the fallback's own walk", async () => {
  // A stray byte before the first scan: libjpeg's marker reader stops there (CORRUPT), so the
  // fallback decoder gets the file; its lenient walk still counts all 400 scans.
  const stray = new Uint8Array([0x00]);
  const bomb = beforeFirstScan(repeatedAcScanJpeg(256, 400), stray);
  const peek = peekJpegFrame(bomb);
  assertEquals(peek.scans, 401);
  await rejectsWith(() => decodeImage(bomb, { maxPixels: 256 * 256 }), "TOO_COMPLEX", /fallback/);
  const overLimit = beforeFirstScan(repeatedAcScanJpeg(16, 600), stray);
  await rejectsWith(() => decodeImage(overLimit), "TOO_COMPLEX", /601 scans/);
  // Few scans: the fallback still decodes such a camera file.
  const fine = beforeFirstScan(repeatedAcScanJpeg(256, 2), stray);
  const pixels = await decodeImage(fine, { maxPixels: 256 * 256 });
  assertEquals([pixels.width, pixels.height, pixels.data[0]], [256, 256, 128]);
});

Deno.test("the fallback never runs on a refusal: TOO_COMPLEX, TOO_LARGE and TRUNCATED are final", async () => {
  // Each would decode in the lenient fallback; each must keep its refusal.
  const complex = repeatedAcScanJpeg(64, 600);
  await rejectsWith(() => decodeImage(complex), "TOO_COMPLEX");
  const large = repeatedAcScanJpeg(512, 2);
  await rejectsWith(() => decodeImage(large, { maxPixels: 1000 }), "TOO_LARGE");
  const cut = repeatedAcScanJpeg(256, 300);
  await rejectsWith(() => decodeImage(cut.subarray(0, cut.length - 40)), "TRUNCATED");
});

Deno.test("the marker walks are linear: fill bytes and many tiny segments", async () => {
  const small = repeatedAcScanJpeg(64, 2);
  const fill = new Uint8Array(1 << 20).fill(0xff); // fill bytes before the SOS marker
  for (const padding of [fill, emptyComments(100_000)]) {
    const jpeg = beforeFirstScan(small, padding);
    assertEquals(readJpegInfo(jpeg).scans, 3);
    assertEquals(peekJpegFrame(jpeg).scans, 3);
    const pixels = await decodeImage(jpeg);
    assertEquals([pixels.width, pixels.data[0]], [64, 128]);
  }
});

Deno.test("real progressive scripts decode at their full pixel budget, bit for bit", async () => {
  const files = [
    ["jpeg_progressive.jpg", "jpeg_baseline_420.jpg"], // libjpeg's script, 10 scans
    ["jpeg_420_scans20.jpg", "jpeg_baseline_420.jpg"], // mozjpeg-like, 20 scans
    ["jpeg_444_scans20.jpg", "jpeg_444.jpg"],
    ["jpeg_gray_scans8.jpg", "jpeg_gray.jpg"], // 3.8 bits a pixel: the densest here
    ["jpeg_odd_progressive.jpg", undefined],
  ] as const;
  const read = (name: string) => Deno.readFile(new URL(name, FIXTURES));
  for (const [name, source] of files) {
    const jpeg = await read(name);
    const info = readJpegInfo(jpeg);
    const maxPixels = held(jpeg); // the least budget the pixel check lets through
    // Decoded for a model input (DCT-scaled), as the classifier does.
    const small = { minWidth: 8, minHeight: 8 }; // 1/8

    const scaled = await decodeImage(jpeg, { ...small, maxPixels });
    assertEquals(scaled.data, (await decodeImage(jpeg, { ...small, maxPixels: Infinity })).data);
    if (source) {
      // jpegtran's transcodes are lossless: exactly the pixels of the baseline source.
      const baseline = await decodeImage(await read(source), small);
      assertEquals(scaled.data, baseline.data, name);
    }
    // At full size the output and the bytes of 4x as many pixels as maxPixels count too.
    const units = jpegWork(info, 1) / maxPixels;
    if (units <= WORK_PER_PIXEL_BUDGET) {
      const full = await decodeImage(jpeg, { maxPixels });
      assertEquals([full.width, full.height], [info.width, info.height]);
    } else {
      assertEquals(name, "jpeg_gray_scans8.jpg", `${name}: ${units.toFixed(1)} x maxPixels`);
      await rejectsWith(() => decodeImage(jpeg, { maxPixels }), "TOO_COMPLEX");
      await decodeImage(jpeg, { maxPixels: Math.ceil(maxPixels * 1.2) });
    }
  }
});

Deno.test("a camera photo with stray bytes before its scan still decodes in the fallback", async () => {
  // libjpeg refuses the markers (CORRUPT); the fallback decodes it, within both budgets.
  const photo = await Deno.readFile(new URL("../fixtures/images/dog.jpg", import.meta.url));
  const stray = beforeFirstScan(photo, new Uint8Array([1, 2, 3]));
  const peek = peekJpegFrame(stray);
  assertEquals(peek.scans, 1);
  const pixels = await decodeImage(stray, { orientation: "ignore" });
  assertEquals([pixels.width, pixels.height], [1546, 1213]);
  const work = fallbackWork(peek, 1546, 1213);
  assert(work < 1546 * 1213 * WORK_PER_PIXEL_BUDGET, `${(work / 1546 / 1213).toFixed(1)}`);
});

Deno.test("the worst JPEG the budgets admit decodes, and one scan more is refused", async () => {
  const maxPixels = 64 * 64;
  const worst = worstCaseJpeg(maxPixels);
  const info = readJpegInfo(worst);
  assert(info.scans > 10, `${info.scans} scans`);
  const options = { maxPixels, minWidth: 8, minHeight: 8 };
  const pixels = await decodeImage(worst, options);
  assertEquals([pixels.width, pixels.height], [
    Math.ceil(info.width / 8),
    Math.ceil(info.width / 8),
  ]);
  const script = validScanScript(0, { bands: 63, acAl: 13, dcAl: 13 });
  const oneMore = scanJpeg(grayFrame(info.width), script.slice(0, info.scans + 1));
  await rejectsWith(() => decodeImage(oneMore, options), "TOO_COMPLEX");

  const fallback = worstCaseFallbackJpeg(maxPixels);
  const picture = await decodeImage(fallback, { maxPixels });
  assertEquals(picture.width, 64);
  // Its last scan (an SOS segment of 10 bytes and 16 bytes of data) once more:
  const last = fallback.subarray(-2 - 26, -2);
  assertEquals([last[0], last[1]], [0xff, 0xda]);
  const heavier = concatBytes([fallback.subarray(0, -2), last, fallback.subarray(-2)]);
  assertEquals(peekJpegFrame(heavier).scans, peekJpegFrame(fallback).scans + 1);
  await rejectsWith(() => decodeImage(heavier, { maxPixels }), "TOO_COMPLEX");
});
