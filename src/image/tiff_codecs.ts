/**
 * The strip and tile compressions of the TIFF decoder: LZW (TIFF's MSB-first flavour with early
 * change), PackBits, deflate (zlib) and none. Each decodes into a buffer of exactly the size the
 * header promises and never writes past it: a decompression bomb stops where the image ends.
 *
 * @module
 */
import { inflateParts } from "./inflate.ts";
import type { WorkMeter } from "./budget.ts";

/** The LZW string table, shared by every call (the decoder is synchronous): where each string
 * starts in the output and its length. Entries are written before they are read. */
const starts = new Int32Array(4096);
const lengths = new Int32Array(4096);

/**
 * Decodes TIFF LZW data into `out` (filled up to its length at most).
 *
 * @returns the number of bytes written; fewer than `out.length` when the data ends early
 * @throws {Error} on an impossible code
 */
export function lzwDecode(input: Uint8Array, out: Uint8Array): number {
  const limit = out.length;
  let width = 9, next = 258, acc = 0, nbits = 0, i = 0, o = 0;
  let prevStart = -1, prevLength = 0;
  while (o < limit) {
    while (nbits < width && i < input.length) {
      acc = (acc << 8) | input[i++];
      nbits += 8;
    }
    if (nbits < width) break; // out of data
    const code = (acc >>> (nbits - width)) & ((1 << width) - 1);
    nbits -= width;
    acc &= (1 << nbits) - 1;
    if (code === 257) break;
    if (code === 256) {
      width = 9;
      next = 258;
      prevStart = -1;
      continue;
    }
    const start = o;
    let length: number;
    if (code < 256) {
      out[o] = code;
      length = 1;
    } else if (prevStart < 0) {
      throw new Error(`LZW code ${code} right after a clear code`);
    } else if (code < next) {
      length = lengths[code];
      out.copyWithin(o, starts[code], starts[code] + Math.min(length, limit - o));
    } else if (code === next) {
      length = prevLength + 1;
      out.copyWithin(o, prevStart, prevStart + Math.min(prevLength, limit - o));
      if (o + prevLength < limit) out[o + prevLength] = out[prevStart];
    } else {
      throw new Error(`LZW code ${code} is not in the table (next ${next})`);
    }
    if (prevStart >= 0 && next < 4096) {
      starts[next] = prevStart; // the previous string plus this one's first byte, contiguous
      lengths[next++] = prevLength + 1;
      if (next >= (1 << width) - 1 && width < 12) width++;
    }
    prevStart = start;
    prevLength = length;
    o = Math.min(limit, o + length);
  }
  return o;
}

/**
 * Decodes PackBits data into `out` (filled up to its length at most).
 *
 * @returns the number of bytes written
 */
export function packBitsDecode(input: Uint8Array, out: Uint8Array): number {
  let i = 0, o = 0;
  while (i < input.length && o < out.length) {
    const n = (input[i++] << 24) >> 24;
    if (n >= 0) {
      const count = Math.min(n + 1, input.length - i, out.length - o);
      out.set(input.subarray(i, i + count), o);
      i += n + 1;
      o += count;
    } else if (n !== -128 && i < input.length) {
      const count = Math.min(1 - n, out.length - o);
      out.fill(input[i++], o, o + count);
      o += count;
    }
  }
  return o;
}

/**
 * Inflates zlib data into `out`, stopping when it is full. Bytes the inflater produced beyond
 * what `out` holds (it inflates a whole piece of input at a time) are work done for nothing:
 * they are added to `meter`, which throws once they take the decode over its work budget.
 *
 * @returns the number of bytes written
 * @throws {TypeError} for corrupt deflate data
 * @throws {ImageDecodeError} `TOO_COMPLEX` from `meter`
 */
export async function inflateInto(
  input: Uint8Array,
  out: Uint8Array,
  meter?: WorkMeter,
): Promise<number> {
  let o = 0;
  for await (const chunk of inflateParts([input])) {
    const take = Math.min(chunk.length, out.length - o);
    out.set(chunk.subarray(0, take), o);
    o += take;
    meter?.add(chunk.length - take);
    if (o === out.length) break;
  }
  return o;
}
