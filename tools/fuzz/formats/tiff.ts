/**
 * TIFF-aware mutators: IFD entries edited (values to 0, 1 or huge, counts huge, types changed),
 * tags added with the values decoders choke on (SamplesPerPixel 0 with the predictor, tiles of
 * 16384, thousands of strips), entries added by the hundred that point at the whole file, and
 * entries deleted or duplicated. Edits of one entry are made in place; adding or deleting
 * entries writes a new IFD at the end of the file and points the header at it.
 *
 * @module
 */
import {
  copiesUnder,
  type FormatMutators,
  interesting,
  type Mutation,
  type MutationContext,
  type Mutator,
  readUint,
  replaceRange,
  writeUint,
} from "../mutator.ts";
import { removeRange } from "../minimize.ts";
import type { Rng } from "../rng.ts";

/** One IFD entry: where it is and what it says (`value` is the raw 4-byte field). */
export interface TiffEntry {
  at: number;
  tag: number;
  type: number;
  count: number;
  value: Uint8Array;
}

/** The first IFD of a TIFF. */
export interface TiffIfd {
  little: boolean;
  at: number;
  entries: TiffEntry[];
}

const TYPE_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2 };

/** Parses the header and IFD0 (entries that fit in the file), or `undefined`. */
export function parseTiff(bytes: Uint8Array): TiffIfd | undefined {
  if (bytes.length < 8) return undefined;
  const little = bytes[0] === 0x49;
  const at = readUint(bytes, 4, 4, little);
  if (at + 2 > bytes.length) return undefined;
  const count = Math.min(
    readUint(bytes, at, 2, little),
    Math.floor((bytes.length - at - 2) / 12),
  );
  const entries: TiffEntry[] = [];
  for (let k = 0; k < count; k++) {
    const e = at + 2 + 12 * k;
    entries.push({
      at: e,
      tag: readUint(bytes, e, 2, little),
      type: readUint(bytes, e + 2, 2, little),
      count: readUint(bytes, e + 4, 4, little),
      value: bytes.slice(e + 8, e + 12),
    });
  }
  return { little, at, entries };
}

/** The 4-byte value field of a one-value entry of `type` (values are left-justified). */
function inlineValue(type: number, value: number, little: boolean): Uint8Array {
  const out = new Uint8Array(4);
  writeUint(out, 0, Math.min(4, TYPE_SIZE[type] ?? 4), value, little);
  return out;
}

/** A copy of `bytes` whose IFD0 is `entries`, written at the end (word-aligned). */
export function withEntries(
  bytes: Uint8Array,
  ifd: TiffIfd,
  entries: readonly Omit<TiffEntry, "at">[],
): Uint8Array {
  const start = bytes.length + (bytes.length & 1);
  const out = new Uint8Array(start + 2 + entries.length * 12 + 4);
  out.set(bytes);
  writeUint(out, 4, 4, start, ifd.little);
  writeUint(out, start, 2, entries.length, ifd.little);
  entries.forEach((entry, i) => {
    const e = start + 2 + 12 * i;
    writeUint(out, e, 2, entry.tag, ifd.little);
    writeUint(out, e + 2, 2, entry.type, ifd.little);
    writeUint(out, e + 4, 4, entry.count, ifd.little);
    out.set(entry.value, e + 8);
  });
  return out;
}

/** Interesting values per tag (beyond the generic ones), by what decoders do with them. */
const TAG_VALUES: Record<number, number[]> = {
  256: [0, 1, 2, 3, 224, 4096, 5792, 16384, 65535, 0x7fffffff, 0xffffffff], // width
  257: [0, 1, 2, 3, 224, 2048, 5792, 16384, 65535, 0x7fffffff, 0xffffffff], // height
  258: [0, 1, 4, 8, 12, 16, 32, 255], // bits per sample
  259: [0, 1, 2, 5, 7, 8, 32773, 32946, 65535], // compression
  262: [0, 1, 2, 3, 4, 5, 6, 255], // photometric
  266: [0, 1, 2], // fill order
  273: [0, 1, 8, 0xffffffff], // strip offsets
  274: [0, 1, 3, 5, 6, 7, 8, 9, 255, 65535], // orientation
  277: [0, 0, 1, 2, 3, 4, 5, 255, 65535], // samples per pixel
  278: [0, 1, 2, 3, 8, 65535, 0xffffffff], // rows per strip
  279: [0, 1, 2, 0x7fffffff, 0xffffffff], // strip byte counts
  284: [0, 1, 2], // planar configuration
  317: [0, 1, 2, 2, 3], // predictor
  320: [0, 1, 768], // colour map
  322: [0, 1, 8, 16, 17, 256, 4096, 16384, 65535], // tile width
  323: [0, 1, 8, 16, 17, 256, 4096, 16384, 65535], // tile length
  324: [0, 1, 8, 0xffffffff], // tile offsets
  325: [0, 1, 2, 0xffffffff], // tile byte counts
  338: [0, 1, 2, 3], // extra samples
  339: [1, 2, 3, 4], // sample format
};
const TAGS = Object.keys(TAG_VALUES).map(Number);
const WEIGHTED_TAGS = [...TAGS, 277, 277, 317, 317, 258, 259, 322, 323, 278, 256, 257];

