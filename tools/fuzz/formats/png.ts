/**
 * PNG-aware mutators, all with the CRCs put right: chunks duplicated (up to thousands of times),
 * deleted, swapped, IDAT split into many small chunks or padded with empty ones, IHDR fields set
 * to edge values, ancillary chunks added (eXIf with an orientation, tRNS, PLTE), and the
 * decompressed image data itself mutated (filter bytes and samples) and deflated again.
 *
 * @module
 */
import { deflateSync, inflateSync } from "node:zlib";
import { crc32, pngChunk, pngFile } from "../../../tests/_png.ts";
import { concatBytes } from "../../../src/_util.ts";
import {
  copiesUnder,
  type FormatMutators,
  type Mutation,
  type MutationContext,
  type Mutator,
  readUint,
  repeatBytes,
  replaceRange,
  writeUint,
} from "../mutator.ts";
import { exifOrientation } from "./exif.ts";

/** One chunk: where it starts (its length field), its type and its data. */
export interface PngChunk {
  at: number;
  type: string;
  data: Uint8Array;
}

/** The chunks of a PNG up to the end of the data (a cut-off chunk keeps what it has). */
export function parsePng(bytes: Uint8Array): PngChunk[] {
  const chunks: PngChunk[] = [];
  for (let at = 8; at + 8 <= bytes.length;) {
    const length = readUint(bytes, at, 4, false);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    const end = Math.min(bytes.length, at + 8 + length);
    chunks.push({ at, type, data: bytes.subarray(at + 8, end) });
    if (at + 12 + length > bytes.length) break;
    at += 12 + length;
  }
  return chunks;
}

/** A PNG of `chunks`, each with its length and CRC written afresh. */
function build(chunks: readonly { type: string; data: Uint8Array }[]): Uint8Array {
  return pngFile(chunks.map((c) => pngChunk(c.type, c.data)));
}

/** Chunk types to insert, with payloads that are plausible or not. */
function randomChunk(ctx: MutationContext): { type: string; data: Uint8Array } {
  const { rng } = ctx;
  const kind = rng.pick(["eXIf", "tRNS", "PLTE", "IDAT", "IEND", "gAMA", "zzZz", "ABCD"]);
  if (kind === "eXIf") {
    return { type: kind, data: exifOrientation(rng.pick([0, 1, 3, 6, 8, 9]), ctx) };
  }
  const length = rng.chance(0.5) ? rng.pick([0, 1, 2, 3, 6, 256, 768, 769]) : rng.logInt(4096);
  const data = new Uint8Array(length);
  for (let i = 0; i < length; i++) data[i] = rng.int(256);
  return { type: kind, data };
}

/** The bytes of chunk `c` as stored: length, type, data and CRC. */
function span(bytes: Uint8Array, c: PngChunk): [number, number] {
  return [c.at, Math.min(bytes.length, c.at + 12 + c.data.length)];
}

/** Duplicates (now and then thousands of times), deletes, moves or inserts a chunk. */
function chunkEdit(bytes: Uint8Array, ctx: MutationContext): Mutation | undefined {
  const { rng } = ctx;
  const chunks = parsePng(bytes);
  if (chunks.length === 0) return undefined;
  const c = rng.pick(chunks);
  const [from, to] = span(bytes, c);
  const op = rng.pick(["dup", "delete", "move", "insert"] as const);
  if (op === "dup") {
    const times = Math.min(
      rng.chance(0.2) ? rng.logInt(20000) : 1,
      copiesUnder(ctx, bytes.length, to - from),
    );
    const copies = repeatBytes(bytes.slice(from, to), times);
    return { bytes: replaceRange(bytes, to, 0, copies), note: `dup ${c.type} x${times}` };
  }
  if (op === "delete") {
    return { bytes: replaceRange(bytes, from, to - from), note: `delete ${c.type}` };
  }
  const rest = op === "move" ? replaceRange(bytes, from, to - from) : bytes;
  const places = [8, ...parsePng(rest).map((k) => k.at + 12 + k.data.length)];
  const at = Math.min(rng.pick(places), rest.length);
  if (op === "move") {
    return {
      bytes: replaceRange(rest, at, 0, bytes.slice(from, to)),
      note: `move ${c.type} to ${at}`,
    };
  }
  const added = randomChunk(ctx);
  return {
    bytes: replaceRange(rest, at, 0, pngChunk(added.type, added.data)),
    note: `insert ${added.type} of ${added.data.length}`,
  };
}

