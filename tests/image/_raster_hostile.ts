/**
 * The hostile TIFF, PNG and GIF files of issue 17 (found by fuzzing), generated on the fly: a
 * raw TIFF writer with typed IFD entries (BYTE, SHORT, LONG; any count and offset, so an entry
 * can claim bytes it does not own), and one generator per finding. Used by
 * `tests/image/raster_findings_test.ts` and `bench/hostile_inputs.ts` (the sizes).
 *
 * @module
 */
import { deflateSync } from "node:zlib";
import { encodeGif } from "./_gif.ts";
import { deflatedZeros } from "./_hostile.ts";
import { ihdr, pngChunk, pngFile } from "./_png_encode.ts";

/** TIFF field types by name. */
export const BYTE = 1, SHORT = 3, LONG = 4;
const TYPE_SIZE: Record<number, number> = { [BYTE]: 1, [SHORT]: 2, [LONG]: 4 };

/**
 * One IFD entry: `[tag, type, values]`, the values written where TIFF puts them (inline up to 4
 * bytes, else after the IFD); or `[tag, type, {count, offset}]`, which claims `count` values at
 * `offset` without writing them.
 */
export type RawEntry = [
  tag: number,
  type: number,
  values: ArrayLike<number> | { count: number; offset: number },
];

/**
 * A little-endian TIFF: the header, `data` at offset 8 (so a strip can point at 8), the IFD
 * (entries sorted by tag), then the out-of-line values.
 */
export function rawTiff(entries: RawEntry[], data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const sorted = [...entries].sort((a, b) => a[0] - b[0]);
  const ifd = 8 + data.length + (data.length & 1);
  let extra = ifd + 2 + 12 * sorted.length + 4;
  let total = extra;
  for (const [, type, values] of sorted) {
    const bytes = "length" in values ? values.length * TYPE_SIZE[type] : 0;
    if (bytes > 4) total += bytes + (bytes & 1);
  }
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set([0x49, 0x49, 42, 0]);
  view.setUint32(4, ifd, true);
  out.set(data, 8);
  view.setUint16(ifd, sorted.length, true);
  sorted.forEach(([tag, type, values], i) => {
    const e = ifd + 2 + 12 * i;
    view.setUint16(e, tag, true);
    view.setUint16(e + 2, type, true);
    if (!("length" in values)) {
      view.setUint32(e + 4, values.count, true);
      view.setUint32(e + 8, values.offset, true);
      return;
    }
    const size = TYPE_SIZE[type];
    view.setUint32(e + 4, values.length, true);
    let at = e + 8;
    if (values.length * size > 4) {
      view.setUint32(e + 8, extra, true);
      at = extra;
      extra += values.length * size + ((values.length * size) & 1);
    }
    writeValues(view, at, type, values);
  });
  return out;
}

function writeValues(view: DataView, at: number, type: number, values: ArrayLike<number>) {
  if (type === BYTE) {
    new Uint8Array(view.buffer, at, values.length).set(values);
    return;
  }
  for (let i = 0; i < values.length; i++) {
    if (type === SHORT) view.setUint16(at + 2 * i, values[i], true);
    else view.setUint32(at + 4 * i, values[i], true);
  }
}

/**
 * The entries of an uncompressed 8-bit gray TIFF of `width x height` with `samples` samples per
 * pixel and one strip of `stripBytes` bytes at offset 8.
 */
function grayEntries(width: number, height: number, samples: number, stripBytes: number) {
  return [
    [256, SHORT, [width]],
    [257, SHORT, [height]],
    [258, SHORT, [8]],
    [259, SHORT, [1]],
    [262, SHORT, [1]],
    [273, LONG, [8]],
    [277, SHORT, [samples]],
    [279, LONG, [stripBytes]],
  ] as RawEntry[];
}

/**
 * Finding 1 (122 bytes): a 2x2 gray TIFF with SamplesPerPixel 0 and the horizontal predictor,
 * whose rows are 0 bytes long; the predictor loop stepped by 0 and never ended.
 */
export function tiffZeroSamplesPredictor(): Uint8Array {
  return rawTiff([...grayEntries(2, 2, 0, 0), [317, SHORT, [2]]]);
}

/**
 * Finding 9 (110 bytes): a 4096x2048 gray TIFF with SamplesPerPixel 0 and no pixel data: 0 bytes
 * per pixel made "the strips hold every pixel the header claims" true.
 */
export function tiffZeroSamplesClaiming(): Uint8Array {
  return rawTiff(grayEntries(4096, 2048, 0, 0));
}

/**
 * Finding 2: a valid 8x8 gray TIFF padded to `fileBytes`, plus `tags` unknown tags, each a BYTE
 * array that spans the whole file (1 MB and 1000 tags made `readIfd` build 1000 arrays of a
 * million numbers: 4.2 GB, then an abort).
 */
export function tiffWideTags(fileBytes: number, tags: number): Uint8Array {
  const entries = grayEntries(8, 8, 1, 64);
  const data = new Uint8Array(64).map((_, i) => i * 4);
  const padded = new Uint8Array(Math.max(64, fileBytes - 8 - 2 - 12 * (entries.length + tags) - 4));
  padded.set(data);
  for (let k = 0; k < tags; k++) entries.push([40000 + k, BYTE, { count: fileBytes, offset: 0 }]);
  return rawTiff(entries, padded);
}

