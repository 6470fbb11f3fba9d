/**
 * The error classes mobilenet-edge throws for bad input, so callers can tell a bad image from a
 * bad model name from a broken weights file with `instanceof` and a stable `code`.
 *
 * Arguments of the wrong type or out of range throw the built-in `TypeError` / `RangeError`.
 *
 * @module
 */

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
export class ImageDecodeError extends Error {
  /** Machine-readable reason. */
  readonly code: ImageDecodeErrorCode;

  /** Creates the error with a reason code and a message that names the problem. */
  constructor(code: ImageDecodeErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ImageDecodeError";
    this.code = code;
  }
}

/** A model name that is neither a bundled model nor a path or URL to a weights manifest. */
export class UnknownModelError extends Error {
  /** The name that was asked for. */
  readonly model: string;
  /** The names of the bundled models. */
  readonly available: readonly string[];

  /** Creates the error for `model`, listing what is available. */
  constructor(model: string, available: readonly string[]) {
    super(
      `unknown model ${JSON.stringify(model)}: expected one of ${
        available.join(", ")
      }, or a path or URL to a weights directory or manifest.json`,
    );
    this.name = "UnknownModelError";
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
export class WeightsError extends Error {
  /** Machine-readable reason. */
  readonly code: WeightsErrorCode;

  /** Creates the error with a reason code and a message that names the file or tensor. */
  constructor(code: WeightsErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "WeightsError";
    this.code = code;
  }
}

/** Why a model refused a call because of its lifetime. */
export type ModelDisposedErrorCode = "DISPOSED";

/**
 * A call on a model that was disposed: made after `dispose()`, or still in flight (decoding, or
 * waiting for streamed weights) when `dispose()` ran. Such a call never touches the freed
 * weights.
 */
export class ModelDisposedError extends Error {
  /** Machine-readable reason: always `"DISPOSED"`. */
  readonly code: ModelDisposedErrorCode = "DISPOSED";

  /** Creates the error; the default message says the model was disposed. */
  constructor(message = "this MobileNet has been disposed", options?: ErrorOptions) {
    super(message, options);
    this.name = "ModelDisposedError";
  }
}
