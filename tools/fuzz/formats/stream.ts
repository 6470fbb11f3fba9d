/**
 * Mutators for the camera stream targets. `mjpeg`: a long boundary (up to 10 KB, where RFC 2046
 * allows 70 characters) over a body of the boundary's letter, parts duplicated, Content-Length
 * values edited. `jpeg-stream`: runs of FF fill bytes after a start marker, images duplicated,
 * bytes inserted between images.
 *
 * @module
 */
import { concatBytes } from "../../../src/_util.ts";
import {
  copiesUnder,
  type FormatMutators,
  type Mutation,
  type MutationContext,
  type Mutator,
  repeatBytes,
  replaceRange,
} from "../mutator.ts";
import { mjpegInput } from "./stream_seeds.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Splits an `mjpeg` input into its boundary and body. */
export function splitMjpeg(bytes: Uint8Array): { boundary: string; body: Uint8Array } {
  const nl = bytes.indexOf(0x0a);
  if (nl < 0) return { boundary: dec.decode(bytes), body: new Uint8Array(0) };
  return { boundary: dec.decode(bytes.subarray(0, nl)), body: bytes.subarray(nl + 1) };
}

/** Offsets where `needle` starts in `bytes`. */
function indexesOf(bytes: Uint8Array, needle: Uint8Array): number[] {
  const out: number[] = [];
  for (
    let i = bytes.indexOf(needle[0]);
    i >= 0 && i + needle.length <= bytes.length;
    i = bytes.indexOf(needle[0], i + 1)
  ) {
    let k = 1;
    while (k < needle.length && bytes[i + k] === needle[k]) k++;
    if (k === needle.length) out.push(i);
  }
  return out;
}

/** A boundary of one letter, up to 10 KB long, over a body that is mostly that letter. */
function longBoundary(bytes: Uint8Array, ctx: MutationContext): Mutation | undefined {
  const { rng } = ctx;
  const letter = rng.pick(["a", "-", "x"]);
  const length = rng.chance(0.2) ? rng.logInt(70) : rng.logRange(70, 10240);
  const { body } = splitMjpeg(bytes);
  const filler = rng.chance(0.5)
    ? new Uint8Array(Math.min(rng.logRange(1 << 16, 1 << 22), copiesUnder(ctx, length, 1))).fill(
      letter.charCodeAt(0),
    )
    : body;
  return {
    bytes: mjpegInput(letter.repeat(length), filler),
    note: `boundary ${letter}x${length}, body ${filler.length}`,
  };
}

/** Duplicates a part (boundary line to the next one), or edits a Content-Length. */
function partEdit(bytes: Uint8Array, ctx: MutationContext): Mutation | undefined {
  const { rng } = ctx;
  const { boundary, body } = splitMjpeg(bytes);
  const bare = enc.encode(boundary.replace(/^-+/, "") || "x");
  const starts = indexesOf(body, bare);
  if (starts.length === 0) return undefined;
  if (rng.chance(0.5)) {
    const k = rng.int(starts.length);
    const part = body.slice(starts[k], starts[k + 1] ?? body.length);
    const times = Math.min(rng.logInt(2000), copiesUnder(ctx, bytes.length, part.length));
    if (times < 1) return undefined;
    const grown = replaceRange(body, starts[k], 0, repeatBytes(part, times));
    return { bytes: mjpegInput(boundary, grown), note: `dup part x${times}` };
  }
  const lengths = indexesOf(body, enc.encode("Content-Length: "));
  if (lengths.length === 0) return undefined;
  const at = rng.pick(lengths) + 16;
  let end = at;
  while (end < body.length && body[end] >= 0x30 && body[end] <= 0x39) end++;
  const value = rng.pick([
    "0",
    "1",
    "-1",
    "99999999999",
    "33554433",
    "1e3",
    "",
    "0x10",
    String(rng.int(100000)),
  ]);
  return {
    bytes: mjpegInput(boundary, replaceRange(body, at, end - at, enc.encode(value))),
    note: `Content-Length ${value}`,
  };
}

/** A run of FF fill bytes after a start of image (or anywhere), up to megabytes. */
function fillRun(bytes: Uint8Array, ctx: MutationContext): Mutation | undefined {
  const { rng } = ctx;
  const starts = indexesOf(bytes, new Uint8Array([0xff, 0xd8]));
  const at = starts.length > 0 && rng.chance(0.8)
    ? rng.pick(starts) + 2
    : rng.int(bytes.length + 1);
  const length = Math.min(rng.logInt(1 << 23), copiesUnder(ctx, bytes.length, 1));
  if (length < 1) return undefined;
  return {
    bytes: replaceRange(bytes, at, 0, new Uint8Array(length).fill(0xff)),
    note: `FF x${length}@${at}`,
  };
}

/** Duplicates an image of the stream (SOI to the next SOI), now and then many times. */
function imageDup(bytes: Uint8Array, ctx: MutationContext): Mutation | undefined {
  const { rng } = ctx;
  const starts = indexesOf(bytes, new Uint8Array([0xff, 0xd8, 0xff]));
  if (starts.length === 0) return undefined;
  const k = rng.int(starts.length);
  const image = bytes.slice(starts[k], starts[k + 1] ?? bytes.length);
  const times = Math.min(
    rng.chance(0.2) ? rng.logInt(5000) : 1,
    copiesUnder(ctx, bytes.length, image.length),
  );
  if (times < 1) return undefined;
  return { bytes: concatBytes([bytes, repeatBytes(image, times)]), note: `dup image x${times}` };
}

/** The mutators of the `mjpeg` target. */
export const mjpeg: FormatMutators = {
  mutators: [
    { name: "mjpeg.boundary", weight: 1, apply: longBoundary },
    { name: "mjpeg.part", weight: 2, apply: partEdit },
    { name: "stream.fill", weight: 1, apply: fillRun },
  ] satisfies Mutator[],
};

/** The mutators of the `jpeg-stream` target. */
export const jpegStream: FormatMutators = {
  mutators: [
    { name: "stream.fill", weight: 2, apply: fillRun },
    { name: "stream.image", weight: 1, apply: imageDup },
  ] satisfies Mutator[],
};
