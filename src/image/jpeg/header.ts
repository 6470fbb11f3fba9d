/**
 * A small JPEG marker reader: walks the marker segments of a JPEG without decoding it, returns its
 * size, components, coding process, Adobe colour transform and EXIF orientation, and checks that
 * the data is complete (every scan ends in a marker and an end-of-image marker follows).
 *
 * It exists so that the decoder can choose a DCT scaling factor before decoding, and so that a
 * truncated or non-JPEG input fails with a clear {@linkcode JpegError} instead of decoding to a
 * partly grey picture (libjpeg only warns about premature ends).
 *
 * @module
 */
import { JpegError } from "./errors.ts";
import { readExifOrientation } from "../exif.ts";
import { countScan, type JpegScanHeader, scanBlocks, type ScanCounts } from "./work.ts";

/** How the frame is coded, from its SOF marker. */
export type JpegCoding = "baseline" | "extended" | "progressive";

/** What {@linkcode readJpegInfo} learns from the markers of a JPEG. */
export interface JpegInfo {
  /** Width in pixels (SOF). */
  width: number;
  /** Height in pixels (SOF). */
  height: number;
  /** Number of colour components: 1 (grey), 3 (YCbCr or RGB) or 4 (CMYK or YCCK). */
  components: 1 | 3 | 4;
  /** Sampling factors `[h, v]` of each component, in frame order (e.g. 4:2:0 = [[2,2],[1,1],[1,1]]). */
  sampling: [number, number][];
  /** Huffman-coded process: baseline (SOF0), extended sequential (SOF1) or progressive (SOF2). */
  coding: JpegCoding;
  /** Number of scans (SOS markers); 1 for a usual baseline JPEG, several for progressive. */
  scans: number;
  /**
   * Blocks libjpeg visits, summed over the scans (a one-component scan visits that component's
   * blocks, an interleaved scan whole MCUs): the scans' share of the work budget.
   */
  blockVisits: number;
  /** Blocks times band width, summed over the AC refinement scans (each refines every coefficient). */
  refinedCoefficients: number;
  /** Restart interval in MCUs from the first DRI marker; 0 when there are no restart markers. */
  restartInterval: number;
  /** Whether a JFIF APP0 segment is present. */
  jfif: boolean;
  /** Adobe APP14 colour transform (0 none/RGB/CMYK, 1 YCbCr, 2 YCCK), or `undefined` without one. */
  adobeTransform: number | undefined;
  /**
   * EXIF orientation 1..8 (1 = upright, also when there is no EXIF or the tag is missing or
   * invalid). Reported only: the decoder does not rotate.
   */
  orientation: number;
  /** Bytes of entropy-coded data in all scans (stuffed bytes and restart markers included). */
  scanBytes: number;
  /** Offset just past the end-of-image marker; bytes after it are ignored. */
  end: number;
}

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const DRI = 0xdd;
const APP0 = 0xe0;
const APP1 = 0xe1;
const APP14 = 0xee;

/** Names of the SOF markers that this decoder does not support, by marker byte. */
const UNSUPPORTED_SOF: Record<number, string> = {
  0xc3: "lossless",
  0xc5: "differential sequential (hierarchical)",
  0xc6: "differential progressive (hierarchical)",
  0xc7: "differential lossless (hierarchical)",
  0xc9: "arithmetic-coded extended sequential",
  0xca: "arithmetic-coded progressive",
  0xcb: "arithmetic-coded lossless",
  0xcd: "arithmetic-coded differential sequential",
  0xce: "arithmetic-coded differential progressive",
  0xcf: "arithmetic-coded differential lossless",
};

/** Whether the first bytes are a JPEG start-of-image marker followed by a marker (FF D8 FF). */
export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === SOI && bytes[2] === 0xff;
}

/** A marker segment met walking a JPEG (see {@linkcode jpegSegments}). */
export interface JpegSegment {
  /** The marker's second byte: 0xDA for SOS, 0xD9 for EOI, ... */
  marker: number;
  /** Offset of the payload (after the length field); for EOI, just past the marker. */
  start: number;
  /** Offset just past the payload; for EOI, just past the marker. */
  end: number;
  /** Scans (SOS segments) met before this segment. */
  scans: number;
  /** Bytes of entropy-coded data in those scans (stuffed bytes and restart markers included). */
  scanBytes: number;
}

