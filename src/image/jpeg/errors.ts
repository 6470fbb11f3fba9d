/**
 * The error type of the JPEG path: one class, {@linkcode JpegError}, whose `code` tells the caller
 * whether the bytes are not a JPEG, cut short, damaged, or a JPEG this decoder does not handle (so
 * that it can fall back to a slower general decoder).
 *
 * @module
 */
import { CodedError } from "../../errors.ts";

/**
 * Why a JPEG could not be read or decoded.
 *
 * - `"NOT_JPEG"`: empty input or no JPEG start-of-image marker (garbage, PNG, ...).
 * - `"TRUNCATED"`: the data ends before the end-of-image marker (inside a header or a scan).
 * - `"CORRUPT"`: a JPEG whose markers or entropy-coded data are invalid.
 * - `"UNSUPPORTED"`: a valid JPEG of a kind this decoder does not handle (arithmetic coding,
 *   lossless or hierarchical JPEG, 12/16-bit samples, unusual component counts, too large).
 */
export type JpegErrorCode = "NOT_JPEG" | "TRUNCATED" | "CORRUPT" | "UNSUPPORTED";

/** An error of the JPEG reader or decoder, with a machine-readable {@linkcode JpegErrorCode}. */
export class JpegError extends CodedError<JpegErrorCode> {
  /** The class's name (set explicitly: bundlers may rename classes). */
  override readonly name = "JpegError";
}
