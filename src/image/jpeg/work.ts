/**
 * The work a JPEG decode will do, counted from its markers before anything is decoded (issue 17,
 * finding 3: a progressive JPEG can repeat a scan over the whole image thousands of times). The
 * header walks count, for each scan, the blocks it visits and the bytes it holds; this module
 * turns those counts into pixel-equivalents for the work budget (`checkWork` in `budget.ts`),
 * for libjpeg-turbo (DCT-scaled) and for the fallback decoder (imagescript's jpeg-decoder, full
 * size), and refuses more than {@linkcode MAX_JPEG_SCANS} scans. libjpeg's work is checked for
 * multi-scan JPEGs (a single scan visits each block once, which the pixel budget bounds); the
 * fallback's always, with the work libjpeg did before it failed.
 *
 * One pixel-equivalent is the CPU time libjpeg-turbo takes per pixel of a full-size decode of a
 * real 8 MP photo (`bench/fixtures/frame_3840x2160.jpg`: 7.2-7.8 ns here). Each weight is the
 * largest cost of its kind that `bench/jpeg_scan_cost.ts` measured, on scans built to be slow
 * (end-of-band runs over every block, refinements of the widest band, data that ends early,
 * dense coefficients) and on real photos, rounded up by about a tenth: the count is an upper
 * bound of the time, so the work budget (16 x `maxPixels`) admits about 1 s of CPU here. That is
 * about what the costliest real photos the pixel budget admits take: a 5792x5792 grey
 * progressive JPEG of 9.5 MB (2.3 bits a pixel) decoded at full size counts 13.8 x `maxPixels`;
 * a denser one (3.8 bits a pixel, 16 MB at that size) counts 18.8 at full size and is refused
 * (15.9 at the 1/8 scale a model input asks for: decoded).
 *
 * @module
 */
import { ImageDecodeError } from "../../errors.ts";
import { checkWork } from "../budget.ts";

/**
 * The most scans a JPEG may have: 500, as libjpeg-turbo's own fuzzers set its scan limit
 * (`TJPARAM_SCANLIMIT`). Encoders write 1 (baseline), 6 to 10 (libjpeg's progressive script) or
 * up to about 20 (mozjpeg's searched scripts); the standard allows 896 per component, which no
 * encoder writes.
 */
export const MAX_JPEG_SCANS = 500;

/**
 * libjpeg-turbo's costs in pixel-equivalents. Each comment gives what `bench/jpeg_scan_cost.ts`
 * measured (least CPU time of 9 runs; ranges are over several runs on a shared machine, in units
 * of 7.2 ns); each weight is about 1.1x the most, the byte weight excepted.
 */
export const LIBJPEG_WEIGHTS = {
  /** Per scan: its header, Huffman tables and pass set-up (0.56 us = 78; noisier runs 1.1 us). */
  scan: 90,
  /**
   * Per block a scan visits, whatever the scan: 1.5 for a scan whose data ended, 2.5 for
   * end-of-band runs, 2.3 for a DC and 2.6 for a one-coefficient AC refinement.
   */
  visit: 3,
  /**
   * Per coefficient of the band, per block, in an AC refinement scan, which walks the band of
   * every block (a 1..63 refinement with no data: 8.7 a block, 2.6 + 63 x 0.098).
   */
  refinedCoefficient: 0.11,
  /**
   * Per byte of entropy-coded data: 1.2-1.3 for a real baseline photo, 2.2-2.7 for dense
   * coefficients of 1 or 2 bits, and the most for a real photo made progressive: 4.7-7.1 over
   * four runs (41-51 ns a byte). Set below that maximum so that the densest real progressive
   * photos still fit at the full pixel budget; a stream as costly as the worst run then overruns
   * its count by a tenth.
   */
  byte: 6.5,
  /** Per block of the frame: coefficient buffer, scaled inverse DCT, set-up (4.5-10.2). */
  block: 11,
  /**
   * Per output pixel: inverse DCT, upsampling and colour conversion at full size (grey 0.28,
   * 4:2:0 and 4:4:4 0.48, CMYK 0.62, grey from a coefficient buffer 0.52).
   */
  pixel: 0.75,
} as const;

/** The fallback decoder's costs, in the same pixel-equivalents (about 1.1x the most measured). */
export const FALLBACK_WEIGHTS = {
  /** Per scan (0.2-0.3 us: 27-44). */
  scan: 40,
  /**
   * Per block a scan visits: jpeg-decoder reads zero bits past the end of a scan's data, so a
   * scan cut short can decode 63 coefficients a block out of nothing, and each scan that
   * completes a component redoes its inverse DCT (34-40 for blocks of -1s; 1.3-10.5 for
   * scans with nothing to decode).
   */
  visit: 45,
  /**
   * Per byte of entropy-coded data or of stray bytes between segments (dense coefficients: 3.9;
   * a real photo's data: 4.6-11).
   */
  byte: 10,
  /** Per pixel: inverse DCT, upsampling, colour conversion, copies (a whole photo: 4.3-4.4). */
  pixel: 5,
  /**
   * Per pixel of a four-component (CMYK, YCCK) frame, whose conversion costs more: 10-12.7 for a
   * 32832x240 CMYK frame of the fuzz campaign (0.56-0.72 s on a quiet machine), against 6.6-8.2
   * for a three-component one of the same size.
   */
  cmykPixel: 13,
} as const;

