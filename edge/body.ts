/**
 * Getting the image out of a request without ever holding more than the body limit, nor more
 * than the bodies' byte budget, nor waiting on a client for ever: the media type and
 * `Content-Length` are checked before reading; a declared length is taken from the budget before
 * the first byte is read and a chunked body chunk by chunk; a body is cancelled as soon as it
 * passes the limit, when no bytes came for `bodyIdleMs`, or when it is not complete after
 * `bodyTimeoutMs`. A body that breaks off (the client went away) or does not parse (malformed
 * chunked encoding) is a 400 `BAD_BODY`.
 *
 * @module
 */
import { concatBytes, errorMessage, mediaType, withTimeout } from "../src/_util.ts";
import type { Hold } from "./budget.ts";
import type { EdgeConfig } from "./config.ts";
import { HttpError, overloaded } from "./errors.ts";

/** The settings reading a body obeys. */
export type BodyLimits = Pick<
  EdgeConfig,
  "maxBodyBytes" | "bodyIdleMs" | "bodyTimeoutMs" | "maxBufferedBytes" | "retryAfterSeconds"
>;

/** Raw image bodies: any `image/*`, or `application/octet-stream` (the bytes are sniffed). */
function isRawImageType(type: string): boolean {
  return type.startsWith("image/") || type === "application/octet-stream";
}

function tooLarge(limit: number, what: string): HttpError {
  return new HttpError(413, "BODY_TOO_LARGE", `${what} is over the limit of ${limit} bytes`);
}

/**
 * Checks what can be checked from the headers alone: a supported media type (415) and a
 * declared length within the limit (413).
 *
 * @throws {HttpError} 415 `UNSUPPORTED_MEDIA_TYPE`, 413 `BODY_TOO_LARGE`, 400 `BAD_LENGTH`.
 */
export function checkHeaders(request: Request, limit: number): void {
  const type = mediaType(request.headers.get("content-type"));
  if (type !== "multipart/form-data" && !isRawImageType(type)) {
    throw new HttpError(
      415,
      "UNSUPPORTED_MEDIA_TYPE",
      `send the image as the body with an image/* content type, or as multipart/form-data ` +
        `with a file field; got ${type ? JSON.stringify(type) : "no content type"}`,
    );
  }
  const declared = declaredLength(request);
  if (declared !== undefined && declared > limit) {
    throw tooLarge(limit, `body of ${declared} bytes`);
  }
}

/**
 * The `Content-Length` of a request: `undefined` without one; a list of equal values counts as
 * one (RFC 9110, 8.6). Deno's server answers a malformed one with a bare 400 before any handler
 * runs; other servers may pass it on.
 *
 * @throws {HttpError} 400 `BAD_LENGTH` for anything but digits (or a list of the same digits).
 */
export function declaredLength(request: Request): number | undefined {
  const header = request.headers.get("content-length");
  if (header === null) return undefined;
  const values = new Set(header.split(",").map((value) => value.trim()));
  const [value] = values;
  if (values.size !== 1 || !/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new HttpError(400, "BAD_LENGTH", `bad Content-Length ${JSON.stringify(header)}`);
  }
  return Number(value);
}

function overBudget(limits: BodyLimits, hold: Hold, count: number): HttpError {
  return overloaded(
    `${count} more bytes of body do not fit the ${limits.maxBufferedBytes} bytes that bodies ` +
      `may hold at once (this request holds ${hold.bytes})`,
    limits.retryAfterSeconds,
  );
}

/** Takes `count` bytes from the budget. @throws {HttpError} 503 when they do not fit. */
function take(hold: Hold, count: number, limits: BodyLimits): void {
  if (!hold.add(count)) throw overBudget(limits, hold, count);
}

/** The next chunk, within the idle and total timeouts; a broken body becomes `BAD_BODY`. */
async function nextChunk(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  limits: BodyLimits,
  deadline: number,
  received: number,
): Promise<ReadableStreamReadResult<Uint8Array>> {
  const left = deadline - performance.now();
  const idle = limits.bodyIdleMs < left;
  const timeout = () =>
    new HttpError(
      408,
      "BODY_TIMEOUT",
      idle
        ? `no body bytes for ${limits.bodyIdleMs} ms (${received} bytes received)`
        : `the body was not complete after ${limits.bodyTimeoutMs} ms (${received} bytes received)`,
    );
  try {
    return await withTimeout(reader.read(), Math.max(0, idle ? limits.bodyIdleMs : left), timeout);
  } catch (error) {
    if (error instanceof HttpError) throw error;
    throw new HttpError(
      400,
      "BAD_BODY",
      `the body broke off or does not parse after ${received} bytes: ${errorMessage(error)}`,
    );
  }
}

/**
 * Reads the whole body, counting bytes as they arrive and holding them in `hold` (a declared
 * `Content-Length` is held whole before the first byte is read).
 *
 * @throws {HttpError} 413 as soon as more than `maxBodyBytes` have arrived (the rest is not
 * read); 503 `OVERLOADED` when the bytes do not fit the budget; 408 `BODY_TIMEOUT`; 400
 * `BAD_BODY`. The body is cancelled on every failure.
 */
export async function readLimited(
  request: Request,
  limits: BodyLimits,
  hold: Hold,
): Promise<Uint8Array<ArrayBuffer>> {
  let held = declaredLength(request) ?? 0;
  take(hold, held, limits);
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const deadline = performance.now() + limits.bodyTimeoutMs;
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await nextChunk(reader, limits, deadline, total);
      if (done) break;
      total += value.byteLength;
      if (total > limits.maxBodyBytes) {
        throw tooLarge(limits.maxBodyBytes, `body (more than ${limits.maxBodyBytes} bytes so far)`);
      }
      if (total > held) {
        take(hold, total - held, limits);
        held = total;
      }
      chunks.push(value);
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    throw error;
  }
  return concatBytes(chunks);
}

/** The file of a form: the field named `file`, else the first file field. */
function pickFile(form: FormData): File {
  const named = form.get("file");
  if (named instanceof File) return named;
  for (const [, value] of form) if (value instanceof File) return value;
  throw new HttpError(400, "MISSING_FILE", "multipart/form-data body has no file field");
}

/**
 * The image bytes of a request whose headers passed {@linkcode checkHeaders}: the raw body, or
 * the file field of a `multipart/form-data` body (parsed only after the bounded read; the file's
 * copy is held in `hold` too).
 *
 * @throws {HttpError} as {@linkcode readLimited}; 400 for a form without a file or that does not
 * parse; 415 for a form file whose declared type is not an image.
 */
export async function readImage(
  request: Request,
  limits: BodyLimits,
  hold: Hold,
): Promise<Uint8Array> {
  const header = request.headers.get("content-type");
  const bytes = await readLimited(request, limits, hold);
  if (mediaType(header) !== "multipart/form-data") return bytes;
  let form: FormData;
  try {
    form = await new Response(bytes, { headers: { "content-type": header ?? "" } }).formData();
  } catch (error) {
    throw new HttpError(400, "BAD_FORM", `multipart/form-data body does not parse: ${error}`);
  }
  const file = pickFile(form);
  const type = mediaType(file.type);
  if (type !== "" && !isRawImageType(type)) {
    throw new HttpError(
      415,
      "UNSUPPORTED_MEDIA_TYPE",
      `the file field is ${JSON.stringify(type)}, not an image`,
    );
  }
  take(hold, file.size, limits);
  return new Uint8Array(await file.arrayBuffer());
}
