/**
 * A small TIFF decoder for untrusted input: the first image (IFD0) of a baseline TIFF, 8- or
 * 16-bit gray, gray + alpha, RGB, RGBA or 8-bit palette, chunky (interleaved) samples, in strips
 * or tiles, uncompressed, LZW, deflate or PackBits, with or without the horizontal predictor.
 *
 * It checks the pixel budget from the IFD before allocating anything, refuses a file whose
 * strips cannot hold the pixels its header claims, decodes one strip (or one row of tiles) at a
 * time and box-reduces the rows as they come, so memory is the reduced image plus one strip.
 *
 * @module
 */
import { ImageDecodeError } from "../errors.ts";
import { checkBudget } from "./budget.ts";
import type { Pixels } from "./pixels.ts";
import { reductionFactor, RowReducer } from "./rows.ts";
import { inflateInto, lzwDecode, packBitsDecode } from "./tiff_codecs.ts";

/** The IFD fields the decoder uses. */
export interface TiffInfo {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Bits per sample: 8 or 16. */
  bitsPerSample: number;
  /** Samples per pixel: 1 to 4 (the second or fourth may be alpha). */
  samplesPerPixel: number;
  /** 0 WhiteIsZero, 1 BlackIsZero, 2 RGB, 3 palette. */
  photometric: number;
  /** 1 none, 5 LZW, 8 or 32946 deflate, 32773 PackBits. */
  compression: number;
  /** 1 none, 2 horizontal differencing. */
  predictor: number;
  /** EXIF-style orientation 1..8 (tag 274), 1 when absent. */
  orientation: number;
  /** Tile size, or `undefined` for strips. */
  tile?: { width: number; height: number };
  /** Rows per strip (strips only). */
  rowsPerStrip: number;
  /** Offsets of the strips or tiles. */
  offsets: number[];
  /** Byte counts of the strips or tiles. */
  byteCounts: number[];
  /** 16-bit RGB colour map of a palette image. */
  colorMap?: number[];
  /** The file is little-endian. */
  little: boolean;
}

/** Options of {@linkcode decodeTiff}. */
export interface DecodeTiffOptions {
  /** Reduce (box filter, integer factor) while keeping the width at least this. */
  minWidth?: number;
  /** Like `minWidth`, for the height. */
  minHeight?: number;
  /** The pixel budget for the full-size image. */
  maxPixels: number;
}

const COMPRESSIONS: Record<number, string> = {
  1: "none",
  5: "LZW",
  8: "deflate",
  32946: "deflate",
  32773: "PackBits",
};
/** Largest output per input byte of each compression (LZW: a 12-bit code for 4094 bytes). */
const MAX_RATIO: Record<number, number> = { 1: 1, 5: 2731, 8: 1032, 32946: 1032, 32773: 64 };
const TYPE_SIZE: Record<number, number> = { 1: 1, 3: 2, 4: 4 };

const corrupt = (message: string) => new ImageDecodeError("CORRUPT", `corrupt TIFF: ${message}`);
const unsupported = (message: string) =>
  new ImageDecodeError("UNSUPPORTED_FORMAT", `unsupported TIFF: ${message}`);