/**
 * Walks the marker segments of a JPEG from its start-of-image marker to its end-of-image marker
 * (EOI, the last segment yielded), stepping over each segment by its length and over each
 * scan's entropy-coded data. Fill bytes, TEM and stray restart markers are skipped. The one walk
 * of the module's JPEG structure: {@linkcode readJpegInfo} reads the segments, and
 * {@linkcode jpegEnd} finds where the image ends.
 *
 * @throws {JpegError} `NOT_JPEG` for empty input or no SOI marker; `TRUNCATED` when the data
 * ends before EOI (inside a segment or a scan); `CORRUPT` where a marker must be and is not, for
 * an SOI or FF 00 marker, or a segment length under 2.
 */
export function* jpegSegments(bytes: Uint8Array): Generator<JpegSegment, void, void> {
  const n = bytes.length;
  if (n === 0) throw new JpegError("NOT_JPEG", "empty input: 0 bytes");
  if (n < 2 || bytes[0] !== 0xff || bytes[1] !== SOI) {
    throw new JpegError("NOT_JPEG", "not a JPEG: no start-of-image marker (FF D8)");
  }
  let scans = 0;
  let scanBytes = 0;
  let pos = 2;
  for (;;) {
    if (pos >= n) throw truncated(scans);
    if (bytes[pos] !== 0xff) {
      throw new JpegError("CORRUPT", `corrupt JPEG: expected a marker at offset ${pos}`);
    }
    while (pos < n && bytes[pos] === 0xff) pos++; // 0xFF fill bytes may precede a marker
    if (pos >= n) throw truncated(scans);
    const marker = bytes[pos++];
    if (marker === EOI) {
      yield { marker, start: pos, end: pos, scans, scanBytes };
      return;
    }
    if (marker === SOI || marker === 0x00) {
      throw new JpegError(
        "CORRUPT",
        `corrupt JPEG: unexpected marker FF ${hex(marker)} at ${pos - 2}`,
      );
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue; // TEM, stray RSTn
    if (pos + 2 > n) throw truncated(scans);
    const length = (bytes[pos] << 8) | bytes[pos + 1];
    if (length < 2) {
      throw new JpegError(
        "CORRUPT",
        `corrupt JPEG: segment FF ${hex(marker)} has length ${length}`,
      );
    }
    if (pos + length > n) throw truncated(scans);
    yield { marker, start: pos + 2, end: pos + length, scans, scanBytes };
    pos += length;
    if (marker === SOS) {
      scans++;
      const dataEnd = entropyEnd(bytes, pos);
      if (dataEnd < 0) throw truncated(scans);
      scanBytes += dataEnd - pos;
      pos = dataEnd;
    }
  }
}

/**
 * Where a JPEG ends: the offset just past its end-of-image marker, found by walking its segments
 * and scans ({@linkcode jpegSegments}: an FF D9 inside an EXIF thumbnail or a segment is not
 * taken for it; bytes after it, such as padding, are left out), or -1 when the data stops before
 * it (a file still being written, a stream cut short).
 *
 * @throws {JpegError} `NOT_JPEG` or `CORRUPT` as {@linkcode jpegSegments}: bytes that are not a
 * JPEG's structure, which more data cannot complete.
 * @example
 * ```ts
 * import { jpegEnd } from "./header.ts";
 * const jpeg = await Deno.readFile("samples/african_elephant.jpg");
 * jpegEnd(jpeg) === jpeg.length; // true: complete, nothing after EOI
 * jpegEnd(jpeg.subarray(0, 1000)); // -1: not complete yet
 * ```
 */
export function jpegEnd(bytes: Uint8Array): number {
  try {
    for (const segment of jpegSegments(bytes)) if (segment.marker === EOI) return segment.end;
  } catch (error) {
    if (error instanceof JpegError && error.code === "TRUNCATED") return -1;
    throw error;
  }
  return -1; // not reached: the walk ends with EOI or throws
}

/** What the segments before EOI say, gathered by {@linkcode readSegment}. */
interface Gathered {
  frame?: Frame;
  counts: ScanCounts;
  restartInterval: number;
  jfif: boolean;
  adobeTransform: number | undefined;
  orientation: number;
}

/**
 * Reads the markers of a JPEG: size, components, coding, EXIF orientation, and checks that the
 * data is complete. Does not decode the image. Runs in well under a millisecond for a camera
 * frame (the entropy-coded data is skipped with `indexOf`).
 *
 * @param bytes the whole JPEG file
 * @returns what the markers say
 * @throws {JpegError} `NOT_JPEG` for empty input or no SOI marker; `TRUNCATED` when the data ends
 *   before the EOI marker (inside a segment or a scan); `CORRUPT` for invalid markers or segment
 *   lengths, a missing frame header or scan; `UNSUPPORTED` for arithmetic, lossless or
 *   hierarchical JPEGs, sample precision other than 8 bits, 2 components, or a height given by a
 *   DNL marker.
 */
export function readJpegInfo(bytes: Uint8Array): JpegInfo {
  const got: Gathered = {
    counts: { scans: 0, blockVisits: 0, refinedCoefficients: 0 },
    restartInterval: -1,
    jfif: false,
    adobeTransform: undefined,
    orientation: 1,
  };
  for (const segment of jpegSegments(bytes)) {
    if (segment.marker !== EOI) {
      readSegment(bytes, segment, got);
      continue;
    }
    const { frame, counts } = got;
    if (!frame) throw new JpegError("CORRUPT", "corrupt JPEG: end of image before a frame header");
    if (counts.scans === 0) {
      throw new JpegError("CORRUPT", "corrupt JPEG: end of image before any scan");
    }
    checkCarried(frame, segment.scanBytes);
    const { ids: _, ...shape } = frame;
    return {
      ...shape,
      ...counts,
      restartInterval: Math.max(got.restartInterval, 0),
      jfif: got.jfif,
      adobeTransform: got.adobeTransform,
      orientation: got.orientation,
      scanBytes: segment.scanBytes,
      end: segment.end,
    };
  }
  throw truncated(0); // not reached: the walk ends with EOI or throws
}

/** Reads one segment before EOI into `got`: the frame, a scan's work, DRI, JFIF, EXIF, Adobe. */
function readSegment(bytes: Uint8Array, { marker, start, end }: JpegSegment, got: Gathered): void {
  if (isFrameMarker(marker)) {
    const kind = UNSUPPORTED_SOF[marker];
    if (kind) {
      throw new JpegError("UNSUPPORTED", `unsupported JPEG: ${kind} (SOF FF ${hex(marker)})`);
    }
    if (got.frame) throw new JpegError("CORRUPT", "corrupt JPEG: more than one frame header");
    got.frame = readFrame(bytes, start, end, marker);
  } else if (marker === SOS) {
    if (!got.frame) throw new JpegError("CORRUPT", "corrupt JPEG: scan before the frame header");
    countScan(got.counts, got.frame, readScan(bytes, start, end, got.frame.ids), false);
  } else if (marker === DRI) {
    if (end - start !== 2) throw new JpegError("CORRUPT", "corrupt JPEG: bad DRI segment length");
    if (got.restartInterval < 0) got.restartInterval = (bytes[start] << 8) | bytes[start + 1];
  } else if (marker === APP0) {
    if (isAscii(bytes, start, end, "JFIF\0")) got.jfif = true;
  } else if (marker === APP1) {
    if (isAscii(bytes, start, end, "Exif\0\0")) {
      got.orientation = readExifOrientation(bytes, start + 6, end);
    }
  } else if (marker === APP14) {
    if (
      got.adobeTransform === undefined && end - start >= 12 &&
      isAscii(bytes, start, end, "Adobe")
    ) {
      got.adobeTransform = bytes[start + 11];
    }
  }
}

/** The frame header, with the component ids that scans refer to. */
type Frame = Pick<JpegInfo, "width" | "height" | "components" | "sampling" | "coding"> & {
  ids: number[];
};

/**
 * The number of 8x8 blocks a frame codes: for each component, its share of the image (by its
 * sampling factors) in blocks.
 */
export function frameBlocks(frame: Pick<JpegInfo, "width" | "height" | "sampling">): number {
  let blocks = 0;
  for (let c = 0; c < frame.sampling.length; c++) blocks += scanBlocks(frame, [c], false);
  return blocks;
}

/**
 * The fewest bytes of entropy-coded data a complete frame can have: every block's DC value is
 * coded in some scan with a Huffman code of at least one bit.
 */
export function minimumScanBytes(frame: Pick<JpegInfo, "width" | "height" | "sampling">): number {
  return Math.ceil(frameBlocks(frame) / 8);
}

/**
 * Refuses a frame whose scans are too short to code every block: a header that claims far more
 * pixels than the file carries (a 20000x20000 frame header on a 2x2 image, say).
 */
function checkCarried(frame: Frame, scanBytes: number): void {
  const needed = minimumScanBytes(frame);
  if (scanBytes < needed) {
    throw new JpegError(
      "TRUNCATED",
      `truncated JPEG: a ${frame.width}x${frame.height} frame needs at least ${needed} bytes ` +
        `of image data; its scans hold ${scanBytes}`,
    );
  }
}

/** What {@linkcode peekJpegFrame} finds. */
export interface JpegPeek extends ScanCounts {
  /** The first frame header's size and sampling, if one was found before the first scan. */
  frame?: Pick<JpegInfo, "width" | "height" | "sampling">;
  /** EXIF orientation from an APP1 segment before the first scan (1 when absent). */
  orientation: number;
  /** Bytes of entropy-coded data, and of stray bytes between segments. */
  dataBytes: number;
}

/**
 * A lenient walk over the whole file for the fallback decoder (imagescript's jpeg-decoder),
 * reading the markers as it does: stray bytes before a marker are skipped, and so are markers
 * it would refuse. It finds the frame size (of any SOF kind, arithmetic and lossless too), the
 * EXIF orientation, and counts every scan that decoder could decode, with the blocks it would
 * walk (whole MCUs) and the bytes it would read: an upper bound of its work. A scan whose header
 * cannot be read counts as one over every component. Never throws; stops where that decoder
 * must stop (end of image, a segment running past the end, a scan before the frame).
 */
export function peekJpegFrame(bytes: Uint8Array): JpegPeek {
  const n = bytes.length;
  const peek: JpegPeek = {
    orientation: 1,
    scans: 0,
    blockVisits: 0,
    refinedCoefficients: 0,
    dataBytes: 0,
  };
  let frame: ReturnType<typeof peekFrame>;
  for (let pos = 2;;) {
    const ff = bytes.indexOf(0xff, pos);
    if (ff < 0) break;
    peek.dataBytes += ff - pos; // skipped, as jpeg-decoder skips them
    pos = ff;
    while (pos < n && bytes[pos] === 0xff) pos++;
    if (pos + 3 > n) break;
    const marker = bytes[pos++];
    if (marker === EOI) break;
    if (marker === 0x00 || marker === 0x01 || marker === SOI || (marker & 0xf8) === 0xd0) continue;
    const end = pos + ((bytes[pos] << 8) | bytes[pos + 1]);
    if (end > n || end < pos + 2) break;
    if (marker === SOS) {
      if (!frame) break;
      const all = { components: frame.sampling.map((_, i) => i), ss: 0, se: 63, ah: 0, al: 0 };
      countScan(peek, frame, peekScan(bytes, pos + 2, end, frame.ids) ?? all, true);
      const data = entropyEnd(bytes, end);
      pos = data < 0 ? n : data;
      peek.dataBytes += pos - end;
      continue;
    }
    if (isFrameMarker(marker) && !frame) {
      frame = peekFrame(bytes, pos + 2, end);
      if (!frame) break;
      peek.frame = { width: frame.width, height: frame.height, sampling: frame.sampling };
    } else if (marker === APP1 && peek.scans === 0 && isAscii(bytes, pos + 2, end, "Exif\0\0")) {
      peek.orientation = readExifOrientation(bytes, pos + 8, end);
    }
    pos = end;
  }
  return peek;
}

/** Whether a marker is a start of frame (SOF0..SOF15 but DHT, JPG, DAC). */
function isFrameMarker(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 &&
    marker !== 0xcc;
}

/** An SOF payload at `start..end` read leniently, or `undefined` when it is too short. */
function peekFrame(bytes: Uint8Array, start: number, end: number) {
  const count = bytes[start + 5];
  if (end - start < 6 + 3 * count || count === 0) return undefined;
  const sampling: [number, number][] = [];
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const hv = bytes[start + 7 + 3 * i];
    sampling.push([Math.max(1, hv >> 4), Math.max(1, hv & 15)]);
    ids.push(bytes[start + 6 + 3 * i]);
  }
  const height = (bytes[start + 1] << 8) | bytes[start + 2];
  const width = (bytes[start + 3] << 8) | bytes[start + 4];
  return { width, height, sampling, ids };
}

