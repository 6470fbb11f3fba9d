/**
 * GIF-aware mutators: screen and frame sizes, positions and packed fields (colour tables,
 * interlacing) set to edge values, the LZW minimum code size changed, sub-block lengths edited,
 * blocks duplicated (frames and extensions, up to thousands) or deleted, extensions inserted
 * (graphic control, NETSCAPE loop, long comments) and the LZW data itself mutated.
 *
 * @module
 */
import {
  copiesUnder,
  type FormatMutators,
  type Mutation,
  type MutationContext,
  type Mutator,
  repeatBytes,
  replaceRange,
  writeUint,
} from "../mutator.ts";

/** A block after the colour table: an extension, an image (descriptor to last sub-block), or the trailer. */
export interface GifBlock {
  at: number;
  end: number;
  kind: "ext" | "image" | "trailer";
  /** Where the sub-blocks start. */
  data: number;
}

/** The end of the sub-blocks that start at `at` (after the zero-length terminator). */
function subBlocksEnd(bytes: Uint8Array, at: number): number {
  while (at < bytes.length && bytes[at] !== 0) at += bytes[at] + 1;
  return Math.min(bytes.length, at + 1);
}

/** The blocks of a GIF, up to the trailer or the first byte that starts none. */
export function parseGif(bytes: Uint8Array): GifBlock[] {
  if (bytes.length < 13) return [];
  const blocks: GifBlock[] = [];
  let at = 13 + (bytes[10] & 0x80 ? 3 << ((bytes[10] & 7) + 1) : 0);
  while (at < bytes.length) {
    const kind = bytes[at];
    if (kind === 0x21 && at + 2 <= bytes.length) {
      const end = subBlocksEnd(bytes, at + 2);
      blocks.push({ at, end, kind: "ext", data: at + 2 });
      at = end;
    } else if (kind === 0x2c && at + 10 <= bytes.length) {
      const packed = bytes[at + 9];
      const data = at + 10 + (packed & 0x80 ? 3 << ((packed & 7) + 1) : 0) + 1;
      const end = subBlocksEnd(bytes, data);
      blocks.push({ at, end, kind: "image", data });
      at = end;
    } else {
      if (kind === 0x3b) blocks.push({ at, end: at + 1, kind: "trailer", data: at + 1 });
      break;
    }
  }
  return blocks;
}

const SIDES = [0, 1, 2, 224, 4096, 8192, 32767, 65535];

/** Edits the screen descriptor or a frame's descriptor. */
function descriptorEdit(bytes: Uint8Array, ctx: MutationContext): Mutation | undefined {
  const { rng } = ctx;
  if (bytes.length < 13) return undefined;
  const images = parseGif(bytes).filter((b) => b.kind === "image");
  const frame = images.length > 0 && rng.chance(0.6) ? rng.pick(images) : undefined;
  const out = bytes.slice();
  const field = rng.pick(
    frame ? ["left", "top", "width", "height", "packed", "code"] : [
      "width",
      "height",
      "packed",
    ],
  );
  let value: number;
  if (field === "packed") {
    value = rng.pick([0x00, 0x07, 0x40, 0x47, 0x80, 0x87, 0xc0, 0xf7, 0xff]);
    out[frame ? frame.at + 9 : 10] = value;
  } else if (field === "code") {
    value = rng.pick([0, 1, 2, 7, 8, 11, 12, 13, 255]);
    out[frame!.data - 1] = value;
  } else {
    value = rng.pick(SIDES);
    const offsets: Record<string, number> = { left: 1, top: 3, width: 5, height: 7 };
    writeUint(
      out,
      frame ? frame.at + offsets[field] : 6 + (field === "width" ? 0 : 2),
      2,
      value,
      true,
    );
  }
  return { bytes: out, note: `${frame ? "frame" : "screen"} ${field}=${value}` };
}

/** Duplicates (now and then thousands of times) or deletes a block. */
function blockEdit(bytes: Uint8Array, ctx: MutationContext): Mutation | undefined {
  const { rng } = ctx;
  const blocks = parseGif(bytes).filter((b) => b.kind !== "trailer");
  if (blocks.length === 0) return undefined;
  const b = rng.pick(blocks);
  if (rng.chance(0.3)) {
    return { bytes: replaceRange(bytes, b.at, b.end - b.at), note: `delete ${b.kind}` };
  }
  const part = bytes.slice(b.at, b.end);
  const times = Math.min(
    rng.chance(0.3) ? rng.logInt(5000) : 1,
    copiesUnder(ctx, bytes.length, part.length),
  );
  if (times < 1) return undefined;
  return {
    bytes: replaceRange(bytes, b.end, 0, repeatBytes(part, times)),
    note: `dup ${b.kind} x${times}`,
  };
}

/** Inserts an extension before the first block. */
function insertExtension(bytes: Uint8Array, ctx: MutationContext): Mutation | undefined {
  const { rng } = ctx;
  const blocks = parseGif(bytes);
  if (blocks.length === 0) return undefined;
  const kind = rng.pick(["gce", "loop", "comment"] as const);
  let ext: Uint8Array;
  if (kind === "gce") {
    ext = new Uint8Array([
      0x21,
      0xf9,
      4,
      rng.int(256),
      rng.int(256),
      rng.int(256),
      rng.int(256),
      0,
    ]);
  } else if (kind === "loop") {
    ext = new Uint8Array([
      0x21,
      0xff,
      11,
      ...new TextEncoder().encode("NETSCAPE2.0"),
      3,
      1,
      0,
      0,
      0,
    ]);
  } else {
    const count = Math.min(rng.logInt(20000), copiesUnder(ctx, bytes.length, 256));
    const sub = new Uint8Array(256).fill(0x41);
    sub[0] = 255;
    ext = new Uint8Array([0x21, 0xfe, ...repeatBytes(sub, count), 0]);
  }
  return { bytes: replaceRange(bytes, blocks[0].at, 0, ext), note: `insert ${kind}` };
}

/** Edits a sub-block length byte, or bytes of the LZW data inside a frame. */
function dataEdit(bytes: Uint8Array, ctx: MutationContext): Mutation | undefined {
  const { rng } = ctx;
  const images = parseGif(bytes).filter((b) => b.kind === "image" && b.end - b.data > 2);
  if (images.length === 0) return undefined;
  const frame = rng.pick(images);
  const out = bytes.slice();
  if (rng.chance(0.4)) {
    const value = rng.pick([0, 1, 2, 254, 255]);
    out[frame.data] = value;
    return { bytes: out, note: `sub-block length=${value}` };
  }
  const count = rng.logInt(32);
  for (let i = 0; i < count; i++) {
    out[frame.data + 1 + rng.int(frame.end - frame.data - 2)] = rng.int(256);
  }
  return { bytes: out, note: `${count} LZW bytes` };
}

function hotOffsets(bytes: Uint8Array): number[] {
  return [
    6,
    8,
    10,
    ...parseGif(bytes).flatMap((b) => b.kind === "image" ? [b.at + 5, b.at + 7, b.data] : [b.data]),
  ];
}

const mutators: Mutator[] = [
  { name: "gif.descriptor", weight: 4, apply: descriptorEdit },
  { name: "gif.block", weight: 2, apply: blockEdit },
  { name: "gif.extension", weight: 1, apply: insertExtension },
  { name: "gif.data", weight: 3, apply: dataEdit },
];

/** The GIF mutators and structure offsets. */
export const gif: FormatMutators = { mutators, hotOffsets };
