/**
 * Applying an EXIF orientation (1..8) to decoded pixels, so the model sees the picture upright,
 * as a photo viewer shows it. Cheap: it runs on the already reduced pixels.
 *
 * @module
 */
import type { Pixels } from "./pixels.ts";

/** Whether the EXIF orientation tag is applied ("exif") or the pixels are used as stored. */
export type OrientationMode = "exif" | "ignore";

/** The orientation modes, for validation and help texts. */
export const ORIENTATION_MODES: readonly OrientationMode[] = ["exif", "ignore"];

/**
 * Checks an orientation option.
 *
 * @throws {RangeError} unless it is "exif" or "ignore"
 */
export function checkOrientationMode(mode: unknown): OrientationMode {
  if (!ORIENTATION_MODES.includes(mode as OrientationMode)) {
    throw new RangeError(
      `orientation must be one of ${ORIENTATION_MODES.join(", ")}, got ${JSON.stringify(mode)}`,
    );
  }
  return mode as OrientationMode;
}

/** Whether an orientation swaps width and height (5..8: a transpose or a quarter turn). */
export function swapsAxes(orientation: number): boolean {
  return orientation >= 5 && orientation <= 8;
}

/**
 * Returns the pixels as displayed for an EXIF orientation: 1 as stored, 2 mirrored, 3 turned
 * 180 degrees, 4 flipped vertically, 5 transposed, 6 turned 90 degrees clockwise, 7
 * transversed, 8 turned 90 degrees counter-clockwise. Orientation 1 (or any value outside
 * 2..8) returns `pixels` itself.
 */
export function orientPixels(pixels: Pixels, orientation: number): Pixels {
  if (!Number.isInteger(orientation) || orientation < 2 || orientation > 8) return pixels;
  const { data, width: w, height: h, channels } = pixels;
  // The source pixel of output (x, y) is base + x * dx + y * dy (in pixels).
  const [base, dx, dy] = ({
    2: [w - 1, -1, w],
    3: [(h - 1) * w + w - 1, -1, -w],
    4: [(h - 1) * w, 1, -w],
    5: [0, w, 1],
    6: [(h - 1) * w, -w, 1],
    7: [(h - 1) * w + w - 1, -w, -1],
    8: [w - 1, w, -1],
  } as Record<number, [number, number, number]>)[orientation];
  const swap = swapsAxes(orientation);
  const outWidth = swap ? h : w;
  const outHeight = swap ? w : h;
  const out = new Uint8Array(data.length);
  let o = 0;
  for (let y = 0; y < outHeight; y++) {
    let s = base + y * dy;
    for (let x = 0; x < outWidth; x++, s += dx) {
      const at = s * channels;
      for (let c = 0; c < channels; c++) out[o++] = data[at + c];
    }
  }
  return { data: out, width: outWidth, height: outHeight, channels };
}
