/**
 * The typed error of heads: a head file that cannot be read, is malformed, corrupt, too large or
 * made for another model, and examples a head cannot be taught from.
 *
 * @module
 */

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
export class HeadError extends Error {
  /** Machine-readable reason. */
  readonly code: HeadErrorCode;

  /** Creates the error with a reason code and a message that names the problem. */
  constructor(code: HeadErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "HeadError";
    this.code = code;
  }
}
