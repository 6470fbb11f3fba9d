/**
 * The typed error of heads: a head file that cannot be read, is malformed, corrupt, too large or
 * made for another model, and examples a head cannot be taught from.
 *
 * @module
 */
import { CodedError } from "../errors.ts";

/** Why a head could not be loaded, applied or taught. */
export type HeadErrorCode =
  | "NOT_FOUND"
  | "NETWORK"
  | "TOO_LARGE"
  | "BAD_HEAD"
  | "UNSUPPORTED_VERSION"
  | "CORRUPT"
  | "MODEL_MISMATCH"
  | "BAD_EXAMPLES";

/**
 * A head file is missing (`NOT_FOUND`) or unreachable (`NETWORK`), over the size limit
 * (`TOO_LARGE`), not a head this code reads (`BAD_HEAD`, `UNSUPPORTED_VERSION`), changed since it
 * was written (`CORRUPT`: its contents no longer match its own hash), or taught on other weights
 * than the model's (`MODEL_MISMATCH`); or the examples given to teach cannot make a head
 * (`BAD_EXAMPLES`: a missing folder, one class only, an empty class).
 */
export class HeadError extends CodedError<HeadErrorCode> {
  /** The class's name (set explicitly: bundlers may rename classes). */
  override readonly name = "HeadError";
}