/** An SOS payload read leniently, or `undefined` when it does not name the frame's components. */
function peekScan(
  bytes: Uint8Array,
  start: number,
  end: number,
  ids: number[],
): JpegScanHeader | undefined {
  try {
    return readScan(bytes, start, end, ids);
  } catch {
    return undefined;
  }
}

/** Reads an SOF segment; `start..end` is its payload. */
function readFrame(bytes: Uint8Array, start: number, end: number, marker: number): Frame {
  if (end - start < 6) throw new JpegError("CORRUPT", "corrupt JPEG: frame header too short");
  const precision = bytes[start];
  const height = (bytes[start + 1] << 8) | bytes[start + 2];
  const width = (bytes[start + 3] << 8) | bytes[start + 4];
  const count = bytes[start + 5];
  if (precision !== 8) {
    throw new JpegError("UNSUPPORTED", `unsupported JPEG: ${precision}-bit samples (only 8-bit)`);
  }
  if (height === 0) {
    throw new JpegError("UNSUPPORTED", "unsupported JPEG: height defined by a DNL marker");
  }
  if (width === 0) throw new JpegError("CORRUPT", "corrupt JPEG: frame width is 0");
  if (count !== 1 && count !== 3 && count !== 4) {
    throw new JpegError("UNSUPPORTED", `unsupported JPEG: ${count} colour components`);
  }
  if (end - start < 6 + 3 * count) {
    throw new JpegError("CORRUPT", "corrupt JPEG: frame header too short");
  }
  const sampling: [number, number][] = [];
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const hv = bytes[start + 7 + 3 * i];
    const h = hv >> 4;
    const v = hv & 15;
    if (h < 1 || h > 4 || v < 1 || v > 4) {
      throw new JpegError("CORRUPT", `corrupt JPEG: sampling factors ${h}x${v}`);
    }
    sampling.push([h, v]);
    ids.push(bytes[start + 6 + 3 * i]);
  }
  const coding: JpegCoding = marker === 0xc0
    ? "baseline"
    : marker === 0xc1
    ? "extended"
    : "progressive";
  return { width, height, components: count as 1 | 3 | 4, sampling, coding, ids };
}