/** Reads the IFD entries of the first image as tag -> values (BYTE, SHORT or LONG). */
function readIfd(bytes: Uint8Array): { tags: Map<number, number[]>; little: boolean } {
  if (bytes.length < 8) throw new ImageDecodeError("TRUNCATED", "truncated TIFF: no header");
  const little = bytes[0] === 0x49;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(2, little) === 43) throw unsupported("BigTIFF");
  const ifd = view.getUint32(4, little);
  if (ifd < 8 || ifd + 2 > bytes.length) {
    throw new ImageDecodeError("TRUNCATED", `truncated TIFF: the IFD at ${ifd} is past the end`);
  }
  const count = view.getUint16(ifd, little);
  if (ifd + 2 + count * 12 > bytes.length) {
    throw new ImageDecodeError("TRUNCATED", "truncated TIFF: the IFD runs past the end");
  }
  const tags = new Map<number, number[]>();
  for (let k = 0; k < count; k++) {
    const e = ifd + 2 + 12 * k;
    const tag = view.getUint16(e, little);
    const size = TYPE_SIZE[view.getUint16(e + 2, little)];
    const n = view.getUint32(e + 4, little);
    if (size === undefined) continue; // rationals, ASCII, ...: nothing we need
    const at = n * size <= 4 ? e + 8 : view.getUint32(e + 8, little);
    if (at + n * size > bytes.length) {
      throw new ImageDecodeError("TRUNCATED", `truncated TIFF: tag ${tag} points past the end`);
    }
    const values = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const p = at + i * size;
      values[i] = size === 1
        ? bytes[p]
        : size === 2
        ? view.getUint16(p, little)
        : view.getUint32(p, little);
    }
    tags.set(tag, values);
  }
  return { tags, little };
}

/**
 * Reads and checks what the decoder needs from IFD0.
 *
 * @throws {ImageDecodeError} `TRUNCATED`, `CORRUPT` or `UNSUPPORTED_FORMAT`
 */
export function readTiffInfo(bytes: Uint8Array): TiffInfo {
  const { tags, little } = readIfd(bytes);
  const one = (tag: number, fallback?: number): number => {
    const value = tags.get(tag)?.[0] ?? fallback;
    if (value === undefined) throw corrupt(`required tag ${tag} is missing`);
    return value;
  };
  const width = one(256);
  const height = one(257);
  if (width === 0 || height === 0) throw corrupt(`impossible size ${width}x${height}`);
  const bits = tags.get(258) ?? [1];
  const samplesPerPixel = one(277, 1);
  const tileWidth = tags.get(322)?.[0];
  const tileHeight = tags.get(323)?.[0];
  const tile = tileWidth && tileHeight ? { width: tileWidth, height: tileHeight } : undefined;
  return {
    width,
    height,
    bitsPerSample: bits[0],
    samplesPerPixel,
    photometric: one(262),
    compression: one(259, 1),
    predictor: one(317, 1),
    orientation: one(274, 1),
    tile,
    rowsPerStrip: Math.min(one(278, height), height),
    offsets: tags.get(tile ? 324 : 273) ?? [],
    byteCounts: tags.get(tile ? 325 : 279) ?? [],
    colorMap: tags.get(320),
    little,
    ...checkLayout(tags, bits, samplesPerPixel),
  };
}

/** Refuses layouts this decoder does not handle, naming them. */
function checkLayout(tags: Map<number, number[]>, bits: number[], spp: number): object {
  const compression = tags.get(259)?.[0] ?? 1;
  const photometric = tags.get(262)?.[0];
  if (!COMPRESSIONS[compression]) throw unsupported(`compression ${compression}`);
  if ((tags.get(284)?.[0] ?? 1) !== 1) throw unsupported("planar (separate) sample layout");
  if (!bits.every((b) => b === bits[0]) || (bits[0] !== 8 && bits[0] !== 16)) {
    throw unsupported(`${bits.join(",")} bits per sample (8 or 16 are supported)`);
  }
  if (photometric === 3 ? spp !== 1 || bits[0] !== 8 : !(photometric! <= 2)) {
    throw unsupported(`photometric interpretation ${photometric} with ${spp} samples`);
  }
  if (photometric! <= 1 ? spp > 2 : photometric === 2 && (spp < 3 || spp > 4)) {
    throw unsupported(`${spp} samples per pixel for photometric ${photometric}`);
  }
  const predictor = tags.get(317)?.[0] ?? 1;
  if (predictor !== 1 && (predictor !== 2 || bits[0] !== 8)) {
    throw unsupported(`predictor ${predictor} with ${bits[0]}-bit samples`);
  }
  if ((tags.get(266)?.[0] ?? 1) !== 1) throw unsupported("fill order 2");
  return {};
}

