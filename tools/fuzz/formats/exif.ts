/**
 * A small EXIF (TIFF) block holding one Orientation entry, for the PNG eXIf and JPEG APP1
 * mutators; now and then its IFD offset, entry count, type or value count is an edge value.
 *
 * @module
 */
import { interesting, type MutationContext, writeUint } from "../mutator.ts";

/** A TIFF-in-EXIF block with one Orientation entry, sometimes with a broken IFD. */
export function exifOrientation(orientation: number, { rng }: MutationContext): Uint8Array {
  const little = rng.chance(0.5);
  const out = new Uint8Array(26);
  out.set(little ? [0x49, 0x49, 42, 0] : [0x4d, 0x4d, 0, 42]);
  writeUint(out, 4, 4, rng.chance(0.9) ? 8 : interesting(rng, 4), little);
  writeUint(out, 8, 2, rng.chance(0.9) ? 1 : interesting(rng, 2), little);
  writeUint(out, 10, 2, 0x112, little);
  writeUint(out, 12, 2, rng.chance(0.9) ? 3 : rng.int(20), little);
  writeUint(out, 14, 4, rng.chance(0.9) ? 1 : interesting(rng, 4), little);
  writeUint(out, 18, 2, orientation, little);
  return out;
}