function valueFor(rng: Rng, tag: number, size: number): number {
  const values = TAG_VALUES[tag];
  return values && rng.chance(0.8) ? rng.pick(values) : interesting(rng, size);
}

/** Sets (adding them when missing) one or two important tags to one value each, SHORT or LONG. */
function setTag(bytes: Uint8Array, { rng }: MutationContext): Mutation | undefined {
  const ifd = parseTiff(bytes);
  if (!ifd) return undefined;
  const set = new Map<number, Omit<TiffEntry, "at">>();
  for (let k = rng.chance(0.3) ? 2 : 1; k > 0; k--) {
    const tag = rng.pick(WEIGHTED_TAGS);
    const value = valueFor(rng, tag, 4);
    const type = value <= 0xffff && rng.chance(0.6) ? 3 : 4;
    set.set(tag, { tag, type, count: 1, value: inlineValue(type, value, ifd.little) });
  }
  const entries = [...ifd.entries.filter((e) => !set.has(e.tag)), ...set.values()]
    .sort((a, b) => a.tag - b.tag);
  const note = [...set.values()].map((e) =>
    `${e.tag}=${readUint(e.value, 0, e.type === 3 ? 2 : 4, ifd.little)}`
  );
  return { bytes: withEntries(bytes, ifd, entries), note: `tag ${note.join(" ")}` };
}

/** Edits one field of one entry in place: its value, its count or its type. */
function editEntry(bytes: Uint8Array, ctx: MutationContext): Mutation | undefined {
  const { rng } = ctx;
  const ifd = parseTiff(bytes);
  if (!ifd || ifd.entries.length === 0) return undefined;
  const entry = rng.pick(ifd.entries);
  const out = bytes.slice();
  const field = rng.weighted([[3, "value"], [2, "count"], [1, "type"]] as const);
  let value: number;
  if (field === "value") {
    const size = Math.min(4, TYPE_SIZE[entry.type] ?? 4);
    value = rng.chance(0.2) ? bytes.length - rng.int(16) : valueFor(rng, entry.tag, size);
    writeUint(out, entry.at + 8, size, value % 2 ** (8 * size), ifd.little);
  } else if (field === "count") {
    value = rng.chance(0.3) ? Math.floor(bytes.length / rng.pick([1, 2, 4])) : interesting(rng, 4);
    writeUint(out, entry.at + 4, 4, value, ifd.little);
  } else {
    value = rng.pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 16, 17, 18, 0xffff]);
    writeUint(out, entry.at + 2, 2, value, ifd.little);
  }
  return { bytes: out, note: `tag ${entry.tag} ${field}=${value}` };
}

/**
 * Adds entries, a few to a thousand, of unknown tags that each claim the whole file (BYTE,
 * SHORT or LONG arrays from offset 0), after padding the file by up to 1 MB now and then.
 */
function wholeFileTags(bytes: Uint8Array, ctx: MutationContext): Mutation | undefined {
  const { rng } = ctx;
  const ifd = parseTiff(bytes);
  if (!ifd) return undefined;
  const pad = rng.chance(0.5)
    ? Math.min(rng.logInt(1 << 20), copiesUnder(ctx, bytes.length, 1))
    : 0;
  const padded = replaceRange(bytes, bytes.length, 0, new Uint8Array(pad));
  const n = Math.min(rng.logInt(1000), 65535 - ifd.entries.length);
  const type = rng.pick([1, 1, 3, 4]);
  const count = Math.floor(padded.length / TYPE_SIZE[type]);
  const added = Array.from({ length: n }, (_, i) => ({
    tag: 40000 + i,
    type,
    count,
    value: new Uint8Array(4),
  }));
  return {
    bytes: withEntries(padded, { ...ifd }, [...ifd.entries, ...added]),
    note: `${n} tags of type ${type} x${count} over the file (+${pad} bytes)`,
  };
}

/** Deletes or duplicates one entry (a new IFD). */
function dropOrCopy(bytes: Uint8Array, { rng }: MutationContext): Mutation | undefined {
  const ifd = parseTiff(bytes);
  if (!ifd || ifd.entries.length === 0) return undefined;
  const k = rng.int(ifd.entries.length);
  const copy = rng.chance(0.4);
  const entries = [...ifd.entries];
  if (copy) entries.splice(k, 0, entries[k]);
  else entries.splice(k, 1);
  return {
    bytes: withEntries(bytes, ifd, entries),
    note: `${copy ? "copy" : "drop"} tag ${ifd.entries[k].tag}`,
  };
}

