/**
 * The checks in front of the GIF decoder: read the logical screen and the first frame's
 * descriptor, check both against the pixel budget, and refuse a frame whose LZW data is too
 * small to hold the pixels it claims, before the decoder allocates the canvas.
 *
 * @module
 */
import { ImageDecodeError } from "../errors.ts";
import { checkBudget, checkWork } from "./budget.ts";
import { checkSize } from "./pixels.ts";

/** What the GIF's headers say about the first frame. */
export interface GifInfo {
  /** Logical screen (canvas) width. */
  width: number;
  /** Logical screen height. */
  height: number;
  /** First frame's size and position on the screen. */
  frame: { x: number; y: number; width: number; height: number };
  /** LZW minimum code size of the first frame. */
  minCodeSize: number;
  /** Bytes of LZW data in the first frame's sub-blocks. */
  dataBytes: number;
  /** Extension blocks before the first frame. */
  extensions: number;
  /** Data sub-blocks up to the end of the first frame (each costs the decoder a step). */
  subBlocks: number;
}

/**
 * Work in pixel-equivalents (see `WORK_PER_PIXEL_BUDGET`) of imagescript's decoder, measured:
 * about 30 ns per pixel of the frame or the screen, 45 ns per data sub-block, 160 ns per
 * extension block. (A legitimate GIF at the full pixel budget: 100 M of the 134 M.)
 */
const PIXEL_WORK = 6, SUB_BLOCK_WORK = 16, EXTENSION_WORK = 32;

/** The decoder's work for the first frame, in pixel-equivalents. */
function decodeWork(info: GifInfo): number {
  const pixels = info.width * info.height + info.frame.width * info.frame.height;
  return pixels * PIXEL_WORK + info.subBlocks * SUB_BLOCK_WORK + info.extensions * EXTENSION_WORK;
}

const truncated = (where: string) =>
  new ImageDecodeError("TRUNCATED", `truncated GIF: the data ends ${where}`);

/**
 * Skips data sub-blocks from `at`; returns the offset after the terminator, the data size and
 * the number of sub-blocks.
 */
function skipSubBlocks(
  bytes: Uint8Array,
  at: number,
): { end: number; size: number; count: number } {
  let size = 0;
  for (let count = 0;; count++) {
    if (at >= bytes.length) throw truncated("inside a block");
    const n = bytes[at++];
    if (n === 0) return { end: at, size, count };
    size += n;
    at += n;
  }
}

const u16 = (bytes: Uint8Array, at: number) => bytes[at] | (bytes[at + 1] << 8);

/**
 * Reads the logical screen and the first frame of a GIF.
 *
 * @throws {ImageDecodeError} `TRUNCATED` when the data ends first, `CORRUPT` for a bad block or
 * a zero size
 */
export function readGifInfo(bytes: Uint8Array): GifInfo {
  if (bytes.length < 13) throw truncated("inside the header");
  const width = u16(bytes, 6);
  const height = u16(bytes, 8);
  let at = 13 + (bytes[10] & 0x80 ? 3 << ((bytes[10] & 7) + 1) : 0);
  let extensions = 0, subBlocks = 0;
  for (;;) {
    if (at >= bytes.length) throw truncated("before the first image");
    const kind = bytes[at];
    if (kind === 0x21) {
      const skipped = skipSubBlocks(bytes, at + 2);
      at = skipped.end;
      extensions++;
      subBlocks += skipped.count;
    } else if (kind === 0x2c) {
      if (at + 11 > bytes.length) throw truncated("inside an image descriptor");
      const frame = {
        x: u16(bytes, at + 1),
        y: u16(bytes, at + 3),
        width: u16(bytes, at + 5),
        height: u16(bytes, at + 7),
      };
      const packed = bytes[at + 9];
      at += 10 + (packed & 0x80 ? 3 << ((packed & 7) + 1) : 0);
      if (at >= bytes.length) throw truncated("before the image data");
      const minCodeSize = bytes[at];
      const { size, count } = skipSubBlocks(bytes, at + 1);
      if (width === 0 || height === 0 || frame.width === 0 || frame.height === 0) {
        throw new ImageDecodeError("CORRUPT", `corrupt GIF: zero size ${width}x${height}`);
      }
      subBlocks += count;
      return { width, height, frame, minCodeSize, dataBytes: size, extensions, subBlocks };
    } else {
      throw new ImageDecodeError(
        "CORRUPT",
        kind === 0x3b ? "corrupt GIF: no image before the trailer" : `corrupt GIF: block ${kind}`,
      );
    }
  }
}

/**
 * Checks a GIF before decoding: screen and first frame within the budget, a screen (what the
 * decode returns) at least 2x2, enough LZW data for the frame (each code, at least
 * `minCodeSize + 1` bits, stands for at most 4096 pixels), and the decoder's work within the
 * work budget.
 *
 * @throws {ImageDecodeError} `TOO_LARGE`, `TOO_SMALL`, `TRUNCATED`, `CORRUPT` or `TOO_COMPLEX`
 */
export function checkGif(bytes: Uint8Array, maxPixels: number): GifInfo {
  const info = readGifInfo(bytes);
  checkBudget("GIF", info.width, info.height, maxPixels, "canvas");
  checkBudget("GIF", info.frame.width, info.frame.height, maxPixels, "frame");
  checkSize(info);
  const codes = Math.floor((info.dataBytes * 8) / (Math.min(info.minCodeSize, 11) + 1));
  const pixels = info.frame.width * info.frame.height;
  if (codes * 4096 < pixels) {
    throw new ImageDecodeError(
      "TRUNCATED",
      `truncated GIF: a ${info.frame.width}x${info.frame.height} frame cannot come from ` +
        `${info.dataBytes} bytes of LZW data`,
    );
  }
  checkWork("GIF", decodeWork(info), maxPixels, `${info.subBlocks} sub-blocks`);
  return info;
}
