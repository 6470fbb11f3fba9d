/**
 * The development photos used as camera frames, with their labels (from the wnid-named file
 * names: `n02504458_African_elephant.JPEG` -> "African elephant"), and JPEG helpers.
 *
 * @module
 */
import jpegJs from "npm:jpeg-js@0.4.4";
import { readImage } from "../_fixtures.ts";
import { concatBytes } from "../../src/_util.ts";

/** Photos the 0.75 model classifies right with a clear margin. */
export const PHOTOS = [
  "n02504458_African_elephant.JPEG",
  "n02391049_zebra.JPEG",
  "n02510455_giant_panda.JPEG",
  "n06874185_traffic_light.JPEG",
  "n04540053_volleyball.JPEG",
  "n01440764_tench.JPEG",
  "n03196217_digital_clock.JPEG",
  "n02948072_candle.JPEG",
];

/** The label a photo's file name gives. */
export function labelOf(file: string): string {
  return file.replace(/^n\d+_/, "").replace(/\.\w+$/, "").replaceAll("_", " ");
}

/** A photo's bytes and label. */
export interface Photo {
  file: string;
  label: string;
  bytes: Uint8Array;
}

/** Reads the photos. */
export async function readPhotos(files = PHOTOS): Promise<Photo[]> {
  return await Promise.all(
    files.map(async (file) => ({ file, label: labelOf(file), bytes: await readImage(file) })),
  );
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  return concatBytes(parts);
}

/** A JPEG with an extra segment (marker `0xffXX`, payload) right after its start marker. */
export function withSegment(jpeg: Uint8Array, marker: number, payload: Uint8Array): Uint8Array {
  const length = payload.length + 2;
  const header = new Uint8Array([0xff, marker, length >> 8, length & 0xff]);
  return concat(jpeg.subarray(0, 2), header, payload, jpeg.subarray(2));
}

/** A JPEG with a comment segment of `n` bytes: the same image, a different byte count. */
export function padded(jpeg: Uint8Array, n: number): Uint8Array {
  return n === 0 ? jpeg : withSegment(jpeg, 0xfe, new Uint8Array(n).fill(0x41));
}

/** A small synthetic JPEG (a gradient, `width`x`height`), encoded with jpeg-js. */
export function syntheticJpeg(width: number, height: number, shade = 0): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      data[i] = (x * 255) / width;
      data[i + 1] = (y * 255) / height;
      data[i + 2] = shade;
      data[i + 3] = 255;
    }
  }
  return new Uint8Array(jpegJs.encode({ data, width, height }, 80).data);
}
