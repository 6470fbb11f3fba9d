/**
 * JPEG-aware mutators: marker segments duplicated (a scan and its entropy-coded data copied up
 * to 20,000 times: the progressive scan bomb), deleted or moved; frame header (SOF) sizes,
 * precision, components and sampling factors set to edge values, and its marker changed
 * (progressive, lossless, arithmetic); scan (SOS) selectors and progressive parameters (Ss, Se,
 * Ah, Al) edited; DHT and DQT tables edited; restart intervals and EXIF orientations added.
 *
 * @module
 */
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

/** A marker segment `[at, end)`: for a scan, its entropy-coded data is included. */
export interface JpegSegment {
  at: number;
  end: number;
  marker: number;
}

const STANDALONE = (m: number) => m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd9);
const isSof = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

/** The end of the entropy-coded data that starts at `p` (the next marker other than RSTn). */
function entropyEnd(bytes: Uint8Array, p: number): number {
  for (; p + 1 < bytes.length; p++) {
    if (bytes[p] !== 0xff) continue;
    const next = bytes[p + 1];
    if (next !== 0 && next !== 0xff && !(next >= 0xd0 && next <= 0xd7)) return p;
  }
  return bytes.length;
}

/** The segments of a JPEG, from SOI up to EOI or the first byte that is not a marker. */
export function parseJpeg(bytes: Uint8Array): JpegSegment[] {
  const segments: JpegSegment[] = [];
  let p = 0;
  while (p + 1 < bytes.length && bytes[p] === 0xff) {
    while (p + 2 < bytes.length && bytes[p + 1] === 0xff) p++;
    const marker = bytes[p + 1];
    if (STANDALONE(marker)) {
      segments.push({ at: p, end: p + 2, marker });
      if (marker === 0xd9) break;
      p += 2;
      continue;
    }
    if (p + 4 > bytes.length) break;
    let end = Math.min(bytes.length, p + 2 + readUint(bytes, p + 2, 2, false));
    if (marker === 0xda) end = entropyEnd(bytes, end);
    segments.push({ at: p, end, marker });
    p = end;
  }
  return segments;
}

function pickSegment(
  segments: JpegSegment[],
  ctx: MutationContext,
  want: (m: number) => boolean,
): JpegSegment | undefined {
  const found = segments.filter((s) => want(s.marker));
  return found.length > 0 ? ctx.rng.pick(found) : undefined;
}

/** Duplicates (now and then thousands of times), deletes or moves one segment. */
function segmentEdit(bytes: Uint8Array, ctx: MutationContext): Mutation | undefined {
  const { rng } = ctx;
  const segments = parseJpeg(bytes);
  const scans = rng.chance(0.5);
  const s = pickSegment(segments, ctx, (m) => scans ? m === 0xda : m !== 0xd8);
  if (!s) return undefined;
  const op = rng.weighted([[3, "dup"], [1, "delete"], [1, "move"]] as const);
  const part = bytes.slice(s.at, s.end);
  if (op === "dup") {
    const many = rng.chance(s.marker === 0xda ? 0.2 : 0.05);
    const times = Math.min(
      many ? rng.logInt(20000) : 1,
      copiesUnder(ctx, bytes.length, part.length),
    );
    if (times < 1) return undefined;
    return {
      bytes: replaceRange(bytes, s.end, 0, repeatBytes(part, times)),
      note: `dup ${s.marker.toString(16)}@${s.at} x${times}`,
    };
  }
  const cut = replaceRange(bytes, s.at, s.end - s.at);
  if (op === "delete") return { bytes: cut, note: `delete ${s.marker.toString(16)}@${s.at}` };
  const rest = parseJpeg(cut);
  const to = rest.length > 1 ? rng.pick(rest.slice(1)).at : Math.min(2, cut.length);
  return { bytes: replaceRange(cut, to, 0, part), note: `move ${s.marker.toString(16)} to ${to}` };
}

const SOF_MARKERS = [0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xcf];
const SIDES = [0, 1, 2, 7, 8, 9, 16, 17, 224, 1024, 4096, 5792, 8192, 16384, 65500, 65535];
const SAMPLING = [0x00, 0x11, 0x12, 0x21, 0x22, 0x14, 0x41, 0x44, 0x13, 0x31, 0x55, 0xff];

/** Edits one field of the frame header. */
function sofEdit(bytes: Uint8Array, ctx: MutationContext): Mutation | undefined {
  const { rng } = ctx;
  const s = pickSegment(parseJpeg(bytes), ctx, isSof);
  if (!s || s.end - s.at < 10) return undefined;
  const out = bytes.slice();
  const field = rng.pick(["marker", "precision", "height", "width", "count", "sampling", "table"]);
  let value: number;
  if (field === "marker") {
    value = rng.pick(SOF_MARKERS);
    out[s.at + 1] = value;
  } else if (field === "precision") {
    value = rng.pick([0, 1, 2, 8, 12, 16, 255]);
    out[s.at + 4] = value;
  } else if (field === "height" || field === "width") {
    value = rng.pick(SIDES);
    writeUint(out, s.at + (field === "height" ? 5 : 7), 2, value, false);
  } else if (field === "count") {
    value = rng.pick([0, 1, 2, 3, 4, 5, 255]);
    out[s.at + 9] = value;
  } else {
    const components = Math.max(1, Math.floor((s.end - s.at - 10) / 3));
    const at = s.at + 10 + 3 * rng.int(components) + (field === "sampling" ? 1 : 2);
    if (at >= s.end) return undefined;
    value = field === "sampling" ? rng.pick(SAMPLING) : rng.pick([0, 1, 2, 3, 4, 255]);
    out[at] = value;
  }
  return { bytes: out, note: `SOF ${field}=${value}` };
}

