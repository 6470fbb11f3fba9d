/**
 * Fast JPEG decoding for the model input: libjpeg-turbo compiled to WebAssembly (embedded, so it
 * loads without file-system or network access), reduced in the DCT domain to the smallest
 * power-of-two size that still covers the model input, plus a marker reader that gets the size,
 * EXIF orientation and completeness of a JPEG without decoding it.
 *
 * ```ts
 * import { decodeJpeg } from "./mod.ts";
 * const bytes = await Deno.readFile("bench/fixtures/frame_1920x1080.jpg");
 * const image = await decodeJpeg(bytes, { minWidth: 224, minHeight: 224 });
 * // 1920x1080 -> image.width 480, image.height 270, image.scale 0.25, image.data RGB
 * ```
 *
 * @module
 */
export {
  chooseScale,
  type DecodedJpeg,
  decodeJpeg,
  type DecodeJpegOptions,
  type JpegScale,
  jpegWork,
  scaledSize,
} from "./decode.ts";
export { JpegError, type JpegErrorCode } from "./errors.ts";
export {
  frameBlocks,
  isJpeg,
  type JpegCoding,
  jpegEnd,
  type JpegInfo,
  type JpegPeek,
  type JpegSegment,
  jpegSegments,
  minimumScanBytes,
  peekJpegFrame,
  readJpegInfo,
} from "./header.ts";
export { loadTurbo as preloadJpegDecoder } from "./turbo.ts";
export {
  checkJpegWork,
  FALLBACK_WEIGHTS,
  fallbackWork,
  LIBJPEG_WEIGHTS,
  libjpegWork,
  MAX_JPEG_SCANS,
} from "./work.ts";
