/**
 * A PNG decoder built for untrusted input. It reads IHDR first and checks the pixel budget
 * before allocating anything, refuses a file whose IDAT data is too small to hold the rows its
 * header claims (deflate cannot compress more than about 1032:1), and decodes row by row: the
 * zlib stream is inflated in small pieces, each row is unfiltered against the previous one,
 * converted to 8 bits and box-reduced into an image no smaller than the caller needs. Memory is
 * the reduced image plus two rows, whatever the size of the PNG. Adam7-interlaced PNGs are
 * decoded at full size (within the budget) and then reduced.
 *
 * Bit depths 1, 2, 4, 8, 16; gray, gray + alpha, RGB, RGBA, palette (with tRNS alpha).
 *
 * @module
 */
import { ImageDecodeError } from "../errors.ts";
import { copyBytes } from "../_util.ts";
import { checkBudget, checkWork } from "./budget.ts";
import { inflateParts } from "./inflate.ts";
import { checkSize, type Pixels } from "./pixels.ts";
import { reductionFactor, RowReducer, rowsWork } from "./rows.ts";
import { readExifOrientation } from "./exif.ts";

/** What IHDR says. */
export interface PngHeader {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Bits per sample: 1, 2, 4, 8 or 16. */
  bitDepth: number;
  /** 0 gray, 2 RGB, 3 palette, 4 gray + alpha, 6 RGBA. */
  colorType: number;
  /** Adam7 interlacing. */
  interlaced: boolean;
}

/** The chunks {@linkcode decodePng} needs. */
interface PngChunks {
  header: PngHeader;
  palette?: Uint8Array;
  trns?: Uint8Array;
  /** The IDAT data, walked again from the first IDAT chunk each time it is iterated. */
  idat: Iterable<Uint8Array>;
  idatBytes: number;
  /** Chunks after IHDR, up to IEND. */
  count: number;
  orientation: number;
}

/** Options of {@linkcode decodePng}. */
export interface DecodePngOptions {
  /** Reduce (box filter, integer factor) while keeping the width at least this. */
  minWidth?: number;
  /** Like `minWidth`, for the height. */
  minHeight?: number;
  /** The pixel budget for the full-size image. */
  maxPixels: number;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const SAMPLES: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const DEPTHS: Record<number, number[]> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};
/** Deflate's largest compression ratio: 258 bytes from 2 bits. */
const MAX_DEFLATE_RATIO = 1032;
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [
  0,
  1,
  1,
  2,
]] as const;

/** Work per chunk in pixel-equivalents (see `WORK_PER_PIXEL_BUDGET`): walking it, twice. */
const CHUNK_WORK = 16;

const corrupt = (message: string) => new ImageDecodeError("CORRUPT", `corrupt PNG: ${message}`);

function u32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

/**
 * Reads and checks a PNG's IHDR (the first chunk).
 *
 * @throws {ImageDecodeError} `TRUNCATED` when the file ends inside it, `CORRUPT` when it is
 * missing or invalid.
 */
export function readPngHeader(bytes: Uint8Array): PngHeader {
  if (bytes.length < 33) {
    throw new ImageDecodeError("TRUNCATED", `truncated PNG: ${bytes.length} bytes, no full IHDR`);
  }
  if (SIGNATURE.some((b, i) => bytes[i] !== b)) throw corrupt("bad signature");
  if (u32(bytes, 8) !== 13 || String.fromCharCode(...bytes.subarray(12, 16)) !== "IHDR") {
    throw corrupt("the first chunk is not a 13-byte IHDR");
  }
  const width = u32(bytes, 16);
  const height = u32(bytes, 20);
  const [bitDepth, colorType, compression, filter, interlace] = bytes.subarray(24, 29);
  if (width === 0 || height === 0 || width > 2 ** 31 || height > 2 ** 31) {
    throw corrupt(`impossible size ${width}x${height}`);
  }
  if (!DEPTHS[colorType]?.includes(bitDepth)) {
    throw corrupt(`bit depth ${bitDepth} with colour type ${colorType}`);
  }
  if (compression !== 0 || filter !== 0 || interlace > 1) {
    throw corrupt(`compression ${compression}, filter ${filter}, interlace ${interlace}`);
  }
  return { width, height, bitDepth, colorType, interlaced: interlace === 1 };
}

