/**
 * The image file names the commands pick out of a folder: the formats `decodeImage` reads, by
 * extension. A leaf module (no decoder is loaded with it).
 *
 * @module
 */

/** The file name extensions of the formats `decodeImage` reads (lower case). */
export const IMAGE_EXTENSIONS: readonly string[] = [
  ".jpg",
  ".jpeg",
  ".png",
  ".gif",
  ".tif",
  ".tiff",
];

/**
 * Whether a file name ends with one of {@linkcode IMAGE_EXTENSIONS}, in any case.
 *
 * @example
 * ```ts
 * import { isImageFileName } from "./formats.ts";
 * isImageFileName("IMG_0001.JPG"); // true
 * isImageFileName("notes.txt"); // false
 * ```
 */
export function isImageFileName(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((extension) => lower.endsWith(extension));
}
