/**
 * The checks in front of the GIF decoder: read the logical screen and the first frame's
 * descriptor, check both against the pixel budget, and refuse a frame whose LZW data is too
 * small to hold the pixels it claims, before the decoder allocates the canvas.
 *
 * @module
 */
import { ImageDecodeError } from "../errors.ts";
import { checkBudget } from "./budget.ts";

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
}

const truncated = (where: string) =>
  new ImageDecodeError("TRUNCATED", `truncated GIF: the data ends ${where}`);

/** Skips data sub-blocks from `at`; returns the offset after the terminator and the data size. */
function skipSubBlocks(bytes: Uint8Array, at: number): { end: number; size: number } {
  let size = 0;
  for (;;) {
    if (at >= bytes.length) throw truncated("inside a block");
    const n = bytes[at++];
    if (n === 0) return { end: at, size };
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
  for (;;) {
    if (at >= bytes.length) throw truncated("before the first image");
    const kind = bytes[at];
    if (kind === 0x21) {
      at = skipSubBlocks(bytes, at + 2).end;
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
      const { size } = skipSubBlocks(bytes, at + 1);
      if (width === 0 || height === 0 || frame.width === 0 || frame.height === 0) {
        throw new ImageDecodeError("CORRUPT", `corrupt GIF: zero size ${width}x${height}`);
      }
      return { width, height, frame, minCodeSize, dataBytes: size };
    } else {
      throw new ImageDecodeError(
        "CORRUPT",
        kind === 0x3b ? "corrupt GIF: no image before the trailer" : `corrupt GIF: block ${kind}`,
      );
    }
  }
}

/**
 * Checks a GIF before decoding: screen and first frame within the budget, and enough LZW data
 * for the frame (each code, at least `minCodeSize + 1` bits, stands for at most 4096 pixels).
 *
 * @throws {ImageDecodeError} `TOO_LARGE`, `TRUNCATED` or `CORRUPT`
 */
export function checkGif(bytes: Uint8Array, maxPixels: number): GifInfo {
  const info = readGifInfo(bytes);
  checkBudget("GIF", info.width, info.height, maxPixels, "canvas");
  checkBudget("GIF", info.frame.width, info.frame.height, maxPixels, "frame");
  const codes = Math.floor((info.dataBytes * 8) / (Math.min(info.minCodeSize, 11) + 1));
  const pixels = info.frame.width * info.frame.height;
  if (codes * 4096 < pixels) {
    throw new ImageDecodeError(
      "TRUNCATED",
      `truncated GIF: a ${info.frame.width}x${info.frame.height} frame cannot come from ` +
        `${info.dataBytes} bytes of LZW data`,
    );
  }
  return info;
}