/**
 * Finding 4: a 2x2 RGB (or, `wide`, RGBA with 16-bit samples) TIFF made of one deflated
 * `tile x tile` tile of zeros. At 16384 it held 805 MB (2.1 GB wide) to show 4 pixels.
 */
export async function tiffTileBomb(tile: number, wide = false): Promise<Uint8Array> {
  const samples = wide ? 4 : 3;
  const bits = wide ? 16 : 8;
  const data = await deflatedZeros(tile * tile * samples * (bits / 8));
  return rawTiff([
    [256, SHORT, [2]],
    [257, SHORT, [2]],
    [258, SHORT, new Array(samples).fill(bits)],
    [259, SHORT, [8]],
    [262, SHORT, [2]],
    [277, SHORT, [samples]],
    [322, LONG, [tile]],
    [323, LONG, [tile]],
    [324, LONG, [8]],
    [325, LONG, [data.length]],
    ...(wide ? [[338, SHORT, [2]] as RawEntry] : []),
  ], data);
}

/**
 * Finding 8: a 2 x `strips` gray TIFF of one-row deflate strips, every strip the same 10-byte
 * zlib stream, offsets and byte counts stored as BYTE (4,194,304 strips: 8.4 MB, 40 s). With
 * `width` and `inflatesTo`, the campaign's finding: rows of `width`, and a shared stream that
 * inflates to far more than a row (20,604 strips of 407 pixels: 47 KB, 1.3 s before the meter).
 */
export function tiffManyStrips(strips: number, width = 2, inflatesTo = width): Uint8Array {
  const zlib = new Uint8Array(deflateSync(new Uint8Array(inflatesTo)));
  return rawTiff([
    [256, SHORT, [width]],
    [257, LONG, [strips]],
    [258, SHORT, [8]],
    [259, SHORT, [8]],
    [262, SHORT, [1]],
    [273, BYTE, new Uint8Array(strips).fill(8)],
    [277, SHORT, [1]],
    [278, SHORT, [1]],
    zlib.length < 256
      ? [279, BYTE, new Uint8Array(strips).fill(zlib.length)]
      : [279, SHORT, new Uint16Array(strips).fill(zlib.length)],
  ], zlib);
}

/**
 * The zlib data of a gray 8-bit PNG of `width x height` (filter 0) whose pixels are noise
 * (xorshift): it hardly compresses, so a 1024x768 image gives 790 KB of zlib data.
 */
function noiseRows(width: number, height: number): Uint8Array {
  const raw = new Uint8Array(height * (width + 1));
  let s = 2463534242;
  for (let i = 0; i < raw.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    raw[i] = i % (width + 1) === 0 ? 0 : s & 255;
  }
  return new Uint8Array(deflateSync(raw));
}

/**
 * Finding 8: a valid `width x height` gray PNG whose zlib data is cut into IDAT chunks of
 * `size` bytes each (1 byte: 13 bytes of file per byte of data), with `empty` empty IDAT chunks
 * in front.
 */
export function pngSplitIdat(width: number, height: number, size: number, empty = 0): Uint8Array {
  const zlib = noiseRows(width, height);
  const count = empty + Math.ceil(zlib.length / size);
  const out = new Uint8Array(8 + 25 + 12 * count + zlib.length + 12);
  out.set(pngFile([pngChunk("IHDR", ihdr(width, height, 8, 0))]));
  let at = 33;
  const idat = pngChunk("IDAT", new Uint8Array(0));
  for (let k = 0; k < empty; k++, at += 12) out.set(idat, at);
  for (let i = 0; i < zlib.length; i += size) {
    const part = pngChunk("IDAT", zlib.subarray(i, i + size));
    out.set(part, at);
    at += part.length;
  }
  out.set(pngChunk("IEND", new Uint8Array(0)), at);
  return out;
}

/**
 * A `width x height` GIF whose first frame (an even gray, encoded by `encodeGif`) comes after
 * `blocks` application extensions of one 1-byte sub-block each plus one with `subBlocks` 1-byte
 * sub-blocks: millions of tiny blocks for the block walk.
 */
export function gifManyBlocks(
  width: number,
  height: number,
  blocks: number,
  subBlocks: number,
): Uint8Array {
  const gif = encodeGif(new Uint8Array(width * height * 3).fill(120), width, height);
  const head = 13 + 768; // header, screen, 256-entry colour table
  const app = [0x21, 0xff, 11, ..."NETSCAPE2.0"].map((c) =>
    typeof c === "string" ? c.charCodeAt(0) : c
  );
  const one = [...app, 1, 0, 0];
  const out = new Uint8Array(gif.length + blocks * one.length + app.length + 2 * subBlocks + 1);
  out.set(gif.subarray(0, head));
  let at = head;
  for (let k = 0; k < blocks; k++, at += one.length) out.set(one, at);
  out.set(app, at);
  at += app.length;
  for (let k = 0; k < subBlocks; k++, at += 2) out[at] = 1;
  out[at++] = 0;
  out.set(gif.subarray(head), at);
  return out;
}

/**
 * A GIF whose screen is `screen x screen` and whose first frame is `width x height` at `x, y`.
 */
export function gifFrameOverScreen(
  width: number,
  height: number,
  screen: number,
  x = 0,
  y = 0,
): Uint8Array {
  const gif = encodeGif(new Uint8Array(width * height * 3).fill(200), width, height);
  gif.set([screen & 255, screen >> 8, screen & 255, screen >> 8], 6);
  gif.set([x & 255, x >> 8, y & 255, y >> 8], 13 + 768 + 1); // the image descriptor's position
  return gif;
}