/** What a scan header declares: the frame indices of its components, band and approximation. */
export interface JpegScanHeader {
  /** Indices of the scan's components in frame order. */
  components: number[];
  /** Start of the spectral band (0 = DC). */
  ss: number;
  /** End of the spectral band. */
  se: number;
  /** Successive approximation high bit (0 for a first scan). */
  ah: number;
  /** Successive approximation low bit. */
  al: number;
}

/** The frame's size and sampling, as the scan counts need them. */
export interface FrameGeometry {
  width: number;
  height: number;
  sampling: [number, number][];
}

/** The counts of the scans a header walk found. */
export interface ScanCounts {
  /** Number of scans (SOS markers). */
  scans: number;
  /** Blocks visited, summed over the scans. */
  blockVisits: number;
  /** Blocks times band width, summed over the AC refinement scans. */
  refinedCoefficients: number;
}

/**
 * The blocks a scan visits. libjpeg: a one-component scan covers that component's own blocks,
 * an interleaved scan whole MCUs. `padded` (jpeg-decoder): every scan walks the frame's MCUs.
 */
export function scanBlocks(
  frame: FrameGeometry,
  components: readonly number[],
  padded: boolean,
): number {
  const hmax = Math.max(...frame.sampling.map(([h]) => h));
  const vmax = Math.max(...frame.sampling.map(([, v]) => v));
  if (components.length === 1 && !padded) {
    const [h, v] = frame.sampling[components[0]];
    return Math.ceil(Math.ceil((frame.width * h) / hmax) / 8) *
      Math.ceil(Math.ceil((frame.height * v) / vmax) / 8);
  }
  const mcus = Math.ceil(frame.width / (8 * hmax)) * Math.ceil(frame.height / (8 * vmax));
  let perMcu = 0;
  for (const c of components) perMcu += frame.sampling[c][0] * frame.sampling[c][1];
  return mcus * perMcu;
}

/** Adds one scan to `counts`. */
export function countScan(
  counts: ScanCounts,
  frame: FrameGeometry,
  scan: JpegScanHeader,
  padded: boolean,
): void {
  const blocks = scanBlocks(frame, scan.components, padded);
  counts.scans++;
  counts.blockVisits += blocks;
  if (scan.ss > 0 && scan.ah > 0) {
    counts.refinedCoefficients += blocks * Math.max(0, Math.min(scan.se, 63) - scan.ss + 1);
  }
}

/**
 * libjpeg's work for a decode to `outWidth x outHeight`, in pixel-equivalents.
 *
 * @param counts the scans, their bytes and the frame's blocks, from `readJpegInfo`
 */
export function libjpegWork(
  counts: ScanCounts & { scanBytes: number; frameBlocks: number },
  outWidth: number,
  outHeight: number,
): number {
  const w = LIBJPEG_WEIGHTS;
  return counts.scans * w.scan + counts.blockVisits * w.visit +
    counts.refinedCoefficients * w.refinedCoefficient + counts.scanBytes * w.byte +
    counts.frameBlocks * w.block + outWidth * outHeight * w.pixel;
}

/**
 * The fallback decoder's work for a full-size decode, in pixel-equivalents.
 *
 * @param counts the scans (blocks `padded`), the bytes it reads and the frame (its component
 *   count), from `peekJpegFrame`
 */
export function fallbackWork(
  counts: ScanCounts & { dataBytes: number; frame?: { sampling: readonly unknown[] } },
  width: number,
  height: number,
): number {
  const w = FALLBACK_WEIGHTS;
  const pixel = (counts.frame?.sampling.length ?? 3) >= 4 ? w.cmykPixel : w.pixel;
  return counts.scans * w.scan + counts.blockVisits * w.visit + counts.dataBytes * w.byte +
    width * height * pixel;
}

/**
 * Refuses a JPEG with more than {@linkcode MAX_JPEG_SCANS} scans, or whose `work` is over the
 * work budget.
 *
 * @param scans how many scans the decoder would decode
 * @param work the decode's work in pixel-equivalents ({@linkcode libjpegWork} or
 *   {@linkcode fallbackWork}, or both when one follows the other)
 * @param maxPixels the pixel budget the work budget scales with
 * @param what the image, for the message (e.g. "5792x5792 image")
 * @throws {ImageDecodeError} `TOO_COMPLEX`
 */
export function checkJpegWork(scans: number, work: number, maxPixels: number, what: string): void {
  if (scans > MAX_JPEG_SCANS) {
    throw new ImageDecodeError(
      "TOO_COMPLEX",
      `JPEG ${what} has ${scans} scans, over the limit of ${MAX_JPEG_SCANS} (encoders write at ` +
        `most about 20)`,
    );
  }
  checkWork("JPEG", work, maxPixels, `${what} of ${scans} scans`);
}
