/**
 * The error classes mobilenet-edge throws for bad input, so callers can tell a bad image from a
 * bad model name from a broken weights file with `instanceof` and a stable `code`.
 *
 * Arguments of the wrong type or out of range throw the built-in `TypeError` / `RangeError`.
 *
 * @module
 */

/**
 * The base of the typed errors: a stable, machine-readable `code` beside the human-readable
 * message. `catch (e) { if (e instanceof CodedError) log(e.code) }` covers them all.
 *
 * @typeParam C the codes a subclass can carry
 * @example
 * ```ts
 * import { CodedError, ImageDecodeError } from "../mod.ts";
 * const error = new ImageDecodeError("EMPTY", "the image is empty (0 bytes)");
 * console.log(error instanceof CodedError, error.name, error.code); // true ImageDecodeError EMPTY
 * ```
 */
export abstract class CodedError<C extends string = string> extends Error {
  /** Machine-readable reason. */
  readonly code: C;

  /**
   * Creates the error.
   *
   * @param code machine-readable reason
   * @param message what went wrong, naming the input (file, tensor, flag) where there is one
   * @param options the underlying cause, if any
   */
  constructor(code: C, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** Why an image could not be decoded. */
export type ImageDecodeErrorCode =
  | "EMPTY"
  | "UNSUPPORTED_FORMAT"
  | "TRUNCATED"
  | "CORRUPT"
  | "TOO_SMALL"
  | "TOO_LARGE"
  | "TOO_COMPLEX";

/**
 * The bytes given as an image are empty, not an image, damaged (`TRUNCATED` also covers a file
 * whose header claims more pixels than it carries), too small to classify, over the pixel
 * budget (`TOO_LARGE`, see `maxPixels`), or would cost more work to decode than the work budget
 * allows (`TOO_COMPLEX`: too many scans, strips, tiles or chunks for the pixels they make; the
 * budget scales with `maxPixels`).
 */
export class ImageDecodeError extends CodedError<ImageDecodeErrorCode> {
  /** The class's name (set explicitly: bundlers may rename classes). */
  override readonly name = "ImageDecodeError";
}

/**
 * A model name that is neither a bundled model nor a path or URL to a weights manifest (code
 * `UNKNOWN_MODEL`).
 */
export class UnknownModelError extends CodedError<"UNKNOWN_MODEL"> {
  /** The class's name (set explicitly: bundlers may rename classes). */
  override readonly name = "UnknownModelError";
  /** The name that was asked for. */
  readonly model: string;
  /** The names of the bundled models. */
  readonly available: readonly string[];

  /** Creates the error for `model`, listing what is available. */
  constructor(model: string, available: readonly string[]) {
    super(
      "UNKNOWN_MODEL",
      `unknown model ${JSON.stringify(model)}: expected one of ${
        available.join(", ")
      }, or a path or URL to a weights directory or manifest.json`,
    );
    this.model = model;
    this.available = available;
  }
}

/** Why a set of weights could not be loaded. */
export type WeightsErrorCode =
  | "NOT_FOUND"
  | "BAD_MANIFEST"
  | "UNSUPPORTED_VERSION"
  | "HASH_MISMATCH"
  | "TRUNCATED"
  | "SHAPE_MISMATCH"
  | "MISSING_TENSOR"
  | "NETWORK"
  | "BAD_SOURCE"
  | "TIMEOUT";

/** A weights manifest or shard is missing, malformed, corrupt, or does not fit the model. */
export class WeightsError extends CodedError<WeightsErrorCode> {
  /** The class's name (set explicitly: bundlers may rename classes). */
  override readonly name = "WeightsError";
}

/**
 * A call on a model that was disposed: made after `dispose()`, or still in flight (decoding, or
 * waiting for streamed weights) when `dispose()` ran. Such a call never touches the freed
 * weights.
 */
export class ModelDisposedError extends CodedError<"DISPOSED"> {
  /** The class's name (set explicitly: bundlers may rename classes). */
  override readonly name = "ModelDisposedError";

  /** Creates the error (code `DISPOSED`); the default message says the model was disposed. */
  constructor(message = "this MobileNet has been disposed", options?: ErrorOptions) {
    super("DISPOSED", message, options);
  }
}