/** How the image is cut into chunks: strips (one per band) or tiles (`across` per band). */
interface Layout {
  across: number;
  down: number;
  /** Width and height of one chunk in pixels. */
  chunkWidth: number;
  chunkHeight: number;
  /** Bytes per pixel in the file. */
  pixelBytes: number;
}

function layoutOf(info: TiffInfo): Layout {
  const pixelBytes = info.samplesPerPixel * (info.bitsPerSample >> 3);
  if (info.tile) {
    const { width, height } = info.tile;
    return {
      across: Math.ceil(info.width / width),
      down: Math.ceil(info.height / height),
      chunkWidth: width,
      chunkHeight: height,
      pixelBytes,
    };
  }
  return {
    across: 1,
    down: Math.ceil(info.height / info.rowsPerStrip),
    chunkWidth: info.width,
    chunkHeight: info.rowsPerStrip,
    pixelBytes,
  };
}

/** Refuses a file whose chunks are missing or too small to hold what the header claims. */
function checkCarried(bytes: Uint8Array, info: TiffInfo, layout: Layout): void {
  const count = layout.across * layout.down;
  if (info.offsets.length < count) {
    throw new ImageDecodeError(
      "TRUNCATED",
      `truncated TIFF: ${info.offsets.length} of the ${count} strips or tiles are listed`,
    );
  }
  let available = 0;
  for (let k = 0; k < count; k++) {
    const left = Math.max(0, bytes.length - info.offsets[k]);
    available += Math.min(left, info.byteCounts[k] ?? left);
  }
  const needed = info.width * info.height * layout.pixelBytes;
  if (available * MAX_RATIO[info.compression] < needed) {
    throw new ImageDecodeError(
      "TRUNCATED",
      `truncated TIFF: ${info.width}x${info.height} needs ${needed} bytes of pixels; ` +
        `${available} bytes of ${COMPRESSIONS[info.compression]} data cannot hold them`,
    );
  }
}

