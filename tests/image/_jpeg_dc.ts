/**
 * Test and bench helpers that write JPEGs without an encoder dependency: a DC-only baseline
 * encoder (every 8x8 block is flat, so a 12000x9000 "photo" is a few MB and is written in well
 * under a second), an EXIF orientation inserter, and an SOF size patcher for hostile headers.
 *
 * A DC-only JPEG decoded at 1/8 scale gives back exactly the block colours, so a small photo
 * scaled up block by block classifies like the photo itself.
 *
 * @module
 */
import { concatBytes } from "../../src/_util.ts";

/** Bit writer for entropy-coded data, with JPEG byte stuffing (FF -> FF 00). */
export class BitWriter {
  #bytes: Uint8Array;
  #length = 0;
  #acc = 0;
  #bits = 0;

  /** Starts empty, with room for `capacity` bytes (it grows as needed). */
  constructor(capacity = 1 << 16) {
    this.#bytes = new Uint8Array(capacity);
  }

  #byte(b: number): void {
    if (this.#length + 2 > this.#bytes.length) {
      const grown = new Uint8Array(this.#bytes.length * 2);
      grown.set(this.#bytes);
      this.#bytes = grown;
    }
    this.#bytes[this.#length++] = b;
    if (b === 0xff) this.#bytes[this.#length++] = 0;
  }

  write(value: number, count: number): void {
    for (let i = count - 1; i >= 0; i--) {
      this.#acc = (this.#acc << 1) | ((value >> i) & 1);
      if (++this.#bits === 8) {
        this.#byte(this.#acc);
        this.#acc = 0;
        this.#bits = 0;
      }
    }
  }

  finish(): Uint8Array {
    while (this.#bits !== 0) this.write(1, 1); // pad with ones
    return this.#bytes.slice(0, this.#length);
  }
}

/** A marker segment: FF, the marker, the 2-byte length, the payload. */
export function segment(marker: number, payload: number[] | Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + payload.length);
  out.set([0xff, marker, (payload.length + 2) >> 8, (payload.length + 2) & 255]);
  out.set(payload, 4);
  return out;
}

/** The headers of a 3-component 4:4:4 baseline JPEG with DC-only Huffman tables. */
function dcHeaders(width: number, height: number): Uint8Array[] {
  const dqt = segment(0xdb, [0, ...new Array(64).fill(8)]); // DC quantised by 8
  const sof = segment(0xc0, [
    8,
    height >> 8,
    height & 255,
    width >> 8,
    width & 255,
    3,
    ...[1, 2, 3].flatMap((id) => [id, 0x11, 0]),
  ]);
  const dcCounts = new Array(16).fill(0);
  dcCounts[3] = 12; // categories 0..11, all 4-bit codes
  const dht = segment(0xc4, [
    0x00,
    ...dcCounts,
    ...Array.from({ length: 12 }, (_, i) => i),
    0x10, // AC table 0: only end-of-block, a 1-bit code
    1,
    ...new Array(15).fill(0),
    0x00,
  ]);
  const sos = segment(0xda, [3, 1, 0, 2, 0, 3, 0, 0, 63, 0]);
  return [new Uint8Array([0xff, 0xd8]), dqt, sof, dht, sos];
}

/**
 * Encodes a baseline JPEG (4:4:4, YCbCr) whose 8x8 blocks are flat, each the colour
 * `block(bx, by)` returns as `[r, g, b]` (0..255).
 */
export function encodeDcJpeg(
  width: number,
  height: number,
  block: (bx: number, by: number) => readonly [number, number, number],
): Uint8Array {
  const bits = new BitWriter();
  const pred = [0, 0, 0];
  const bw = Math.ceil(width / 8);
  const bh = Math.ceil(height / 8);
  for (let by = 0; by < bh; by++) {
    for (let bx = 0; bx < bw; bx++) {
      const [r, g, b] = block(bx, by);
      const ycc = [
        0.299 * r + 0.587 * g + 0.114 * b,
        128 - 0.168736 * r - 0.331264 * g + 0.5 * b,
        128 + 0.5 * r - 0.418688 * g - 0.081312 * b,
      ];
      for (let c = 0; c < 3; c++) {
        const dc = Math.max(-128, Math.min(127, Math.round(ycc[c]) - 128)); // 8 * (v - 128) / 8
        const diff = dc - pred[c];
        pred[c] = dc;
        const size = diff === 0 ? 0 : 32 - Math.clz32(Math.abs(diff));
        bits.write(size, 4);
        if (size > 0) bits.write(diff < 0 ? diff - 1 + (1 << size) : diff, size);
        bits.write(0, 1); // end of block
      }
    }
  }
  return concatBytes([...dcHeaders(width, height), bits.finish(), new Uint8Array([0xff, 0xd9])]);
}

/**
 * A DC-only JPEG of `width x height` showing an RGB image scaled up by nearest neighbour, one
 * source pixel per `width / source.width` pixels (so 1/8 decoding gives the image back at
 * `width / 8` wide).
 */
export function upscaledJpeg(
  source: { data: ArrayLike<number>; width: number; height: number; channels: number },
  width: number,
  height: number,
): Uint8Array {
  const { data, channels } = source;
  const bw = Math.ceil(width / 8);
  const bh = Math.ceil(height / 8);
  return encodeDcJpeg(width, height, (bx, by) => {
    const x = Math.min(source.width - 1, Math.floor((bx * source.width) / bw));
    const y = Math.min(source.height - 1, Math.floor((by * source.height) / bh));
    const at = (y * source.width + x) * channels;
    return channels >= 3 ? [data[at], data[at + 1], data[at + 2]] : [data[at], data[at], data[at]];
  });
}

/** Returns a copy of a JPEG with an APP1 Exif segment holding `orientation` after the SOI. */
export function withExifOrientation(jpeg: Uint8Array, orientation: number): Uint8Array {
  const tiff = [
    0x49,
    0x49,
    42,
    0,
    8,
    0,
    0,
    0, // little-endian TIFF header, IFD0 at 8
    1,
    0, // one entry
    0x12,
    0x01,
    3,
    0,
    1,
    0,
    0,
    0,
    orientation,
    0,
    0,
    0, // Orientation, SHORT, 1 value
    0,
    0,
    0,
    0, // no next IFD
  ];
  const exif = [..."Exif\0\0"].map((c) => c.charCodeAt(0));
  return concatBytes([jpeg.subarray(0, 2), segment(0xe1, [...exif, ...tiff]), jpeg.subarray(2)]);
}

/** Returns a copy of a JPEG whose frame header (SOF) claims `width x height`. */
export function withSofSize(jpeg: Uint8Array, width: number, height: number): Uint8Array {
  const out = jpeg.slice();
  for (let i = 2; i + 9 < out.length;) {
    if (out[i] !== 0xff) throw new Error(`no marker at ${i}`);
    const marker = out[i + 1];
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      out.set([height >> 8, height & 255, width >> 8, width & 255], i + 5);
      return out;
    }
    i += 2 + ((out[i + 2] << 8) | out[i + 3]);
  }
  throw new Error("no SOF marker found");
}
