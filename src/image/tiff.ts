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
import { copyBytes } from "../_util.ts";
import { checkBudget, WorkMeter } from "./budget.ts";
import { checkSize, type Pixels } from "./pixels.ts";
import { reductionFactor, RowReducer, rowsWork } from "./rows.ts";
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
/**
 * Fixed work per strip or tile, by compression, in pixel-equivalents (see `decodeWork`): a
 * `DecompressionStream` costs 10-20 us to set up and tear down; the others 1-2 us. So at most
 * 32768 deflate chunks, or 262144 others, fit the default work budget.
 */
const CHUNK_WORK: Record<number, number> = { 1: 512, 5: 512, 8: 4096, 32946: 4096, 32773: 512 };
/** The tags the decoder reads; every other IFD entry is skipped without reading its values. */
const TAGS = new Set([
  ...[256, 257, 258, 259, 262, 266, 273, 274, 277, 278, 279, 284], // size, samples, strips
  ...[317, 320, 322, 323, 324, 325], // predictor, colour map, tiles
]);

const corrupt = (message: string) => new ImageDecodeError("CORRUPT", `corrupt TIFF: ${message}`);
const unsupported = (message: string) =>
  new ImageDecodeError("UNSUPPORTED_FORMAT", `unsupported TIFF: ${message}`);

/** Where one IFD entry's values are (BYTE, SHORT or LONG), checked to lie inside the file. */
interface Field {
  size: number;
  count: number;
  at: number;
}

/**
 * The IFD of the first image: the entries of the tags the decoder uses, whose values are read
 * on demand and only as many as the decoder needs (an entry may claim the whole file).
 */
class Ifd {
  readonly little: boolean;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #fields: Map<number, Field>;

  constructor(bytes: Uint8Array, view: DataView, little: boolean, fields: Map<number, Field>) {
    this.#bytes = bytes;
    this.#view = view;
    this.little = little;
    this.#fields = fields;
  }

  /** How many values `tag` has (0 when absent). */
  count(tag: number): number {
    return this.#fields.get(tag)?.count ?? 0;
  }

  /** The first value of `tag`, or `fallback` when it has none. */
  first(tag: number, fallback?: number): number | undefined {
    const field = this.#fields.get(tag);
    return field && field.count > 0 ? this.#value(field, 0) : fallback;
  }

  /** The first `n` values of `tag` (fewer when it has fewer). */
  values(tag: number, n: number): Uint32Array {
    const field = this.#fields.get(tag);
    const out = new Uint32Array(Math.min(n, field?.count ?? 0));
    for (let i = 0; i < out.length; i++) out[i] = this.#value(field!, i);
    return out;
  }

  #value(field: Field, i: number): number {
    const p = field.at + i * field.size;
    return field.size === 1
      ? this.#bytes[p]
      : field.size === 2
      ? this.#view.getUint16(p, this.little)
      : this.#view.getUint32(p, this.little);
  }
}

/**
 * Reads the IFD of the first image: the position of each entry the decoder uses, checked to lie
 * inside the file. Nothing is allocated per entry, and no value is read yet.
 */
function readIfd(bytes: Uint8Array): Ifd {
  if (bytes.length < 8) throw new ImageDecodeError("TRUNCATED", "truncated TIFF: no header");
  const little = bytes[0] === 0x49;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(2, little) === 43) throw unsupported("BigTIFF");
  const ifd = view.getUint32(4, little);
  if (ifd < 8 || ifd + 2 > bytes.length) {
    throw new ImageDecodeError("TRUNCATED", `truncated TIFF: the IFD at ${ifd} is past the end`);
  }
  const count = view.getUint16(ifd, little); // at most 65535 entries of 12 bytes
  if (ifd + 2 + count * 12 > bytes.length) {
    throw new ImageDecodeError("TRUNCATED", "truncated TIFF: the IFD runs past the end");
  }
  const fields = new Map<number, Field>();
  for (let k = 0; k < count; k++) {
    const e = ifd + 2 + 12 * k;
    const tag = view.getUint16(e, little);
    const size = TYPE_SIZE[view.getUint16(e + 2, little)];
    if (!TAGS.has(tag) || size === undefined) continue; // rationals, ASCII, ...: nothing we need
    const n = view.getUint32(e + 4, little);
    const at = n * size <= 4 ? e + 8 : view.getUint32(e + 8, little);
    if (at + n * size > bytes.length) {
      throw new ImageDecodeError("TRUNCATED", `truncated TIFF: tag ${tag} points past the end`);
    }
    fields.set(tag, { size, count: n, at });
  }
  return new Ifd(bytes, view, little, fields);
}