/** Decodes strip or tile `k` into exactly `expected` bytes. */
async function decodeChunk(
  bytes: Uint8Array,
  info: TiffInfo,
  k: number,
  expected: number,
): Promise<Uint8Array> {
  const offset = info.offsets[k];
  const input = bytes.subarray(
    Math.min(offset, bytes.length),
    Math.min(offset + (info.byteCounts[k] ?? bytes.length), bytes.length),
  );
  let out: Uint8Array;
  let written: number;
  try {
    if (info.compression === 1) {
      out = input.slice(0, expected);
      written = out.length;
    } else {
      out = new Uint8Array(expected);
      written = info.compression === 5
        ? lzwDecode(input, out)
        : info.compression === 32773
        ? packBitsDecode(input, out)
        : await inflateInto(input, out);
    }
  } catch (error) {
    throw new ImageDecodeError("CORRUPT", `corrupt TIFF: chunk ${k}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (written < expected) {
    throw new ImageDecodeError(
      "TRUNCATED",
      `truncated TIFF: strip or tile ${k} holds ${written} of its ${expected} bytes`,
    );
  }
  return out;
}

/** Undoes horizontal differencing (8-bit samples) on rows of `rowBytes`, in place. */
function undoPredictor(data: Uint8Array, rowBytes: number, spp: number): void {
  for (let row = 0; row + rowBytes <= data.length; row += rowBytes) {
    for (let i = row + spp; i < row + rowBytes; i++) data[i] = (data[i] + data[i - spp]) & 255;
  }
}

/** Decodes band `b` (one strip, or one row of tiles): its rows at full width. */
async function decodeBand(
  bytes: Uint8Array,
  info: TiffInfo,
  layout: Layout,
  b: number,
): Promise<{ data: Uint8Array; rows: number }> {
  const rows = Math.min(layout.chunkHeight, info.height - b * layout.chunkHeight);
  const chunkRow = layout.chunkWidth * layout.pixelBytes;
  const predict = (data: Uint8Array) => {
    if (info.predictor === 2) undoPredictor(data, chunkRow, info.samplesPerPixel);
  };
  if (!info.tile) {
    const data = await decodeChunk(bytes, info, b, rows * chunkRow);
    predict(data);
    return { data, rows };
  }
  const rowBytes = info.width * layout.pixelBytes;
  const band = new Uint8Array(rows * rowBytes);
  for (let t = 0; t < layout.across; t++) {
    const tile = await decodeChunk(
      bytes,
      info,
      b * layout.across + t,
      layout.chunkHeight * chunkRow,
    );
    predict(tile);
    const x = t * chunkRow;
    const count = Math.min(chunkRow, rowBytes - x);
    for (let y = 0; y < rows; y++) {
      band.set(tile.subarray(y * chunkRow, y * chunkRow + count), y * rowBytes + x);
    }
  }
  return { data: band, rows };
}

/** Output channels: gray (alpha dropped), RGB, RGBA; a palette gives RGB. */
function outputChannels(info: TiffInfo): 1 | 3 | 4 {
  if (info.photometric <= 1) return 1;
  return info.photometric === 3 || info.samplesPerPixel === 3 ? 3 : 4;
}

/** Converts one file row (`width` pixels) into 8-bit output pixels. */
function rowConverter(info: TiffInfo, channels: 1 | 3 | 4) {
  const { width, samplesPerPixel: spp, photometric, colorMap } = info;
  const wide = info.bitsPerSample === 16;
  const hi = wide && info.little ? 1 : 0; // where the high byte of a 16-bit sample is
  const sample = (row: Uint8Array, i: number) => wide ? row[2 * i + hi] : row[i];
  if (photometric === 3 && (!colorMap || colorMap.length < 768)) {
    throw corrupt("palette image without a 256-entry colour map");
  }
  return (row: Uint8Array, out: Uint8Array): void => {
    for (let x = 0, o = 0; x < width; x++) {
      const s = x * spp;
      if (photometric === 3) {
        const v = row[s];
        out[o++] = colorMap![v] >> 8;
        out[o++] = colorMap![256 + v] >> 8;
        out[o++] = colorMap![512 + v] >> 8;
      } else if (channels === 1) {
        out[o++] = photometric === 0 ? 255 - sample(row, s) : sample(row, s);
      } else {
        for (let c = 0; c < channels; c++) out[o++] = sample(row, s + c);
      }
    }
  };
}

/**
 * Decodes the first image of a TIFF into 8-bit pixels (gray, RGB or RGBA), reduced by the
 * largest integer factor that keeps the sides at least `minWidth x minHeight`.
 *
 * @returns the pixels and the orientation tag (1 when absent)
 * @throws {ImageDecodeError} `TOO_LARGE` (over `maxPixels`, from the IFD), `TRUNCATED` (strips
 * or tiles missing, cut off, or too small for the claimed size), `CORRUPT`,
 * `UNSUPPORTED_FORMAT` (layouts this decoder does not handle, named in the message)
 */
export async function decodeTiff(
  bytes: Uint8Array,
  options: DecodeTiffOptions,
): Promise<{ pixels: Pixels; orientation: number }> {
  const info = readTiffInfo(bytes);
  checkBudget("TIFF", info.width, info.height, options.maxPixels);
  const layout = layoutOf(info);
  checkCarried(bytes, info, layout);
  const channels = outputChannels(info);
  const convert = rowConverter(info, channels);
  const factor = reductionFactor(info.width, info.height, options.minWidth, options.minHeight);
  const reducer = new RowReducer(info.width, info.height, channels, factor);
  const line = new Uint8Array(info.width * channels);
  const rowBytes = info.width * layout.pixelBytes;
  for (let b = 0; b < layout.down; b++) {
    const { data, rows } = await decodeBand(bytes, info, layout, b);
    const stride = info.tile ? rowBytes : layout.chunkWidth * layout.pixelBytes;
    for (let y = 0; y < rows; y++) {
      convert(data.subarray(y * stride, y * stride + rowBytes), line);
      reducer.push(line);
    }
  }
  return { pixels: reducer.output, orientation: info.orientation };
}
