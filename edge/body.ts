/**
 * Getting the image out of a request without ever holding more than the body limit: the
 * media type and `Content-Length` are checked before reading, and a body without a length
 * (chunked) is counted while it streams in and cancelled as soon as it passes the limit.
 *
 * @module
 */
import { concatBytes } from "../src/_util.ts";
import { HttpError } from "./errors.ts";

/** The media type of a `Content-Type` header, lower case, without parameters ("" if none). */
export function mediaType(header: string | null): string {
  return (header ?? "").split(";")[0].trim().toLowerCase();
}

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
  const declared = request.headers.get("content-length");
  if (declared === null) return;
  if (!/^\d+$/.test(declared.trim())) {
    throw new HttpError(400, "BAD_LENGTH", `bad Content-Length ${JSON.stringify(declared)}`);
  }
  if (Number(declared) > limit) throw tooLarge(limit, `body of ${declared} bytes`);
}

/**
 * Reads the whole body, counting bytes as they arrive.
 *
 * @throws {HttpError} 413 as soon as more than `limit` bytes have arrived (the rest is not read).
 */
export async function readLimited(
  request: Request,
  limit: number,
): Promise<Uint8Array<ArrayBuffer>> {
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit, `body (more than ${limit} bytes so far)`);
    }
    chunks.push(value);
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
 * the file field of a `multipart/form-data` body (parsed only after the bounded read).
 *
 * @throws {HttpError} 413 over the limit; 400 for a form without a file or that does not parse;
 * 415 for a form file whose declared type is not an image.
 */
export async function readImage(request: Request, limit: number): Promise<Uint8Array> {
  const header = request.headers.get("content-type");
  const bytes = await readLimited(request, limit);
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
  return new Uint8Array(await file.arrayBuffer());
}