/**
 * Reads and checks what the decoder needs from IFD0.
 *
 * @throws {ImageDecodeError} `TRUNCATED`, `CORRUPT` or `UNSUPPORTED_FORMAT`
 */
export function readTiffInfo(bytes: Uint8Array): TiffInfo {
  return tiffInfo(readIfd(bytes));
}

function tiffInfo(ifd: Ifd): TiffInfo {
  const one = (tag: number, fallback?: number): number => {
    const value = ifd.first(tag, fallback);
    if (value === undefined) throw corrupt(`required tag ${tag} is missing`);
    return value;
  };
  const width = one(256);
  const height = one(257);
  if (width === 0 || height === 0) throw corrupt(`impossible size ${width}x${height}`);
  const samplesPerPixel = one(277, 1);
  const bits = checkLayout(ifd, samplesPerPixel);
  const tileWidth = ifd.first(322);
  const tileHeight = ifd.first(323);
  const tile = tileWidth && tileHeight ? { width: tileWidth, height: tileHeight } : undefined;
  return {
    width,
    height,
    bitsPerSample: bits,
    samplesPerPixel,
    photometric: one(262),
    compression: one(259, 1),
    predictor: one(317, 1),
    orientation: one(274, 1),
    tile,
    // 0 is not a row count: libtiff ignores it, which makes the image one strip.
    rowsPerStrip: Math.min(one(278, height) || height, height),
    little: ifd.little,
  };
}

/**
 * Refuses layouts this decoder does not handle, naming them, and sample counts no file can have
 * (0 samples make every row 0 bytes long).
 *
 * @returns the bits per sample
 */