/** Chunk types, as the big-endian number of their four letters. */
const IDAT = 0x49444154, IEND = 0x49454e44, PLTE = 0x504c5445, TRNS = 0x74524e53;
const EXIF = 0x65584966;

/** The chunk at `at`: its type, its data (cut at the end of the file) and where the next starts. */
function chunkAt(bytes: Uint8Array, at: number) {
  const length = u32(bytes, at);
  const type = u32(bytes, at + 4);
  if (length > 2 ** 31) {
    throw corrupt(
      `chunk ${String.fromCharCode(...bytes.subarray(at + 4, at + 8))} of length ${length}`,
    );
  }
  const start = at + 8;
  return {
    type,
    length,
    start,
    end: Math.min(start + length, bytes.length),
    next: start + length + 4,
  };
}

/** Walks the chunks after IHDR up to IEND (or the end of the data). */
function readChunks(bytes: Uint8Array, header: PngHeader): PngChunks {
  let idatFrom = 0;
  const idat = { [Symbol.iterator]: () => idatParts(bytes, idatFrom) };
  const chunks: PngChunks = { header, idat, idatBytes: 0, count: 0, orientation: 1 };
  for (let at = 33; at + 8 <= bytes.length; chunks.count++) {
    const { type, length, start, end, next } = chunkAt(bytes, at);
    if (type === IEND) break;
    if (type === IDAT) {
      idatFrom ||= at;
      chunks.idatBytes += end - start; // a cut-off chunk keeps what it has
    } else if (type === PLTE) {
      if (length % 3 !== 0 || length > 768) throw corrupt(`PLTE of ${length} bytes`);
      chunks.palette = bytes.subarray(start, end);
    } else if (type === TRNS) {
      chunks.trns = bytes.subarray(start, end);
    } else if (type === EXIF) {
      chunks.orientation = readExifOrientation(bytes, start, end);
    }
    at = next;
  }
  return chunks;
}

/** The data of the IDAT chunks from `at` up to IEND, in order; empty ones are skipped. */
function* idatParts(bytes: Uint8Array, at: number): Generator<Uint8Array> {
  while (at > 0 && at + 8 <= bytes.length) {
    const { type, start, end, next } = chunkAt(bytes, at);
    if (type === IEND) return;
    if (type === IDAT && end > start) yield bytes.subarray(start, end);
    at = next;
  }
}

/** Bytes of one filtered row (without the filter-type byte) of `width` pixels. */
function rowBytes(header: PngHeader, width: number): number {
  return Math.ceil((width * SAMPLES[header.colorType] * header.bitDepth) / 8);
}

/** The sub-images (Adam7 passes, or the whole image) in the order their rows are stored. */
function passes(header: PngHeader): { x0: number; y0: number; dx: number; dy: number }[] {
  if (!header.interlaced) return [{ x0: 0, y0: 0, dx: 1, dy: 1 }];
  return ADAM7.map(([x0, y0, dx, dy]) => ({ x0, y0, dx, dy })).filter((p) =>
    p.x0 < header.width && p.y0 < header.height
  );
}

function passSize(header: PngHeader, p: { x0: number; y0: number; dx: number; dy: number }) {
  return {
    width: Math.ceil((header.width - p.x0) / p.dx),
    height: Math.ceil((header.height - p.y0) / p.dy),
  };
}

/** Total bytes of the inflated stream the header promises. */
function expectedBytes(header: PngHeader): number {
  let total = 0;
  for (const p of passes(header)) {
    const { width, height } = passSize(header, p);
    total += height * (1 + rowBytes(header, width));
  }
  return total;
}

