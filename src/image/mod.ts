/**
 * Image decoding alone, without the model: what `decodeImage` of the main entry is, for code
 * that only decodes (a decode worker, a thumbnailer) and should not load tfjs and the network.
 * The same functions and errors as `mod.ts` exports.
 *
 * @example
 * ```ts
 * import { decodeImage } from "./mod.ts";
 *
 * const bytes = await Deno.readFile("samples/african_elephant.jpg");
 * const { width, height, channels } = await decodeImage(bytes);
 * console.log(width, height, channels);
 * ```
 *
 * @module
 */
export { decodeImage, type DecodeOptions } from "./decode.ts";
export type { Pixels } from "./pixels.ts";
export type { OrientationMode } from "./orientation.ts";
export { CodedError, ImageDecodeError, type ImageDecodeErrorCode } from "../errors.ts";
