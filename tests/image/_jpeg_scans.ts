/**
 * Multi-scan JPEG generators for the scan bombs of issue 17 (finding 3), without an encoder
 * dependency: every coefficient is zero, so a scan is a run of end-of-band codes (AC), one short
 * code per block (DC first) or one bit per block (DC refinement), and a 5792x5792 progressive
 * JPEG of 20,000 scans is written in well under a second. Used by
 * `tests/image/jpeg_hostile_test.ts` (small sizes) and `bench/hostile_inputs.ts` (the sizes of
 * the issue).
 *
 * @module
 */
import { concatBytes } from "../../src/_util.ts";
import { DEFAULT_MAX_PIXELS, WORK_PER_PIXEL_BUDGET } from "../../src/image/budget.ts";
import {
  fallbackWork,
  type JpegScale,
  jpegWork,
  peekJpegFrame,
  readJpegInfo,
} from "../../src/image/jpeg/mod.ts";
import { BitWriter, segment } from "./_jpeg_dc.ts";

/** One scan of a scan script: frame component indices, spectral band, successive approximation. */
export interface ScanSpec {
  /** Indices (0-based, in frame order) of the scan's components. */
  components: readonly number[];
  /** Start of the spectral band (0 = DC). */
  ss: number;
  /** End of the spectral band. */
  se: number;
  /** Successive approximation: the previous scan's low bit (0 for a first scan). */
  ah: number;
  /** Successive approximation: this scan's low bit. */
  al: number;
  /** Keep only this many bytes of the scan's data (a scan cut short); default all. */
  bytes?: number;
}

/** The frame of a generated JPEG. */
export interface ScanFrame {
  width: number;
  height: number;
  /** Sampling factors `[h, v]` per component: 1 (grey), 3 (YCbCr) or 4 (CMYK) entries. */
  sampling: readonly (readonly [number, number])[];
  /** SOF2 (progressive) when true, else SOF0 (baseline). */
  progressive: boolean;
}

const SOI = new Uint8Array([0xff, 0xd8]);
const EOI = new Uint8Array([0xff, 0xd9]);

/** The 15 end-of-band symbols EOB0..EOB14 (runs of 1..32767 blocks). */
const EOB_SYMBOLS = Array.from({ length: 15 }, (_, r) => r << 4);
/** DC table 0: the one symbol 0 (a zero difference), code `0`. */
const DC_TABLE = [0x00, 1, ...new Array(15).fill(0), 0x00];
/** AC table 0: the end-of-band symbols, 4-bit codes. */
const AC_TABLE = [0x10, 0, 0, 0, 15, ...new Array(12).fill(0), ...EOB_SYMBOLS];
/** Dense AC table 0: (run 0, size 1) with code `0`, then the end-of-band symbols, 5-bit codes. */
const DENSE_AC_TABLE = [0x10, 1, 0, 0, 0, 15, ...new Array(11).fill(0), 0x01, ...EOB_SYMBOLS];
/**
 * Baseline AC table 0: (run 0, size 1) with code `0` and end-of-block with `10`. A decoder that
 * runs out of a scan's data reads zero bits, as decoders do, and so decodes -1 coefficients: a
 * scan cut short costs a full inverse DCT of every block.
 */
const BASELINE_AC_TABLE = [0x10, 1, 1, ...new Array(14).fill(0), 0x01, 0x00];

function headers(frame: ScanFrame, adobe: boolean, dense: boolean): Uint8Array[] {
  const { width, height, sampling } = frame;
  const sof = segment(frame.progressive ? 0xc2 : 0xc0, [
    8,
    height >> 8,
    height & 255,
    width >> 8,
    width & 255,
    sampling.length,
    ...sampling.flatMap(([h, v], i) => [i + 1, (h << 4) | v, 0]),
  ]);
  const parts: Uint8Array[] = [SOI];
  if (adobe) {
    // Adobe APP14, transform 0: 4 components are CMYK as stored.
    const name = [..."Adobe"].map((c) => c.charCodeAt(0));
    parts.push(segment(0xee, [...name, 0, 100, 0, 0, 0, 0, 0]));
  }
  parts.push(segment(0xdb, [0, ...new Array(64).fill(1)]), sof);
  const ac = !frame.progressive ? BASELINE_AC_TABLE : dense ? DENSE_AC_TABLE : AC_TABLE;
  parts.push(segment(0xc4, [...DC_TABLE, ...ac]));
  return parts;
}

