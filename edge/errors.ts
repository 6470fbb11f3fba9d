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
 * 503 `OVERLOADED` with `Retry-After`: no slot, no queue place, or no room in the bodies' byte
 * budget.
 */
export function overloaded(message: string, retryAfterSeconds: number): HttpError {
  return new HttpError(503, "OVERLOADED", `busy: ${message}`, {
    "retry-after": String(retryAfterSeconds),
  });
}

/**
 * The codes of client failures an operator wants to see (a body that broke off or does not
 * parse, a client too slow to send its body): logged in one line, without a stack.
 */
export const LOGGED_CODES: ReadonlySet<string> = new Set(["BAD_BODY", "BODY_TIMEOUT"]);

/**
 * Turns anything thrown while handling a request into a response. {@linkcode LOGGED_CODES} are
 * logged in one line naming `what` (e.g. `POST /v1/classify`); unexpected errors are logged with
 * their stack and answered with 500 and a generic message (no stack traces to clients).
 */
export function errorResponse(error: unknown, what = "request"): Response {
  if (error instanceof HttpError) {
    if (LOGGED_CODES.has(error.code)) {
      console.warn(`edge: ${what}: ${error.status} ${error.code}: ${error.message}`);
    }
    return json(error.status, errorBody(error.code, error.message), { ...error.headers });
  }
  if (error instanceof ImageDecodeError) {
    return json(decodeErrorStatus(error.code), errorBody(error.code, error.message));
  }
  console.error(`edge: ${what}: unexpected error:`, error);
  return json(500, errorBody("INTERNAL", "internal error; see the server log"));
}