/**
 * Many strips: the image becomes `n` rows of one-row strips whose offsets and byte counts are
 * BYTE arrays appended to the file (every strip points at the first one's data).
 */
function manyStrips(bytes: Uint8Array, ctx: MutationContext): Mutation | undefined {
  const { rng } = ctx;
  const ifd = parseTiff(bytes);
  if (!ifd) return undefined;
  const offsetEntry = ifd.entries.find((e) => e.tag === 273);
  if (!offsetEntry) return undefined;
  const n = Math.min(rng.logInt(1 << 22), copiesUnder(ctx, bytes.length + 1024, 2));
  if (n < 2) return undefined;
  const base = bytes.length;
  const arrays = new Uint8Array(2 * n);
  arrays.fill(8, 0, n); // the first strip's data starts after the header
  arrays.fill(rng.pick([1, 16, 255]), n);
  const grown = replaceRange(bytes, base, 0, arrays);
  const width = Math.max(1, Math.min(readTag(ifd, 256) ?? 1, Math.floor(8388608 / n)));
  const set = new Map<number, Omit<TiffEntry, "at">>([
    [256, { tag: 256, type: 4, count: 1, value: inlineValue(4, width, ifd.little) }],
    [257, { tag: 257, type: 4, count: 1, value: inlineValue(4, n, ifd.little) }],
    [278, { tag: 278, type: 4, count: 1, value: inlineValue(4, 1, ifd.little) }],
    [273, { tag: 273, type: 1, count: n, value: inlineValue(4, base, ifd.little) }],
    [279, { tag: 279, type: 1, count: n, value: inlineValue(4, base + n, ifd.little) }],
  ]);
  const entries = [...ifd.entries.filter((e) => !set.has(e.tag)), ...set.values()]
    .sort((a, b) => a.tag - b.tag);
  return { bytes: withEntries(grown, ifd, entries), note: `${n} one-row strips of ${width}` };
}

/** The first value of a one-value SHORT or LONG tag, read back from the IFD. */
function readTag(ifd: TiffIfd, tag: number): number | undefined {
  const entry = ifd.entries.find((e) => e.tag === tag);
  if (!entry || entry.count !== 1) return undefined;
  return readUint(entry.value, 0, entry.type === 3 ? 2 : 4, ifd.little);
}

/**
 * Removes `count` bytes at `at` and moves every offset that pointed past them (the IFD's, the
 * out-of-line values', the strips' and tiles') back by `count`, so the file stays a TIFF.
 * Bytes of the header or the IFD itself are removed plainly.
 */
export function removeKeepingOffsets(bytes: Uint8Array, at: number, count: number): Uint8Array {
  const ifd = parseTiff(bytes);
  const plain = removeRange(bytes, at, count);
  if (!ifd || at < 8 || (at < ifd.at + 2 + 12 * ifd.entries.length + 4 && at + count > ifd.at)) {
    return plain;
  }
  const little = ifd.little;
  const shift = (from: number, size: number) => {
    const target = from >= at + count ? from - count : from;
    const value = readUint(plain, target, size, little);
    if (value >= at + count) writeUint(plain, target, size, value - count, little);
  };
  shift(4, 4);
  for (const e of ifd.entries) {
    const size = TYPE_SIZE[e.type] ?? 4;
    const outOfLine = size * e.count > 4;
    if (outOfLine) shift(e.at + 8, 4);
    if (e.tag !== 273 && e.tag !== 324) continue;
    if (!outOfLine) {
      shift(e.at + 8, Math.min(4, size));
      continue;
    }
    const base = readUint(bytes, e.at + 8, 4, little); // where the array is in `bytes`
    for (let i = 0; i < e.count && base + (i + 1) * size <= bytes.length && i < 1 << 16; i++) {
      const p = base + i * size;
      if (p + size <= at || p >= at + count) shift(p, size); // (an element removed stays removed)
    }
  }
  return plain;
}

/** Offsets of the IFD's count and value fields, for the generic integer mutators. */
function hotOffsets(bytes: Uint8Array): number[] {
  const ifd = parseTiff(bytes);
  if (!ifd) return [4];
  return [4, ifd.at, ...ifd.entries.flatMap((e) => [e.at + 2, e.at + 4, e.at + 8])];
}

const mutators: Mutator[] = [
  { name: "tiff.tag", weight: 5, apply: setTag },
  { name: "tiff.edit", weight: 4, apply: editEntry },
  { name: "tiff.whole-file", weight: 1, apply: wholeFileTags },
  { name: "tiff.drop-copy", weight: 1, apply: dropOrCopy },
  { name: "tiff.strips", weight: 0.5, apply: manyStrips },
];

/** The TIFF mutators and structure offsets. */
export const tiff: FormatMutators = { mutators, hotOffsets, remove: removeKeepingOffsets };