/** Blocks a scan codes: a component's own blocks alone, whole MCUs when interleaved. */
export function scanBlockCount(frame: ScanFrame, components: readonly number[]): number {
  const hmax = Math.max(...frame.sampling.map(([h]) => h));
  const vmax = Math.max(...frame.sampling.map(([, v]) => v));
  if (components.length === 1) {
    const [h, v] = frame.sampling[components[0]];
    return Math.ceil(Math.ceil((frame.width * h) / hmax) / 8) *
      Math.ceil(Math.ceil((frame.height * v) / vmax) / 8);
  }
  const mcus = Math.ceil(frame.width / (8 * hmax)) * Math.ceil(frame.height / (8 * vmax));
  return mcus * components.reduce((sum, c) => sum + frame.sampling[c][0] * frame.sampling[c][1], 0);
}

/** End-of-band runs over `blocks` blocks, each followed by `correction` bits per block. */
function writeEobRuns(bits: BitWriter, blocks: number, dense: boolean, correction: number): void {
  for (let left = blocks; left > 0;) {
    const run = Math.min(left, 32767);
    const r = 31 - Math.clz32(run);
    if (dense) bits.write(16 + r, 5);
    else bits.write(r, 4);
    bits.write(run - (1 << r), r);
    for (let i = 0; i < run * correction; i++) bits.write(0, 1);
    left -= run;
  }
}

/**
 * The entropy-coded data of a scan: all zero, or with `dense` every AC coefficient of the band
 * +1 in its first scan (2 bits each) and refined in each refinement scan (1 bit each).
 */
function scanData(frame: ScanFrame, scan: ScanSpec, dense: boolean): Uint8Array {
  const blocks = scanBlockCount(frame, scan.components);
  const width = scan.se - scan.ss + 1;
  const bits = new BitWriter(Math.min(1 << 20, blocks * (dense ? width : 1) + 16));
  if (!frame.progressive) {
    for (let b = 0; b < blocks; b++) bits.write(2, 3); // DC `0`, end-of-block `10`
  } else if (scan.ss === 0) {
    for (let b = 0; b < blocks; b++) bits.write(0, 1); // DC `0`, or a refinement bit
  } else if (dense && scan.ah === 0) {
    for (let b = 0; b < blocks * width; b++) bits.write(1, 2); // (0, 1) = `0`, then +1 = `1`
  } else {
    writeEobRuns(bits, blocks, dense, dense && scan.ah > 0 ? width : 0);
  }
  return bits.finish();
}

function sos(scan: ScanSpec): Uint8Array {
  return segment(0xda, [
    scan.components.length,
    ...scan.components.flatMap((c) => [c + 1, 0x00]),
    scan.ss,
    scan.se,
    (scan.ah << 4) | scan.al,
  ]);
}

/** Options of {@linkcode scanJpeg}. */
export interface ScanJpegOptions {
  /** Write an Adobe APP14 segment (transform 0: CMYK as stored). @default {false} */
  adobe?: boolean;
  /**
   * Progressive only: every AC coefficient is non-zero (+1 in its first scan, one correction bit
   * in each refinement), the most decoding work per byte. @default {false}
   */
  dense?: boolean;
}

/** The segments of a JPEG of `frame` with the given scans, identical scans encoded once. */
function scanParts(
  frame: ScanFrame,
  scans: readonly ScanSpec[],
  options: ScanJpegOptions,
): Uint8Array[] {
  const dense = options.dense ?? false;
  const cache = new Map<string, Uint8Array>();
  const parts = headers(frame, options.adobe ?? false, dense);
  for (const scan of scans) {
    const key = `${scan.components}/${scan.ss}/${scan.se}/${scan.ah}/${scan.al}/${scan.bytes}`;
    let bytes = cache.get(key);
    if (!bytes) {
      const data = scanData(frame, scan, dense);
      bytes = concatBytes([sos(scan), data.subarray(0, scan.bytes ?? data.length)]);
      cache.set(key, bytes);
    }
    parts.push(bytes);
  }
  return parts;
}