/** Undoes a row's filter in place; `prev` is the unfiltered previous row (zeros for the first). */
function unfilter(type: number, cur: Uint8Array, prev: Uint8Array, bpp: number): void {
  const n = cur.length;
  if (type === 0) return;
  if (type === 1) {
    for (let i = bpp; i < n; i++) cur[i] = (cur[i] + cur[i - bpp]) & 255;
  } else if (type === 2) {
    for (let i = 0; i < n; i++) cur[i] = (cur[i] + prev[i]) & 255;
  } else if (type === 3) {
    for (let i = 0; i < bpp; i++) cur[i] = (cur[i] + (prev[i] >> 1)) & 255;
    for (let i = bpp; i < n; i++) cur[i] = (cur[i] + ((cur[i - bpp] + prev[i]) >> 1)) & 255;
  } else if (type === 4) {
    for (let i = 0; i < bpp; i++) cur[i] = (cur[i] + prev[i]) & 255;
    for (let i = bpp; i < n; i++) {
      const a = cur[i - bpp], b = prev[i], c = prev[i - bpp];
      const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
      cur[i] = (cur[i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 255;
    }
  } else {
    throw corrupt(`unknown row filter ${type}`);
  }
}

/** Output channels for a colour type: gray stays gray, alpha is kept. */
function outputChannels(chunks: PngChunks): 1 | 3 | 4 {
  const ct = chunks.header.colorType;
  if (ct === 0) return 1;
  if (ct === 2) return 3;
  if (ct === 3) return chunks.trns ? 4 : 3;
  return 4;
}

/** Palette (and tRNS) as a lookup table of `channels` bytes per index, 256 entries. */
function paletteTable(chunks: PngChunks, channels: number): Uint8Array {
  const { palette, trns } = chunks;
  if (!palette) throw corrupt("colour type 3 without a PLTE chunk");
  const table = new Uint8Array(256 * channels);
  for (let i = 0; i < 256; i++) {
    const p = i * 3 < palette.length ? i * 3 : -1;
    for (let c = 0; c < 3; c++) table[i * channels + c] = p < 0 ? 0 : palette[p + c];
    if (channels === 4) table[i * 4 + 3] = trns && i < trns.length ? trns[i] : 255;
  }
  return table;
}

/** Converts one unfiltered row of `width` pixels into 8-bit output pixels. */
type RowConverter = (raw: Uint8Array, width: number, out: Uint8Array) => void;

/** The converter for a header: bit depth to 8 bits, palette lookup, gray + alpha to RGBA. */
function rowConverter(chunks: PngChunks, channels: 1 | 3 | 4): RowConverter {
  const { bitDepth: depth, colorType: ct } = chunks.header;
  const spp = SAMPLES[ct];
  const table = ct === 3 ? paletteTable(chunks, channels) : undefined;
  const scale = ct === 3 ? 1 : 255 / ((1 << Math.min(depth, 8)) - 1);
  let scratch = new Uint8Array(0);
  return (raw, width, out) => {
    const count = width * spp;
    let samples = raw;
    if (depth === 16) {
      samples = out.length >= count ? out : new Uint8Array(count);
      for (let i = 0; i < count; i++) samples[i] = raw[2 * i];
    } else if (depth < 8) {
      if (scratch.length < count) scratch = new Uint8Array(count);
      samples = scratch;
      const mask = (1 << depth) - 1;
      for (let i = 0; i < count; i++) {
        const bit = i * depth;
        samples[i] = Math.round(((raw[bit >> 3] >> (8 - depth - (bit & 7))) & mask) * scale);
      }
    }
    if (table) {
      for (let x = 0; x < width; x++) {
        const t = samples[x] * channels;
        for (let c = 0; c < channels; c++) out[x * channels + c] = table[t + c];
      }
    } else if (ct === 4) {
      for (let x = width - 1; x >= 0; x--) { // backwards: `samples` may be `out`
        const g = samples[2 * x], a = samples[2 * x + 1];
        out[4 * x] = out[4 * x + 1] = out[4 * x + 2] = g;
        out[4 * x + 3] = a;
      }
    } else if (samples !== out) {
      copyBytes(samples, 0, out, 0, count);
    }
  };
}

/** A filtered row's buffer (the filter-type byte, then the row) and a view of the row alone. */
function rowBuffer(length: number): { raw: Uint8Array; row: Uint8Array } {
  const raw = new Uint8Array(length);
  return { raw, row: raw.subarray(1) };
}

/**
 * Feeds the inflated stream row by row: unfilters and converts each row and hands it to
 * `onRow(line, pass, y)`. Returns the number of rows completed.
 */
async function readRows(
  chunks: PngChunks,
  channels: 1 | 3 | 4,
  onRow: (line: Uint8Array, pass: number, y: number, width: number) => void,
): Promise<number> {
  const header = chunks.header;
  const convert = rowConverter(chunks, channels);
  const bpp = Math.max(1, (SAMPLES[header.colorType] * header.bitDepth) >> 3);
  const layout = passes(header).map((p) => passSize(header, p));
  const line = new Uint8Array(header.width * channels);
  let pass = 0, y = 0, done = 0;
  let cur = rowBuffer(1 + rowBytes(header, layout[0].width));
  let prev = rowBuffer(cur.raw.length);
  let fill = 0;
  for await (const chunk of inflateParts(chunks.idat)) {
    for (let at = 0; at < chunk.length && pass < layout.length;) {
      const take = Math.min(cur.raw.length - fill, chunk.length - at);
      copyBytes(chunk, at, cur.raw, fill, take);
      fill += take;
      at += take;
      if (fill < cur.raw.length) break;
      unfilter(cur.raw[0], cur.row, prev.row, bpp);
      convert(cur.row, layout[pass].width, line);
      onRow(line, pass, y, layout[pass].width);
      done++;
      const swap = cur;
      cur = prev;
      prev = swap;
      fill = 0;
      if (++y === layout[pass].height) {
        y = 0;
        if (++pass < layout.length) {
          cur = rowBuffer(1 + rowBytes(header, layout[pass].width));
          prev = rowBuffer(cur.raw.length);
        }
      }
    }
    if (pass === layout.length) break; // every row is in: ignore the rest
  }
  return done;
}

/**
 * Decodes a PNG into 8-bit pixels (gray, RGB or RGBA), reduced by the largest integer factor that
 * keeps the sides at least `minWidth x minHeight`, with bounded memory.
 *
 * @returns the pixels and the EXIF orientation of an eXIf chunk (1 when there is none)
 * @throws {ImageDecodeError} `TOO_LARGE` (over `maxPixels`, from IHDR), `TRUNCATED` (the data
 * ends before the last row, or is too small to hold the rows), `CORRUPT`
 */
export async function decodePng(
  bytes: Uint8Array,
  options: DecodePngOptions,
): Promise<{ pixels: Pixels; orientation: number }> {
  const header = readPngHeader(bytes);
  checkBudget("PNG", header.width, header.height, options.maxPixels);
  checkSize(header);
  const chunks = readChunks(bytes, header);
  const rows = passes(header).reduce((n, p) => n + passSize(header, p).height, 0);
  const needed = expectedBytes(header);
  const pixels = header.width * header.height * (header.interlaced ? 2 : 1); // Adam7: + a copy
  const work = chunks.count * CHUNK_WORK + rowsWork(needed, rows, pixels);
  checkWork("PNG", work, options.maxPixels, `${rows} rows in ${chunks.count} chunks`);
  if (chunks.idatBytes * MAX_DEFLATE_RATIO + 1024 < needed) {
    throw new ImageDecodeError(
      "TRUNCATED",
      `truncated PNG: ${header.width}x${header.height} needs ${needed} bytes of rows; ` +
        `${chunks.idatBytes} bytes of IDAT data cannot hold them`,
    );
  }
  const channels = outputChannels(chunks);
  const factor = reductionFactor(header.width, header.height, options.minWidth, options.minHeight);
  const reducer = new RowReducer(header.width, header.height, channels, factor);
  let done: number;
  try {
    if (!header.interlaced) {
      done = await readRows(chunks, channels, (line) => reducer.push(line));
    } else {
      done = await readInterlaced(chunks, channels, reducer);
    }
  } catch (error) {
    if (error instanceof ImageDecodeError) throw error;
    throw new ImageDecodeError("CORRUPT", `corrupt PNG: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (done < rows) {
    throw new ImageDecodeError(
      "TRUNCATED",
      `truncated PNG: the image data ends after ${done} of ${rows} rows`,
    );
  }
  return { pixels: reducer.output, orientation: chunks.orientation };
}

/** Decodes the seven Adam7 passes into a full-size image, then reduces it row by row. */
async function readInterlaced(
  chunks: PngChunks,
  channels: 1 | 3 | 4,
  reducer: RowReducer,
): Promise<number> {
  const { width, height } = chunks.header;
  const full = new Uint8Array(width * height * channels);
  const layout = passes(chunks.header);
  const rows = await readRows(chunks, channels, (line, pass, y, passWidth) => {
    const { x0, y0, dx, dy } = layout[pass];
    const rowStart = ((y0 + y * dy) * width + x0) * channels;
    for (let x = 0; x < passWidth; x++) {
      const o = rowStart + x * dx * channels;
      for (let c = 0; c < channels; c++) full[o + c] = line[x * channels + c];
    }
  });
  for (let y = 0; y < height; y++) {
    reducer.push(full.subarray(y * width * channels, (y + 1) * width * channels));
  }
  return rows;
}
