/**
 * The fast JPEG path: reads the JPEG's markers, picks the largest power-of-two DCT scaling
 * factor (1, 1/2, 1/4, 1/8) that keeps the output at least as large as asked, and decodes with
 * libjpeg-turbo (WebAssembly) directly at that size. A 1920x1080 camera frame decoded for a
 * 224x224 model comes out at 480x270 in a few milliseconds instead of a full decode.
 *
 * @module
 */
import { frameBlocks, type JpegInfo, readJpegInfo } from "./header.ts";
import { TJPF_CMYK, TJPF_RGB, TJPF_RGBA, turboDecode } from "./turbo.ts";
import { checkBudget, DEFAULT_MAX_PIXELS } from "../budget.ts";
import { checkJpegWork, libjpegWork } from "./work.ts";

/** A DCT scaling factor that {@linkcode decodeJpeg} uses. */
export type JpegScale = 1 | 0.5 | 0.25 | 0.125;

/** Options of {@linkcode decodeJpeg}. */
export interface DecodeJpegOptions {
  /**
   * Smallest acceptable output width. The JPEG is reduced by the largest factor of 1/2, 1/4,
   * 1/8 that keeps the width at least this (and the height at least `minHeight`). If neither
   * `minWidth` nor `minHeight` is given, the JPEG is decoded at full size.
   */
  minWidth?: number;
  /** Smallest acceptable output height; see `minWidth`. */
  minHeight?: number;
  /**
   * Channels of the output: 3 (RGB, the default) or 4 (RGBA, alpha 255). Grey and CMYK JPEGs are
   * converted to RGB too.
   * @default {3}
   */
  channels?: 3 | 4;
  /**
   * The pixel budget: the most pixels the decode may hold. For a single-scan (baseline or
   * extended sequential) JPEG that is the DCT-reduced output; for a multi-scan (progressive)
   * JPEG, whose DCT coefficients libjpeg buffers for the whole image (2 bytes each), a quarter
   * of its coefficients (0.375 x the full size for 4:2:0, 0.75 x for 4:4:4).
   * @default {DEFAULT_MAX_PIXELS}
   */
  maxPixels?: number;
}

/** A decoded JPEG, possibly reduced in the DCT domain. */
export interface DecodedJpeg {
  /** Pixels, row-major, `width * height * channels` bytes, RGB or RGBA, no row padding. */
  data: Uint8Array;
  /** Width of `data` in pixels: `ceil(sourceWidth * scale)`. */
  width: number;
  /** Height of `data` in pixels: `ceil(sourceHeight * scale)`. */
  height: number;
  /** 3 (RGB) or 4 (RGBA). */
  channels: 3 | 4;
  /** Width of the JPEG before DCT scaling. */
  sourceWidth: number;
  /** Height of the JPEG before DCT scaling. */
  sourceHeight: number;
  /** The DCT scaling factor used: 1, 0.5, 0.25 or 0.125. */
  scale: JpegScale;
  /**
   * EXIF orientation 1..8 (1 = upright or unknown). Reported only: the pixels are as stored,
   * not rotated.
   */
  orientation: number;
  /** Everything the marker reader found (components, sampling, coding, scans, ...). */
  info: JpegInfo;
}

const SCALES: readonly JpegScale[] = [0.125, 0.25, 0.5, 1];

/**
 * Size of one side after DCT scaling, as libjpeg computes it: `ceil(size * scale)`.
 *
 * @param size the side before scaling, in pixels
 * @param scale the DCT scaling factor
 * @returns the side after scaling, in pixels
 */
export function scaledSize(size: number, scale: JpegScale): number {
  return Math.ceil(size * scale); // exact: scale is a power of two
}

/**
 * Chooses the largest power-of-two reduction (1/8, 1/4, 1/2, else 1) whose output keeps both
 * sides at least the given minimum. An image already smaller than the minimum gets 1.
 *
 * @param width source width in pixels
 * @param height source height in pixels
 * @param minWidth smallest acceptable output width (0 = no constraint)
 * @param minHeight smallest acceptable output height (0 = no constraint)
 * @returns the scaling factor
 */
export function chooseScale(
  width: number,
  height: number,
  minWidth: number,
  minHeight: number,
): JpegScale {
  for (const scale of SCALES) {
    if (scaledSize(width, scale) >= minWidth && scaledSize(height, scale) >= minHeight) {
      return scale;
    }
  }
  return 1;
}