/** Edits one field of a scan header: component count, selectors, Ss, Se, Ah/Al. */
function sosEdit(bytes: Uint8Array, ctx: MutationContext): Mutation | undefined {
  const { rng } = ctx;
  const s = pickSegment(parseJpeg(bytes), ctx, (m) => m === 0xda);
  if (!s) return undefined;
  const length = readUint(bytes, s.at + 2, 2, false);
  const headerEnd = Math.min(s.end, s.at + 2 + length);
  if (headerEnd - s.at < 8) return undefined;
  const out = bytes.slice();
  const field = rng.pick(["count", "selector", "tables", "ss", "se", "ahal"]);
  const tail = headerEnd - 3; // Ss, Se, Ah/Al
  const at = field === "count"
    ? s.at + 4
    : field === "selector" || field === "tables"
    ? Math.min(tail - 1, s.at + 5 + 2 * rng.int(4) + (field === "tables" ? 1 : 0))
    : tail + ["ss", "se", "ahal"].indexOf(field);
  const values: Record<string, number[]> = {
    count: [0, 1, 2, 3, 4, 5, 255],
    selector: [0, 1, 2, 3, 4, 255],
    tables: [0x00, 0x01, 0x10, 0x11, 0x22, 0x44, 0xff],
    ss: [0, 1, 5, 63, 64, 255],
    se: [0, 1, 5, 62, 63, 64, 255],
    ahal: [0x00, 0x01, 0x10, 0x11, 0x0d, 0xd0, 0x0f, 0xf0, 0xff],
  };
  const value = rng.pick(values[field]);
  out[at] = value;
  return { bytes: out, note: `SOS ${field}=${value}` };
}

/** Edits a DHT or DQT table: its class and id byte, a count, or a value. */
function tableEdit(bytes: Uint8Array, ctx: MutationContext): Mutation | undefined {
  const { rng } = ctx;
  const s = pickSegment(parseJpeg(bytes), ctx, (m) => m === 0xc4 || m === 0xdb);
  if (!s || s.end - s.at < 6) return undefined;
  const out = bytes.slice();
  const op = rng.pick(["id", "count", "value"]);
  let at = s.at + 4;
  let value: number;
  if (op === "id") {
    value = rng.pick([0x00, 0x01, 0x02, 0x03, 0x04, 0x10, 0x11, 0x13, 0x20, 0xff]);
  } else if (op === "count" && s.marker === 0xc4) {
    at = s.at + 5 + rng.int(16);
    value = rng.pick([0, 1, 2, 16, 128, 255]);
  } else {
    at = s.at + 5 + rng.int(Math.max(1, s.end - s.at - 5));
    value = rng.pick([0, 1, 2, 127, 128, 255]);
  }
  if (at >= s.end) return undefined;
  out[at] = value;
  return { bytes: out, note: `${s.marker === 0xc4 ? "DHT" : "DQT"} ${op}@${at - s.at}=${value}` };
}

/** Inserts a DRI (restart interval) segment, or an APP1 EXIF with an orientation, after SOI. */
function insertSegment(bytes: Uint8Array, ctx: MutationContext): Mutation | undefined {
  const { rng } = ctx;
  if (bytes.length < 2) return undefined;
  if (rng.chance(0.5)) {
    const interval = rng.pick([0, 1, 2, 3, 8, 255, 65535]);
    const dri = new Uint8Array([0xff, 0xdd, 0, 4, interval >> 8, interval & 255]);
    return { bytes: replaceRange(bytes, 2, 0, dri), note: `DRI ${interval}` };
  }
  const orientation = rng.pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 255, 65535]);
  const tiff = exifOrientation(orientation, ctx);
  const app1 = new Uint8Array(4 + 6 + tiff.length);
  app1.set([0xff, 0xe1, (app1.length - 2) >> 8, (app1.length - 2) & 255]);
  app1.set([0x45, 0x78, 0x69, 0x66, 0, 0], 4);
  app1.set(tiff, 10);
  return { bytes: replaceRange(bytes, 2, 0, app1), note: `EXIF orientation ${orientation}` };
}

function hotOffsets(bytes: Uint8Array): number[] {
  return parseJpeg(bytes).flatMap((s) =>
    STANDALONE(s.marker) ? [] : isSof(s.marker) ? [s.at + 2, s.at + 5, s.at + 7] : [s.at + 2]
  );
}

const mutators: Mutator[] = [
  { name: "jpeg.segment", weight: 4, apply: segmentEdit },
  { name: "jpeg.sof", weight: 3, apply: sofEdit },
  { name: "jpeg.sos", weight: 3, apply: sosEdit },
  { name: "jpeg.table", weight: 2, apply: tableEdit },
  { name: "jpeg.insert", weight: 1, apply: insertSegment },
];

/** The JPEG mutators and structure offsets. */
export const jpeg: FormatMutators = { mutators, hotOffsets };