/**
 * Reads an SOS segment (`start..end` is its payload) as libjpeg does: 1 to 4 components, each a
 * component of the frame.
 */
function readScan(bytes: Uint8Array, start: number, end: number, ids: number[]): JpegScanHeader {
  const count = bytes[start];
  if (count < 1 || count > 4 || end - start !== 4 + 2 * count) {
    throw new JpegError("CORRUPT", `corrupt JPEG: bad scan header (${count} components)`);
  }
  const components: number[] = [];
  for (let i = 0; i < count; i++) {
    const index = ids.indexOf(bytes[start + 1 + 2 * i]);
    if (index < 0 || components.includes(index)) {
      throw new JpegError("CORRUPT", "corrupt JPEG: a scan names a component the frame lacks");
    }
    components.push(index);
  }
  const at = start + 1 + 2 * count;
  return {
    components,
    ss: bytes[at],
    se: bytes[at + 1],
    ah: bytes[at + 2] >> 4,
    al: bytes[at + 2] & 15,
  };
}

/**
 * The end of the entropy-coded data of a scan that starts at `pos`: the offset of the marker
 * (of its first fill byte) that ends it, or -1 when the data runs to the end. Stuffed bytes
 * (FF 00) and restart markers (FF D0..D7) belong to the scan.
 */
function entropyEnd(bytes: Uint8Array, pos: number): number {
  const n = bytes.length;
  for (;;) {
    const i = bytes.indexOf(0xff, pos);
    if (i < 0) return -1;
    let j = i + 1;
    while (j < n && bytes[j] === 0xff) j++;
    if (j >= n) return -1;
    const next = bytes[j];
    if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) {
      pos = j + 1;
      continue;
    }
    return j - 1;
  }
}

function isAscii(bytes: Uint8Array, start: number, end: number, text: string): boolean {
  if (end - start < text.length) return false;
  for (let i = 0; i < text.length; i++) {
    if (bytes[start + i] !== text.charCodeAt(i)) return false;
  }
  return true;
}

function truncated(scans: number): JpegError {
  return new JpegError(
    "TRUNCATED",
    scans > 0
      ? `truncated JPEG: data ends inside scan ${scans} or before the end-of-image marker`
      : "truncated JPEG: data ends inside the headers",
  );
}

function hex(byte: number): string {
  return byte.toString(16).toUpperCase().padStart(2, "0");
}