/**
 * A JPEG of `frame` with the given scans, every coefficient zero (a flat mid-grey picture)
 * unless `dense`. Identical scans are encoded once, so thousands of repeats cost little.
 */
export function scanJpeg(
  frame: ScanFrame,
  scans: readonly ScanSpec[],
  options: ScanJpegOptions = {},
): Uint8Array {
  return concatBytes([...scanParts(frame, scans, options), EOI]);
}

/** A grey progressive frame of `side x side`. */
export function grayFrame(side: number): ScanFrame {
  return { width: side, height: side, sampling: [[1, 1]], progressive: true };
}

/**
 * Finding 3, first file: a grey progressive JPEG of `side x side` whose DC scan is followed by
 * one AC scan (1..63) repeated `repeats` times. libjpeg takes each repeat as valid (a first scan
 * of coefficients already complete), so each costs a pass over every block. 5792x5792 with
 * 20,000 repeats makes 1.4 MB; 2896x2896 with 5,000 makes 131 KB.
 */
export function repeatedAcScanJpeg(side: number, repeats: number): Uint8Array {
  const ac: ScanSpec = { components: [0], ss: 1, se: 63, ah: 0, al: 0 };
  return scanJpeg(grayFrame(side), [
    { components: [0], ss: 0, se: 0, ah: 0, al: 0 },
    ...new Array(repeats).fill(ac),
  ]);
}

/**
 * A legal successive-approximation script for one component, with as many scans as the standard
 * allows: the DC coefficient sent at `dcAl` and refined bit by bit down to 0, then each of `bands`
 * spectral bands (splitting 1..63) sent at `acAl` and refined bit by bit down to 0. 13 is the
 * largest point transform for 8-bit samples, so 63 bands at 13 make 63 x 14 = 882 AC scans.
 */
export function validScanScript(
  component: number,
  { bands = 63, acAl = 13, dcAl = 0 }: { bands?: number; acAl?: number; dcAl?: number } = {},
): ScanSpec[] {
  const scans: ScanSpec[] = [];
  const steps = (ss: number, se: number, first: number) => {
    scans.push({ components: [component], ss, se, ah: 0, al: first });
    for (let al = first - 1; al >= 0; al--) {
      scans.push({ components: [component], ss, se, ah: al + 1, al });
    }
  };
  steps(0, 0, dcAl);
  for (let band = 0; band < bands; band++) {
    steps(1 + Math.floor((63 * band) / bands), Math.floor((63 * (band + 1)) / bands), acAl);
  }
  return scans;
}

/**
 * Finding 3, second file: a grey progressive JPEG of `side x side` with one DC scan and the AC
 * scans of {@linkcode validScanScript} (by default its 882: 63 one-coefficient bands, each sent
 * at 13 and refined to 0), every one valid for libjpeg. 5792x5792 makes 123 KB.
 */
export function validScansJpeg(side: number, bands = 63, acAl = 13): Uint8Array {
  return scanJpeg(grayFrame(side), validScanScript(0, { bands, acAl }));
}

/**
 * Finding 3, third file: a baseline CMYK JPEG (Adobe, 4:4:4) of `width x height` whose one
 * interleaved scan is copied `copies` times, each copy cut to `scanBytes` bytes of data (the
 * fuzzer's file: 64x65535, 3,001 copies of about 2,260 bytes, 6.8 MB). libjpeg stops at the
 * second scan ("didn't expect more than one scan"); a lenient decoder decodes every copy in
 * full, and a cut copy's missing data decodes as -1 coefficients (see the AC table).
 */
export function repeatedSosCmykJpeg(
  width: number,
  height: number,
  copies: number,
  scanBytes?: number,
): Uint8Array {
  const frame: ScanFrame = {
    width,
    height,
    sampling: [[1, 1], [1, 1], [1, 1], [1, 1]],
    progressive: false,
  };
  const scan: ScanSpec = {
    components: [0, 1, 2, 3],
    ss: 0,
    se: 63,
    ah: 0,
    al: 0,
    bytes: scanBytes,
  };
  return scanJpeg(frame, new Array(copies).fill(scan), { adobe: true });
}

/**
 * The longest prefix of `scans` whose file `admitted` accepts (the work grows with every scan),
 * found by bisection over files assembled from the segments encoded once.
 */
