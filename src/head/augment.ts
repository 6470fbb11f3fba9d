/**
 * Extra views of an example for teaching: a mirror image, darker and brighter light, and
 * smaller zones. Which ones `teach` uses by default was chosen on evidence
 * (`bench/teach_eval.ts`: docs/custom-classes.md, "Measured").
 *
 * @module
 */
import type { Pixels } from "../image/pixels.ts";
import type { Zone } from "../image/preprocess.ts";

/** The extra views: `flip` (mirror), `light` (x0.7 and x1.3), `crop` (two 85% zones). */
export type Augmentation = "flip" | "light" | "crop";

/** Every augmentation, for validation. */
export const AUGMENTATIONS: readonly Augmentation[] = ["flip", "light", "crop"];

/** One view of an example: pixels, and the zone to cut from them. */
export interface View {
  /** The pixels. */
  pixels: Pixels;
  /** The zone, if any. */
  zone: Zone | undefined;
}

/** The whole frame, as a zone. */
export const WHOLE_FRAME: Zone = { x: 0, y: 0, width: 1, height: 1 };

function mirror(pixels: Pixels): Pixels {
  const { data, width, height, channels } = pixels;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++) {
    const row = y * width * channels;
    for (let x = 0; x < width; x++) {
      const from = row + (width - 1 - x) * channels;
      out.set(data.subarray(from, from + channels), row + x * channels);
    }
  }
  return { data: out, width, height, channels };
}

function relight(pixels: Pixels, gain: number): Pixels {
  const { data, channels } = pixels;
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    // alpha (the 4th channel) is left alone
    out[i] = channels === 4 && i % 4 === 3 ? data[i] : Math.min(255, Math.round(data[i] * gain));
  }
  return { ...pixels, data: out };
}

/** `zone` shrunk to `share` of its sides, anchored at its top-left (`at` 0) or bottom-right (1). */
function shrink(zone: Zone, share: number, at: 0 | 1): Zone {
  const width = zone.width * share, height = zone.height * share;
  return {
    x: zone.x + at * (zone.width - width),
    y: zone.y + at * (zone.height - height),
    width,
    height,
  };
}

/** The plain view first, then the augmented ones, in a fixed order. */
export function views(
  pixels: Pixels,
  zone: Zone | undefined,
  augment: readonly Augmentation[],
): View[] {
  const out: View[] = [{ pixels, zone }];
  if (augment.includes("flip")) {
    const z = zone && { ...zone, x: Math.max(0, 1 - zone.x - zone.width) };
    out.push({ pixels: mirror(pixels), zone: z });
  }
  if (augment.includes("light")) {
    out.push({ pixels: relight(pixels, 0.7), zone }, { pixels: relight(pixels, 1.3), zone });
  }
  if (augment.includes("crop")) {
    out.push(
      { pixels, zone: shrink(zone ?? WHOLE_FRAME, 0.85, 0) },
      { pixels, zone: shrink(zone ?? WHOLE_FRAME, 0.85, 1) },
    );
  }
  return out;
}

/** How many views {@linkcode views} makes per example. */
export function viewCount(augment: readonly Augmentation[]): number {
  return 1 + (augment.includes("flip") ? 1 : 0) + (augment.includes("light") ? 2 : 0) +
    (augment.includes("crop") ? 2 : 0);
}