/**
 * Decodes a JPEG, reduced in the DCT domain by the largest power-of-two factor (1, 1/2, 1/4,
 * 1/8) that keeps both sides >= the given minimum. Baseline, extended and progressive JPEGs;
 * grey, YCbCr, RGB, CMYK and YCCK (Adobe) colour; any chroma subsampling; restart markers.
 * Output is always RGB (or RGBA); CMYK is converted naively (no ICC profile).
 *
 * @param bytes the whole JPEG file
 * @param options minimum output size and number of channels
 * @returns the pixels, their size, the source size and the scale used
 * @throws {JpegError} `NOT_JPEG` (empty input, not a JPEG), `TRUNCATED` (the data ends before the
 *   end-of-image marker), `CORRUPT` (invalid markers or image data, including any libjpeg
 *   warning such as corrupt entropy-coded data), `UNSUPPORTED` (arithmetic coding, lossless or
 *   hierarchical JPEG, 12-bit samples, 2 components). `TRUNCATED` also covers scans too short for
 *   the frame size the header claims. Callers may fall back to a general decoder for
 *   `UNSUPPORTED`.
 * @throws {ImageDecodeError} `TOO_LARGE` when the decode would hold more than `maxPixels`;
 *   `TOO_COMPLEX` when it has more than `MAX_JPEG_SCANS` scans or its scans would cost more than
 *   the work budget (`work.ts`), checked from the markers before anything is decoded (a
 *   single-scan JPEG visits each block once: the pixel budget bounds it)
 * @throws {RangeError} for negative or non-finite minimum sizes or a bad `channels` value
 */
export async function decodeJpeg(
  bytes: Uint8Array,
  options: DecodeJpegOptions = {},
): Promise<DecodedJpeg> {
  const { minWidth, minHeight, channels = 3 } = options;
  for (const [name, value] of [["minWidth", minWidth], ["minHeight", minHeight]] as const) {
    if (value !== undefined && !(value >= 0 && Number.isFinite(value))) {
      throw new RangeError(`${name} must be a finite number >= 0, got ${value}`);
    }
  }
  if (channels !== 3 && channels !== 4) {
    throw new RangeError(`channels must be 3 or 4, got ${channels}`);
  }
  const info = readJpegInfo(bytes);
  const scale = minWidth === undefined && minHeight === undefined
    ? 1
    : chooseScale(info.width, info.height, minWidth ?? 0, minHeight ?? 0);
  const width = scaledSize(info.width, scale);
  const height = scaledSize(info.height, scale);
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (info.scans > 1) {
    // libjpeg buffers every DCT coefficient (2 bytes) of a multi-scan image: count 4 per pixel.
    const held = Math.ceil((frameBlocks(info) * 64) / 4);
    checkBudget("JPEG", info.width, info.height, maxPixels, "multi-scan image", held);
    // Each scan is another pass over the blocks it covers: the work is counted and bounded. (One
    // scan visits each block once, which the pixel budget already bounds.)
    const what = `${info.width}x${info.height} image`;
    checkJpegWork(info.scans, jpegWork(info, scale), maxPixels, what);
  } else {
    checkBudget("JPEG", width, height, maxPixels, "decoded image");
  }
  const input = bytes.subarray(0, info.end); // bytes after EOI are not the decoder's business
  let data: Uint8Array;
  if (info.components === 4) {
    const cmyk = await turboDecode(input, width, height, TJPF_CMYK);
    data = cmykToRgb(cmyk, channels, info.adobeTransform !== undefined);
  } else {
    data = await turboDecode(input, width, height, channels === 3 ? TJPF_RGB : TJPF_RGBA);
  }
  return {
    data,
    width,
    height,
    channels,
    sourceWidth: info.width,
    sourceHeight: info.height,
    scale,
    orientation: info.orientation,
    info,
  };
}

/**
 * The work libjpeg will do to decode `info` at `scale`, in pixel-equivalents of the work budget
 * (see `work.ts`): its scans, its bytes, its blocks and its output.
 *
 * @param info what the marker reader found
 * @param scale the DCT scaling factor
 */
export function jpegWork(info: JpegInfo, scale: JpegScale): number {
  const counts = { ...info, frameBlocks: frameBlocks(info) };
  return libjpegWork(counts, scaledSize(info.width, scale), scaledSize(info.height, scale));
}

/**
 * Converts CMYK to RGB(A) without a colour profile: R = (255 - C) (255 - K) / 255, and so on.
 * Adobe JPEGs store CMYK inverted (255 = no ink), as libjpeg returns them.
 */
function cmykToRgb(cmyk: Uint8Array, channels: 3 | 4, inverted: boolean): Uint8Array {
  const pixels = cmyk.length >> 2;
  const out = new Uint8Array(pixels * channels);
  for (let i = 0, o = 0; i < cmyk.length; i += 4, o += channels) {
    let c = cmyk[i], m = cmyk[i + 1], y = cmyk[i + 2], k = cmyk[i + 3];
    if (!inverted) {
      c = 255 - c;
      m = 255 - m;
      y = 255 - y;
      k = 255 - k;
    }
    out[o] = Math.round((c * k) / 255);
    out[o + 1] = Math.round((m * k) / 255);
    out[o + 2] = Math.round((y * k) / 255);
    if (channels === 4) out[o + 3] = 255;
  }
  return out;
}
