/**
 * A PNG writer for tests and benches: every colour type and bit depth, palettes with tRNS,
 * Adam7 interlacing and all five row filters (cycled row by row, so the decoder's unfiltering is
 * exercised), plus a raw chunk writer for hostile files.
 *
 * @module
 */
import { deflateSync } from "node:zlib";
import { pngChunk, pngFile } from "../_png.ts";

export { pngChunk, pngFile };

/** An IHDR payload. */
export function ihdr(
  width: number,
  height: number,
  bitDepth: number,
  colorType: number,
  interlace = 0,
): Uint8Array {
  const out = new Uint8Array(13);
  const view = new DataView(out.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  out.set([bitDepth, colorType, 0, 0, interlace], 8);
  return out;
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Options of {@linkcode encodePngSamples}. */
export interface PngOptions {
  colorType: 0 | 2 | 3 | 4 | 6;
  bitDepth: 1 | 2 | 4 | 8 | 16;
  /** RGB triples for colour type 3. */
  palette?: Uint8Array;
  /** tRNS payload as stored. */
  trns?: Uint8Array;
  interlace?: boolean;
}

function packRow(samples: ArrayLike<number>, from: number, count: number, depth: number) {
  const out = new Uint8Array(Math.ceil((count * depth) / 8));
  for (let i = 0; i < count; i++) {
    const v = samples[from + i];
    if (depth === 16) {
      out[2 * i] = v >> 8;
      out[2 * i + 1] = v & 255;
    } else if (depth === 8) {
      out[i] = v;
    } else {
      const bit = i * depth;
      out[bit >> 3] |= v << (8 - depth - (bit & 7));
    }
  }
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Filters one packed row with `type`, given the previous packed row (or zeros). */
function filterRow(row: Uint8Array, prev: Uint8Array, type: number, bpp: number): Uint8Array {
  const out = new Uint8Array(row.length + 1);
  out[0] = type;
  for (let i = 0; i < row.length; i++) {
    const a = i >= bpp ? row[i - bpp] : 0;
    const b = prev[i] ?? 0;
    const c = i >= bpp ? prev[i - bpp] ?? 0 : 0;
    const predicted = [0, a, b, (a + b) >> 1, paeth(a, b, c)][type];
    out[i + 1] = (row[i] - predicted) & 255;
  }
  return out;
}

/** Packs and filters the rows of one (sub)image; returns the filtered bytes. */
function imageRows(
  get: (x: number, y: number, s: number) => number,
  width: number,
  height: number,
  channels: number,
  depth: number,
): Uint8Array[] {
  const bpp = Math.max(1, (channels * depth) >> 3);
  const rows: Uint8Array[] = [];
  let prev = new Uint8Array(0);
  const line = new Array<number>(width * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let s = 0; s < channels; s++) line[x * channels + s] = get(x, y, s);
    }
    const packed = packRow(line, 0, width * channels, depth);
    rows.push(filterRow(packed, prev, y % 5, bpp));
    prev = packed;
  }
  return rows;
}

const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [
  0,
  1,
  1,
  2,
]];

/**
 * Encodes samples (`width * height * channels` values in the bit depth's range; palette indices
 * for colour type 3) as a PNG.
 */
export function encodePngSamples(
  samples: ArrayLike<number>,
  width: number,
  height: number,
  options: PngOptions,
): Uint8Array {
  const channels = CHANNELS[options.colorType];
  const get = (x: number, y: number, s: number) => samples[(y * width + x) * channels + s];
  let rows: Uint8Array[] = [];
  if (!options.interlace) {
    rows = imageRows(get, width, height, channels, options.bitDepth);
  } else {
    for (const [x0, y0, dx, dy] of ADAM7) {
      const w = Math.ceil((width - x0) / dx);
      const h = Math.ceil((height - y0) / dy);
      if (w <= 0 || h <= 0) continue;
      const sub = (x: number, y: number, s: number) => get(x0 + x * dx, y0 + y * dy, s);
      rows.push(...imageRows(sub, w, h, channels, options.bitDepth));
    }
  }
  const raw = new Uint8Array(rows.reduce((n, r) => n + r.length, 0));
  let at = 0;
  for (const r of rows) {
    raw.set(r, at);
    at += r.length;
  }
  const chunks = [
    pngChunk(
      "IHDR",
      ihdr(width, height, options.bitDepth, options.colorType, +!!options.interlace),
    ),
  ];
  if (options.palette) chunks.push(pngChunk("PLTE", options.palette));
  if (options.trns) chunks.push(pngChunk("tRNS", options.trns));
  chunks.push(pngChunk("IDAT", new Uint8Array(deflateSync(raw))));
  chunks.push(pngChunk("IEND", new Uint8Array(0)));
  return pngFile(chunks);
}

/** Encodes 8-bit RGB/RGBA/gray pixels as a PNG (colour type from `channels`). */
export function encodePngPixels(
  data: Uint8Array,
  width: number,
  height: number,
  channels: 1 | 3 | 4,
): Uint8Array {
  const colorType = channels === 1 ? 0 : channels === 3 ? 2 : 6;
  return encodePngSamples(data, width, height, { colorType, bitDepth: 8 });
}
