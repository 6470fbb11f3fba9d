/**
 * EXIF orientation: reading the tag from an EXIF (TIFF-structured) block, as JPEG's APP1 and
 * PNG's eXIf chunk carry it.
 *
 * @module
 */

/**
 * Reads the orientation tag (0x0112) of IFD0 from an EXIF TIFF block at `start..end`.
 *
 * @param bytes the file
 * @param start where the TIFF header ("II" or "MM") starts
 * @param end where the block ends
 * @returns the orientation 1..8; 1 when it is missing or malformed
 */
export function readExifOrientation(bytes: Uint8Array, start: number, end: number): number {
  if (end - start < 8) return 1;
  const little = bytes[start] === 0x49 && bytes[start + 1] === 0x49; // "II"
  const big = bytes[start] === 0x4d && bytes[start + 1] === 0x4d; // "MM"
  if (!little && !big) return 1;
  const u16 = (at: number) =>
    little ? bytes[at] | (bytes[at + 1] << 8) : (bytes[at] << 8) | bytes[at + 1];
  const u32 = (at: number) =>
    little
      ? (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0
      : ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
  if (u16(start + 2) !== 42) return 1;
  const ifd = start + u32(start + 4);
  if (ifd < start + 8 || ifd + 2 > end) return 1;
  const entries = u16(ifd);
  for (let k = 0; k < entries; k++) {
    const e = ifd + 2 + 12 * k;
    if (e + 12 > end) return 1;
    if (u16(e) === 0x0112) {
      const type = u16(e + 2);
      const value = type === 3 ? u16(e + 8) : type === 4 ? u32(e + 8) : 0;
      return value >= 1 && value <= 8 ? value : 1;
    }
  }
  return 1;
}
