/**
 * The typed error ingest sources and sinks raise: a stable `code` per kind of failure, and a
 * message that never holds credentials.
 *
 * @module
 */

/**
 * Why a source or sink failed. `CONTENT_TYPE`: a camera answered something that is never an
 * image (`text/html`: a login or error page); `PROTOCOL`: a stream breaks its format (an MJPEG
 * boundary over 70 characters, oversized part headers).
 */
export type IngestErrorCode =
  | "HTTP_STATUS"
  | "CONTENT_TYPE"
  | "TIMEOUT"
  | "NETWORK"
  | "PROTOCOL"
  | "TOO_LARGE"
  | "AUTH"
  | "ENDED";

/** A camera, broker or webhook failed; the ingest loop logs it, waits and retries. */
export class IngestSourceError extends Error {
  /** Machine-readable reason. */
  readonly code: IngestErrorCode;
  /** The HTTP status, for `HTTP_STATUS` and `CONTENT_TYPE`. */
  readonly status?: number;

  /** Creates the error with a reason code and a message that names the problem. */
  constructor(
    code: IngestErrorCode,
    message: string,
    options?: ErrorOptions & { status?: number },
  ) {
    super(message, options);
    this.name = "IngestSourceError";
    this.code = code;
    this.status = options?.status;
  }
}

/** The code of an error for state logging: the typed code, else the error's name. */
export function errorCode(error: unknown): string {
  if (error instanceof IngestSourceError) return error.code;
  if (error instanceof Error) {
    const code = (error as Error & { code?: unknown }).code;
    return typeof code === "string" ? code : error.name;
  }
  return "ERROR";
}