/** Splits the IDAT data into chunks of `size` bytes, or adds empty IDATs between them. */
function idatSplit(bytes: Uint8Array, ctx: MutationContext): Mutation | undefined {
  const { rng } = ctx;
  const chunks = parsePng(bytes);
  const idat = chunks.filter((c) => c.type === "IDAT");
  if (idat.length === 0) return undefined;
  const data = concatBytes(idat.map((c) => c.data));
  const empties = rng.chance(0.4) ? rng.logInt(copiesUnder(ctx, bytes.length, 12)) : 0;
  const size = empties > 0 ? data.length : rng.logInt(Math.max(1, data.length));
  if (Math.ceil(data.length / size) * 12 + bytes.length > ctx.maxBytes) return undefined;
  const parts: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += size) {
    parts.push(pngChunk("IDAT", data.subarray(i, i + size)));
  }
  parts.push(repeatBytes(pngChunk("IDAT", new Uint8Array(0)), empties));
  const first = chunks.indexOf(idat[0]);
  const rest = chunks.filter((c) => c.type !== "IDAT").map((c) => pngChunk(c.type, c.data));
  rest.splice(first, 0, concatBytes(parts));
  return {
    bytes: pngFile(rest),
    note: `IDAT in ${size}-byte chunks + ${empties} empty`,
  };
}

const IHDR_FIELDS = [
  { at: 0, size: 4, values: [0, 1, 2, 224, 4096, 8192, 1 << 22, 1 << 23, 0x7fffffff, 0xffffffff] },
  { at: 4, size: 4, values: [0, 1, 2, 224, 2048, 8192, 1 << 22, 1 << 23, 0x7fffffff, 0xffffffff] },
  { at: 8, size: 1, values: [0, 1, 2, 3, 4, 5, 8, 16, 32, 255] },
  { at: 9, size: 1, values: [0, 1, 2, 3, 4, 5, 6, 7, 255] },
  { at: 10, size: 1, values: [0, 1, 255] },
  { at: 11, size: 1, values: [0, 1, 255] },
  { at: 12, size: 1, values: [0, 1, 2, 255] },
];

function ihdrEdit(bytes: Uint8Array, { rng }: MutationContext): Mutation | undefined {
  const head = parsePng(bytes).find((c) => c.type === "IHDR");
  if (!head || head.data.length < 13 || head.at + 25 + 4 > bytes.length) return undefined;
  const field = rng.pick(IHDR_FIELDS);
  const value = rng.pick(field.values);
  const out = bytes.slice();
  writeUint(out, head.at + 8 + field.at, field.size, value, false);
  const end = head.at + 8 + head.data.length;
  writeUint(out, end, 4, crc32(out.subarray(head.at + 4, end)), false);
  return { bytes: out, note: `IHDR[${field.at}]=${value}` };
}

/** Inflates the image data, mutates the filtered rows, and deflates them into one IDAT. */
function rowsEdit(bytes: Uint8Array, { rng }: MutationContext): Mutation | undefined {
  const chunks = parsePng(bytes);
  const idat = chunks.filter((c) => c.type === "IDAT");
  if (idat.length === 0) return undefined;
  let raw: Uint8Array;
  try {
    raw = new Uint8Array(inflateSync(concatBytes(idat.map((c) => c.data)), {
      maxOutputLength: 1 << 22,
    }));
  } catch {
    return undefined;
  }
  if (raw.length === 0) return undefined;
  const op = rng.pick(["filter", "samples", "cut", "grow"] as const);
  if (op === "filter" || op === "samples") {
    const count = rng.logInt(64);
    for (let i = 0; i < count; i++) {
      raw[rng.int(raw.length)] = op === "filter" ? rng.pick([0, 1, 2, 3, 4, 5, 255]) : rng.int(256);
    }
  } else if (op === "cut") {
    raw = raw.slice(0, rng.int(raw.length));
  } else {
    raw = concatBytes([raw, new Uint8Array(rng.logInt(1 << 16))]);
  }
  const data = new Uint8Array(deflateSync(raw));
  const first = chunks.indexOf(idat[0]);
  const rest: { type: string; data: Uint8Array }[] = chunks.filter((c) => c.type !== "IDAT");
  rest.splice(first, 0, { type: "IDAT", data });
  return { bytes: build(rest), note: `rows ${op}` };
}

/** Puts every complete chunk's CRC right (generic mutations break them). */
function fixup(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  for (const c of parsePng(bytes)) {
    const end = c.at + 8 + c.data.length;
    if (end + 4 > out.length) break;
    writeUint(out, end, 4, crc32(out.subarray(c.at + 4, end)), false);
  }
  return out;
}

function hotOffsets(bytes: Uint8Array): number[] {
  return parsePng(bytes).flatMap((c) => c.type === "IHDR" ? [c.at, c.at + 8, c.at + 12] : [c.at]);
}

const mutators: Mutator[] = [
  { name: "png.chunk", weight: 4, apply: chunkEdit },
  { name: "png.idat-split", weight: 2, apply: idatSplit },
  { name: "png.ihdr", weight: 4, apply: ihdrEdit },
  { name: "png.rows", weight: 3, apply: rowsEdit },
];

/** The PNG mutators, structure offsets and CRC repair. */
export const png: FormatMutators = { mutators, hotOffsets, fixup };
