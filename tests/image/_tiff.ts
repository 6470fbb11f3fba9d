/**
 * A small TIFF writer for tests and benches: 8-bit gray, gray+alpha, RGB or RGBA, chunky,
 * uncompressed, LZW, deflate or PackBits, optional horizontal predictor, strips or tiles, either
 * byte order, and raw IFD overrides for hostile files.
 *
 * @module
 */
import { deflateSync } from "node:zlib";

/** A compression this writer can produce, by TIFF's code. */
export type TiffCompression = "none" | "lzw" | "deflate" | "packbits";

const COMPRESSION_CODE: Record<TiffCompression, number> = {
  none: 1,
  lzw: 5,
  deflate: 8,
  packbits: 32773,
};

/** Options of {@linkcode encodeTiff}. */
export interface TiffOptions {
  compression?: TiffCompression;
  /** Rows per strip (default: the whole image in one strip). */
  rowsPerStrip?: number;
  /** Tile size (a multiple of 16): tiles instead of strips. */
  tile?: number;
  /** Horizontal differencing (predictor 2). */
  predictor?: boolean;
  bigEndian?: boolean;
  /** The Orientation tag (274). */
  orientation?: number;
  /** Tag values to set or replace (tag -> LONG values), applied last. */
  override?: Record<number, number[]>;
}

/** TIFF-flavour LZW (MSB first, early change), as libtiff writes it. */
export function lzwEncode(data: Uint8Array): Uint8Array {
  const out: number[] = [];
  let acc = 0;
  let nacc = 0;
  let width = 9;
  const emit = (code: number) => {
    acc = (acc << width) | code;
    nacc += width;
    while (nacc >= 8) {
      out.push((acc >>> (nacc - 8)) & 255);
      nacc -= 8;
    }
    acc &= (1 << nacc) - 1;
  };
  let table = new Map<string, number>();
  let next = 258;
  emit(256);
  let current = -1; // code of the current string
  let key = "";
  for (const byte of data) {
    if (current < 0) {
      current = byte;
      key = String.fromCharCode(byte);
      continue;
    }
    const longer = key + String.fromCharCode(byte);
    const found = table.get(longer);
    if (found !== undefined) {
      current = found;
      key = longer;
      continue;
    }
    emit(current);
    table.set(longer, next++);
    if (next > (1 << width) - 1 && width < 12) width++;
    if (next >= 4093) {
      emit(256);
      table = new Map();
      next = 258;
      width = 9;
    }
    current = byte;
    key = String.fromCharCode(byte);
  }
  if (current >= 0) emit(current);
  emit(257);
  if (nacc > 0) out.push((acc << (8 - nacc)) & 255);
  return new Uint8Array(out);
}

/** PackBits: literal runs and repeats of up to 128 bytes. */
export function packBits(data: Uint8Array): Uint8Array {
  const out: number[] = [];
  let i = 0;
  while (i < data.length) {
    let run = 1;
    while (i + run < data.length && run < 128 && data[i + run] === data[i]) run++;
    if (run >= 2) {
      out.push(257 - run, data[i]);
      i += run;
      continue;
    }
    let literal = 1;
    while (
      i + literal < data.length && literal < 128 &&
      data[i + literal] !== data[i + literal + 1]
    ) literal++;
    out.push(literal - 1, ...data.subarray(i, i + literal));
    i += literal;
  }
  return new Uint8Array(out);
}

function compress(chunk: Uint8Array, compression: TiffCompression): Uint8Array {
  if (compression === "lzw") return lzwEncode(chunk);
  if (compression === "deflate") return new Uint8Array(deflateSync(chunk));
  if (compression === "packbits") return packBits(chunk);
  return chunk;
}

/** Horizontal differencing of 8-bit chunky rows, in place. */
function differentiate(chunk: Uint8Array, rowBytes: number, spp: number): void {
  for (let row = 0; row < chunk.length; row += rowBytes) {
    for (let i = rowBytes - 1; i >= spp; i--) {
      chunk[row + i] = (chunk[row + i] - chunk[row + i - spp]) & 255;
    }
  }
}

