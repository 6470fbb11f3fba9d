/**
 * Reading a head file from a path or a URL, bounded: a file over the limit is refused as soon as
 * the limit is passed, before it is parsed.
 *
 * @module
 */
import { HeadError } from "./errors.ts";
import { MAX_HEAD_BYTES } from "./format.ts";
import { errorMessage, readAtMost } from "../_util.ts";

function tooLarge(where: string, limit: number): () => HeadError {
  return () => new HeadError("TOO_LARGE", `${where} is over the head file limit of ${limit} bytes`);
}

async function readUrl(url: URL, limit: number): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new HeadError("NETWORK", `${url.href}: ${errorMessage(error)}`, { cause: error });
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    const code = response.status === 404 || response.status === 410 ? "NOT_FOUND" : "NETWORK";
    throw new HeadError(code, `${url.href}: HTTP ${response.status}`);
  }
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (declared > limit) {
    await response.body.cancel();
    throw tooLarge(url.href, limit)();
  }
  return await readAtMost(response.body, limit, tooLarge(url.href, limit));
}

async function readFile(path: string | URL, limit: number): Promise<Uint8Array> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new HeadError("NOT_FOUND", `head file ${String(path)} does not exist`);
  }
  return await readAtMost(file.readable, limit, tooLarge(String(path), limit));
}

/**
 * Reads and parses the head file at `source`: a path, or a `file:`, `http:` or `https:` URL
 * (a string starting so, or a `URL`).
 *
 * @throws {HeadError} `NOT_FOUND`, `NETWORK`, `TOO_LARGE`, or `BAD_HEAD` when it is not JSON.
 */
export async function readHeadSource(
  source: string | URL,
  maxBytes = MAX_HEAD_BYTES,
): Promise<unknown> {
  const url = source instanceof URL
    ? source
    : /^(https?|file):/i.test(source)
    ? new URL(source)
    : undefined;
  const bytes = url && url.protocol !== "file:"
    ? await readUrl(url, maxBytes)
    : await readFile(url ?? (source as string), maxBytes);
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    throw new HeadError("BAD_HEAD", `${String(source)} is not JSON: ${errorMessage(error)}`);
  }
}
