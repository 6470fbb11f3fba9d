/**
 * What a mutator is, and the byte-level helpers every mutator shares: copies with a range
 * replaced, integers written in either byte order, and the "interesting" values that find
 * off-by-one, sign and overflow bugs (0, 1, -1, powers of two and their neighbours).
 *
 * @module
 */
import type { Rng } from "./rng.ts";

/** The targets the fuzzer knows: the four image formats and the two camera stream parsers. */
export type Format = "jpeg" | "png" | "gif" | "tiff" | "mjpeg" | "jpeg-stream";

/** The image formats, in the order `--format all` runs them. */
export const IMAGE_FORMATS: readonly Format[] = ["jpeg", "png", "gif", "tiff"];

/** The camera stream parsers' targets. */
export const STREAM_FORMATS: readonly Format[] = ["mjpeg", "jpeg-stream"];

/** What a mutator has at hand: the random numbers, the format's seeds, the size cap. */
export interface MutationContext {
  rng: Rng;
  /** The seed corpus of the format being mutated (for splicing). */
  seeds: readonly Uint8Array[];
  /** No mutation may make an input larger than this. */
  maxBytes: number;
}

/** A mutated input and a short note saying what was done (kept in the finding's JSON). */
export interface Mutation {
  bytes: Uint8Array;
  note: string;
}

/** One way of changing an input; `undefined` when it does not apply to these bytes. */
export interface Mutator {
  name: string;
  weight: number;
  apply(bytes: Uint8Array, ctx: MutationContext): Mutation | undefined;
}

/** What a format module gives the driver. */
export interface FormatMutators {
  /** Structure-aware mutators. */
  mutators: readonly Mutator[];
  /** Offsets of length, count, size and offset fields, for the generic integer mutators. */
  hotOffsets?(bytes: Uint8Array): number[];
  /** Repairs checksums after a generic mutation (PNG CRCs), or returns the bytes as they are. */
  fixup?(bytes: Uint8Array): Uint8Array;
  /** Removes `count` bytes at `at` for the minimiser, keeping the file's offsets right. */
  remove?(bytes: Uint8Array, at: number, count: number): Uint8Array;
}

/** 8-bit values that find edge cases. */
export const INTERESTING_8 = [0, 1, 2, 3, 4, 7, 8, 15, 16, 32, 64, 0x7f, 0x80, 0xfe, 0xff];
/** 16-bit values that find edge cases. */
export const INTERESTING_16 = [
  0,
  1,
  2,
  0xff,
  0x100,
  0x101,
  1024,
  4096,
  16384,
  0x7fff,
  0x8000,
  0xfffe,
  0xffff,
];
/** 32-bit values that find edge cases. */
export const INTERESTING_32 = [
  ...INTERESTING_16,
  0x10000,
  0x1000000,
  0x3fffffff,
  0x40000000,
  0x7fffffff,
  0x80000000,
  0xfffffffe,
  0xffffffff,
];

/** A copy of `bytes` with `count` bytes at `at` replaced by `insert`. */
export function replaceRange(
  bytes: Uint8Array,
  at: number,
  count: number,
  insert: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const out = new Uint8Array(bytes.length - count + insert.length);
  out.set(bytes.subarray(0, at));
  out.set(insert, at);
  out.set(bytes.subarray(at + count), at + insert.length);
  return out;
}

/** `part` repeated `times` times. */
export function repeatBytes(part: Uint8Array, times: number): Uint8Array {
  const out = new Uint8Array(part.length * times);
  for (let i = 0; i < times; i++) out.set(part, i * part.length);
  return out;
}

/** Writes an unsigned integer of `size` bytes (1, 2 or 4) at `at`, in place. */
export function writeUint(
  bytes: Uint8Array,
  at: number,
  size: number,
  value: number,
  little: boolean,
): void {
  for (let i = 0; i < size; i++) {
    const shift = 8 * (little ? i : size - 1 - i);
    bytes[at + i] = Math.floor(value / 2 ** shift) & 255;
  }
}

/** Reads an unsigned integer of `size` bytes (1, 2 or 4) at `at`. */
export function readUint(bytes: Uint8Array, at: number, size: number, little: boolean): number {
  let value = 0;
  for (let i = 0; i < size; i++) {
    value = value * 256 + bytes[at + (little ? size - 1 - i : i)];
  }
  return value;
}

/** An interesting value for an integer field of `size` bytes. */
export function interesting(rng: Rng, size: number): number {
  return size === 1
    ? rng.pick(INTERESTING_8)
    : size === 2
    ? rng.pick(INTERESTING_16)
    : rng.pick(INTERESTING_32);
}

/** How many copies of `unit` bytes fit under the cap next to `base` bytes (at least 0). */
export function copiesUnder(ctx: MutationContext, base: number, unit: number): number {
  return Math.max(0, Math.floor((ctx.maxBytes - base) / Math.max(1, unit)));
}
