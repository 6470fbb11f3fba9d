/**
 * Errors to HTTP: every failure becomes a JSON body `{"error": {"code", "message"}}` with the
 * status that says whose fault it is. The library's {@linkcode ImageDecodeError} codes map by
 * code (a code this table does not know yet gets 422, as any undecodable image does).
 *
 * @module
 */
import { ImageDecodeError } from "../mod.ts";

/** A failure with a status, a stable code and extra headers (`Allow`, `Retry-After`). */
export class HttpError extends Error {
  /** HTTP status. */
  readonly status: number;
  /** Machine-readable reason, e.g. `BODY_TOO_LARGE`. */
  readonly code: string;
  /** Headers to send with the error. */
  readonly headers: Readonly<Record<string, string>>;

  /** Creates the error. */
  constructor(
    status: number,
    code: string,
    message: string,
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

/**
 * Status of each {@linkcode ImageDecodeError} code: a format we do not decode is unsupported
 * media (415); empty, truncated, corrupt, too small or over the pixel budget is unprocessable
 * (422).
 */
export const DECODE_ERROR_STATUS: Readonly<Record<string, number>> = Object.freeze({
  EMPTY: 422,
  UNSUPPORTED_FORMAT: 415,
  TRUNCATED: 422,
  CORRUPT: 422,
  TOO_SMALL: 422,
  TOO_LARGE: 422,
  TOO_COMPLEX: 422,
});

/** Status for a decode error code; 422 for codes added to the library later. */
export function decodeErrorStatus(code: string): number {
  return DECODE_ERROR_STATUS[code] ?? 422;
}

/** A JSON response with no caching. */
export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      ...headers,
    },
  });
}

/** The error body. */
export function errorBody(
  code: string,
  message: string,
): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

/**
 * Turns anything thrown while handling a request into a response. Unexpected errors are logged
 * and answered with 500 and a generic message (no stack traces to clients).
 */
export function errorResponse(error: unknown): Response {
  if (error instanceof HttpError) {
    return json(error.status, errorBody(error.code, error.message), { ...error.headers });
  }
  if (error instanceof ImageDecodeError) {
    return json(decodeErrorStatus(error.code), errorBody(error.code, error.message));
  }
  console.error("edge: unexpected error:", error);
  return json(500, errorBody("INTERNAL", "internal error; see the server log"));
}