/** Splits the pixels into strips or tiles (tiles padded with zeros at the edges). */
function chunks(
  data: Uint8Array,
  width: number,
  height: number,
  spp: number,
  options: TiffOptions,
): { parts: Uint8Array[]; rowBytes: number } {
  if (!options.tile) {
    const rows = options.rowsPerStrip ?? height;
    const parts = [];
    for (let y = 0; y < height; y += rows) {
      parts.push(data.slice(y * width * spp, Math.min(height, y + rows) * width * spp));
    }
    return { parts, rowBytes: width * spp };
  }
  const t = options.tile;
  const parts = [];
  for (let ty = 0; ty < height; ty += t) {
    for (let tx = 0; tx < width; tx += t) {
      const tile = new Uint8Array(t * t * spp);
      for (let y = 0; y < t && ty + y < height; y++) {
        const from = ((ty + y) * width + tx) * spp;
        const count = Math.min(t, width - tx) * spp;
        tile.set(data.subarray(from, from + count), y * t * spp);
      }
      parts.push(tile);
    }
  }
  return { parts, rowBytes: t * spp };
}

/**
 * Encodes 8-bit chunky pixels (`channels` 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA) as a TIFF.
 */
export function encodeTiff(
  data: Uint8Array,
  width: number,
  height: number,
  channels: 1 | 2 | 3 | 4,
  options: TiffOptions = {},
): Uint8Array {
  const compression = options.compression ?? "none";
  const { parts, rowBytes } = chunks(data, width, height, channels, options);
  const encoded = parts.map((part) => {
    if (options.predictor) differentiate(part, rowBytes, channels);
    return compress(part, compression);
  });
  const tags = new Map<number, number[]>([
    [256, [width]],
    [257, [height]],
    [258, new Array(channels).fill(8)],
    [259, [COMPRESSION_CODE[compression]]],
    [262, [channels >= 3 ? 2 : 1]],
    [277, [channels]],
    [284, [1]],
  ]);
  if (channels === 2 || channels === 4) tags.set(338, [2]); // unassociated alpha
  if (options.predictor) tags.set(317, [2]);
  if (options.orientation) tags.set(274, [options.orientation]);
  if (options.tile) {
    tags.set(322, [options.tile]);
    tags.set(323, [options.tile]);
  } else {
    tags.set(278, [options.rowsPerStrip ?? height]);
  }
  const offsetsTag = options.tile ? 324 : 273;
  const countsTag = options.tile ? 325 : 279;
  tags.set(countsTag, encoded.map((e) => e.length));
  tags.set(offsetsTag, []); // filled in by writeTiff
  return writeTiff(encoded, tags, offsetsTag, options);
}

/** Lays out header, chunk data and one IFD of LONG values; fills in the chunk offsets. */
function writeTiff(
  encoded: Uint8Array[],
  tags: Map<number, number[]>,
  offsetsTag: number,
  options: TiffOptions,
): Uint8Array {
  const little = !options.bigEndian;
  let at = 8;
  const offsets = encoded.map((e) => {
    const start = at;
    at += e.length + (e.length & 1);
    return start;
  });
  tags.set(offsetsTag, offsets);
  for (const [tag, values] of Object.entries(options.override ?? {})) tags.set(+tag, values);
  const sorted = [...tags.entries()].sort((a, b) => a[0] - b[0]);
  const ifd = at;
  const extra = ifd + 2 + sorted.length * 12 + 4;
  const total = extra + sorted.reduce((n, [, v]) => n + (v.length > 1 ? v.length * 4 : 0), 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(little ? [0x49, 0x49, 42, 0] : [0x4d, 0x4d, 0, 42]);
  view.setUint32(4, ifd, little);
  encoded.forEach((e, i) => out.set(e, offsets[i]));
  view.setUint16(ifd, sorted.length, little);
  let more = extra;
  sorted.forEach(([tag, values], i) => {
    const e = ifd + 2 + i * 12;
    view.setUint16(e, tag, little);
    view.setUint16(e + 2, 4, little); // LONG
    view.setUint32(e + 4, values.length, little);
    if (values.length === 1) {
      view.setUint32(e + 8, values[0], little);
    } else {
      view.setUint32(e + 8, more, little);
      for (const v of values) {
        view.setUint32(more, v, little);
        more += 4;
      }
    }
  });
  return out;
}