function longestAdmitted(
  frame: ScanFrame,
  scans: readonly ScanSpec[],
  options: ScanJpegOptions,
  admitted: (jpeg: Uint8Array) => boolean,
  before: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const parts = scanParts(frame, scans, options);
  const head = parts.length - scans.length;
  const file = (n: number) =>
    concatBytes([...parts.slice(0, head), before, ...parts.slice(head, head + n), EOI]);
  let [lo, hi] = [1, scans.length];
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (admitted(file(mid))) lo = mid;
    else hi = mid - 1;
  }
  return file(lo);
}

/** The largest multiple of 8 whose square is at most `pixels`. */
function sideFor(pixels: number): number {
  return Math.floor(Math.sqrt(pixels) / 8) * 8;
}

/**
 * The worst JPEG the budgets admit on the libjpeg path, for a decode at `scale` (1/8, as a model
 * input of 224x224 asks of it): a grey progressive frame as large as the pixel budget allows
 * (libjpeg buffers its coefficients, 2 bytes each: a side of 5792 at the default budget) with
 * the longest prefix of a legal script (the DC coefficient sent at 13 and refined bit by bit, then
 * one-coefficient AC bands likewise) that the work budget admits: 75 scans, 0.9 MB at the
 * default budget. Every scan is valid and it decodes to a picture; the scans are those that cost
 * libjpeg the most per unit of counted work. Use it to keep a decoder as busy as a legal decode
 * can: at the default budget that took 0.6 s of CPU in a warm process here, 1.0-1.4 s in a fresh
 * one on a loaded machine (`bench/hostile_inputs.ts`).
 */
export function worstCaseJpeg(
  maxPixels: number = DEFAULT_MAX_PIXELS,
  scale: JpegScale = 0.125,
): Uint8Array {
  const limit = maxPixels * WORK_PER_PIXEL_BUDGET;
  const script = validScanScript(0, { bands: 63, acAl: 13, dcAl: 13 });
  return longestAdmitted(
    grayFrame(sideFor(4 * maxPixels)),
    script,
    {},
    (jpeg) => jpegWork(readJpegInfo(jpeg), scale) <= limit,
  );
}

/**
 * The worst JPEG the budgets admit on the fallback path: a grey progressive frame as large as
 * the fallback's full-size pixel budget allows (2896x2896 at the default budget), with a stray
 * byte before its first scan (libjpeg's marker reader refuses it, so the fallback decoder gets
 * it without libjpeg having worked) and as many AC scans cut to 16 bytes as the work budget
 * admits (14 at the default budget): the fallback decodes each cut scan's missing data as 63
 * coefficients a block. 0.6 s of CPU warm, 0.9-1.5 s in a fresh process on a loaded machine.
 */
export function worstCaseFallbackJpeg(maxPixels: number = DEFAULT_MAX_PIXELS): Uint8Array {
  const limit = maxPixels * WORK_PER_PIXEL_BUDGET;
  const frame = grayFrame(sideFor(maxPixels));
  const cut: ScanSpec = { components: [0], ss: 1, se: 63, ah: 0, al: 1, bytes: 16 };
  const scans = [{ components: [0], ss: 0, se: 0, ah: 0, al: 0 }, ...new Array(500).fill(cut)];
  return longestAdmitted(frame, scans, { dense: true }, (jpeg) => {
    const peek = peekJpegFrame(jpeg);
    return fallbackWork(peek, frame.width, frame.height) <= limit;
  }, new Uint8Array([0x00]));
}

/** A copy of `jpeg` with `insert` placed just before its first SOS marker segment. */
export function beforeFirstScan(jpeg: Uint8Array, insert: Uint8Array): Uint8Array {
  let sos = 2;
  while (jpeg[sos + 1] !== 0xda) sos += 2 + ((jpeg[sos + 2] << 8) | jpeg[sos + 3]);
  return concatBytes([jpeg.subarray(0, sos), insert, jpeg.subarray(sos)]);
}

/** `count` empty COM segments (FF FE 00 02), 4 bytes each. */
export function emptyComments(count: number): Uint8Array {
  const out = new Uint8Array(4 * count);
  for (let i = 0; i < out.length; i += 4) out.set([0xff, 0xfe, 0, 2], i);
  return out;
}