function checkLayout(ifd: Ifd, spp: number): number {
  const compression = ifd.first(259, 1)!;
  const photometric = ifd.first(262);
  if (spp === 0) throw corrupt("0 samples per pixel");
  const counted = ifd.count(258);
  if (counted !== 0 && counted !== 1 && counted !== spp) {
    throw corrupt(`${counted} bits-per-sample values for ${spp} samples per pixel`);
  }
  const bits = counted === 0 ? [1] : [...ifd.values(258, counted)];
  if (!COMPRESSIONS[compression]) throw unsupported(`compression ${compression}`);
  if (ifd.first(284, 1) !== 1) throw unsupported("planar (separate) sample layout");
  if (!bits.every((b) => b === bits[0]) || (bits[0] !== 8 && bits[0] !== 16)) {
    throw unsupported(`${bits.join(",")} bits per sample (8 or 16 are supported)`);
  }
  if (photometric === 3 ? spp !== 1 || bits[0] !== 8 : !(photometric! <= 2)) {
    throw unsupported(`photometric interpretation ${photometric} with ${spp} samples`);
  }
  if (photometric! <= 1 ? spp > 2 : photometric === 2 && (spp < 3 || spp > 4)) {
    throw unsupported(`${spp} samples per pixel for photometric ${photometric}`);
  }
  const predictor = ifd.first(317, 1)!;
  if (predictor !== 1 && (predictor !== 2 || bits[0] !== 8)) {
    throw unsupported(`predictor ${predictor} with ${bits[0]}-bit samples`);
  }
  if (ifd.first(266, 1) !== 1) throw unsupported("fill order 2");
  return bits[0];
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

/** The offsets and byte counts of the strips or tiles, as many as the layout has. */
interface ChunkTable {
  offsets: Uint32Array;
  /** Fewer than the offsets when the file lists fewer: such a chunk runs to the end of the file. */
  byteCounts: Uint32Array;
}

/**
 * Reads the chunk table, only as many entries as the layout has (the tags may claim many more).
 *
 * @throws {ImageDecodeError} `TRUNCATED` when fewer chunks are listed
 */
function readChunkTable(ifd: Ifd, info: TiffInfo, layout: Layout): ChunkTable {
  const count = layout.across * layout.down;
  const listed = ifd.count(info.tile ? 324 : 273);
  if (listed < count) {
    throw new ImageDecodeError(
      "TRUNCATED",
      `truncated TIFF: ${listed} of the ${count} strips or tiles are listed`,
    );
  }
  return {
    offsets: ifd.values(info.tile ? 324 : 273, count),
    byteCounts: ifd.values(info.tile ? 325 : 279, count),
  };
}

/**
 * Decoding work in pixel-equivalents (see `WORK_PER_PIXEL_BUDGET` in `budget.ts`), from the
 * header: each strip or tile costs a fixed amount for its compression, plus its decoded bytes
 * (and a tile its rows, copied into a band); then every row and pixel of the image is converted
 * and reduced.
 */
function decodeWork(info: TiffInfo, layout: Layout): number {
  const chunks = layout.across * layout.down;
  const chunkBytes = layout.chunkWidth * layout.chunkHeight * layout.pixelBytes;
  // Tiles are copied into a band row by row before the image's rows are taken.
  const rows = (info.tile ? chunks * layout.chunkHeight : 0) + info.height;
  return chunks * CHUNK_WORK[info.compression] +
    rowsWork(chunks * chunkBytes, rows, info.width * info.height);
}

/** Refuses a file whose chunks are too small to hold what the header claims. */
function checkCarried(bytes: Uint8Array, info: TiffInfo, layout: Layout, table: ChunkTable): void {
  let available = 0;
  for (let k = 0; k < table.offsets.length; k++) {
    const left = Math.max(0, bytes.length - table.offsets[k]);
    available += Math.min(left, table.byteCounts[k] ?? left);
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

/** What the chunk decoders read: the file, its fields, how it is cut and where the chunks are. */
interface Source {
  bytes: Uint8Array;
  info: TiffInfo;
  layout: Layout;
  table: ChunkTable;
  /** The work budget, charged with what the inflater produces beyond a chunk's bytes. */
  meter: WorkMeter;
}

/** Decodes strip or tile `k` into exactly `expected` bytes. */
async function decodeChunk(source: Source, k: number, expected: number): Promise<Uint8Array> {
  const { bytes, info, table } = source;
  const offset = table.offsets[k];
  const input = bytes.subarray(
    Math.min(offset, bytes.length),
    Math.min(offset + (table.byteCounts[k] ?? bytes.length), bytes.length),
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
        : await inflateInto(input, out, source.meter);
    }
  } catch (error) {
    if (error instanceof ImageDecodeError) throw error;
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

/**
 * Undoes horizontal differencing (8-bit samples) on rows of `rowBytes`, in place.
 *
 * @throws {ImageDecodeError} `CORRUPT` for an empty row or pixel (the header checks refuse those
 * first; this loop must never step by 0)
 */
function undoPredictor(data: Uint8Array, rowBytes: number, spp: number): void {
  if (!(rowBytes >= 1 && spp >= 1)) throw corrupt(`rows of ${rowBytes} bytes, ${spp} samples`);
  for (let row = 0; row + rowBytes <= data.length; row += rowBytes) {
    for (let i = row + spp; i < row + rowBytes; i++) data[i] = (data[i] + data[i - spp]) & 255;
  }
}

/** Decodes band `b` (one strip, or one row of tiles): its rows at full width. */
async function decodeBand(
  source: Source,
  b: number,
): Promise<{ data: Uint8Array; rows: number }> {
  const { info, layout } = source;
  const rows = Math.min(layout.chunkHeight, info.height - b * layout.chunkHeight);
  const chunkRow = layout.chunkWidth * layout.pixelBytes;
  const predict = (data: Uint8Array) => {
    if (info.predictor === 2) undoPredictor(data, chunkRow, info.samplesPerPixel);
  };
  if (!info.tile) {
    const data = await decodeChunk(source, b, rows * chunkRow);
    predict(data);
    return { data, rows };
  }
  const rowBytes = info.width * layout.pixelBytes;
  const band = new Uint8Array(rows * rowBytes);
  for (let t = 0; t < layout.across; t++) {
    const tile = await decodeChunk(source, b * layout.across + t, layout.chunkHeight * chunkRow);
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

/** Converts the file row at `at` in `data` (`width` pixels) into 8-bit output pixels. */
type RowConverter = (data: Uint8Array, at: number, out: Uint8Array) => void;

function rowConverter(info: TiffInfo, ifd: Ifd, channels: 1 | 3 | 4): RowConverter {
  const { width, samplesPerPixel: spp, photometric } = info;
  const wide = info.bitsPerSample === 16;
  const hi = wide && info.little ? 1 : 0; // where the high byte of a 16-bit sample is
  const sample = (row: Uint8Array, i: number) => wide ? row[2 * i + hi] : row[i];
  if (photometric === 3 && ifd.count(320) < 768) {
    throw corrupt("palette image without a 256-entry colour map");
  }
  const colorMap = photometric === 3 ? ifd.values(320, 768) : undefined;
  if (!wide && spp === channels && photometric !== 0 && photometric !== 3) {
    return (data, at, out) => copyBytes(data, at, out, 0, width * spp); // as stored
  }
  return (data, at, out) => {
    const row = data.subarray(at);
    for (let x = 0, o = 0; x < width; x++) {
      const s = x * spp;
      if (colorMap) {
        const v = row[s];
        out[o++] = colorMap[v] >> 8;
        out[o++] = colorMap[256 + v] >> 8;
        out[o++] = colorMap[512 + v] >> 8;
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
 * Before anything is decoded, the header must pass: the pixel budget for the image and for one
 * strip or tile, the minimum size, the work budget (strips or tiles, the bytes and rows they
 * hold), and the chunks must be listed and large enough for the pixels claimed.
 *
 * @returns the pixels and the orientation tag (1 when absent)
 * @throws {ImageDecodeError} `TOO_LARGE` (the image or one strip or tile over `maxPixels`),
 * `TOO_SMALL` (a side under 2), `TOO_COMPLEX` (over the work budget), `TRUNCATED` (strips or
 * tiles missing, cut off, or too small for the claimed size), `CORRUPT`, `UNSUPPORTED_FORMAT`
 * (layouts this decoder does not handle, named in the message)
 */
export async function decodeTiff(
  bytes: Uint8Array,
  options: DecodeTiffOptions,
): Promise<{ pixels: Pixels; orientation: number }> {
  const ifd = readIfd(bytes);
  const info = tiffInfo(ifd);
  const { maxPixels } = options;
  checkBudget("TIFF", info.width, info.height, maxPixels);
  checkSize(info);
  const layout = layoutOf(info);
  const kind = info.tile ? "tile" : "strip";
  checkBudget("TIFF", layout.chunkWidth, layout.chunkHeight, maxPixels, kind);
  const count = layout.across * layout.down;
  const chunks = `${count} ${kind}s of ${layout.chunkWidth}x${layout.chunkHeight}`;
  const meter = new WorkMeter("TIFF", maxPixels, chunks, decodeWork(info, layout));
  const table = readChunkTable(ifd, info, layout);
  checkCarried(bytes, info, layout, table);
  const source = { bytes, info, layout, table, meter };
  const channels = outputChannels(info);
  const convert = rowConverter(info, ifd, channels);
  const factor = reductionFactor(info.width, info.height, options.minWidth, options.minHeight);
  const reducer = new RowReducer(info.width, info.height, channels, factor);
  const line = new Uint8Array(info.width * channels);
  const stride = info.width * layout.pixelBytes; // a band of tiles is as wide as the image
  for (let b = 0; b < layout.down; b++) {
    const { data, rows } = await decodeBand(source, b);
    for (let y = 0; y < rows; y++) {
      convert(data, y * stride, line);
      reducer.push(line);
    }
  }
  return { pixels: reducer.output, orientation: info.orientation };
}
