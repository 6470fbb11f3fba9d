/**
 * HTTP plumbing shared by the snapshot and MJPEG sources: a request with a connect timeout
 * (until the response headers arrive) and body reads with a read timeout (per chunk, so a
 * camera that hangs mid-stream is noticed), both as typed {@linkcode IngestSourceError}s.
 *
 * @module
 */
import { concatBytes, errorMessage } from "../../_util.ts";
import { IngestSourceError } from "../errors.ts";
import type { FetchLike, HttpAuth } from "../auth/http_auth.ts";

/** Options of {@linkcode openHttp}. */
export interface OpenOptions {
  /** Milliseconds until the response headers must have arrived. */
  connectTimeoutMs: number;
  /** Aborts the request and any body read. */
  signal: AbortSignal;
  /** The fetch to use. */
  fetch?: FetchLike;
}

/**
 * Sends a GET and returns the response with status 200, its body still to read; `abort`
 * ends the request (and its body) early.
 *
 * @throws {IngestSourceError} `TIMEOUT`, `NETWORK`, or `HTTP_STATUS` (the body is discarded).
 */
export async function openHttp(
  url: URL,
  auth: HttpAuth,
  options: OpenOptions,
): Promise<{ response: Response; abort: () => void }> {
  const controller = new AbortController();
  const abort = () => controller.abort();
  options.signal.addEventListener("abort", abort, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, options.connectTimeoutMs);
  const release = () => {
    options.signal.removeEventListener("abort", abort);
    controller.abort();
  };
  let response: Response;
  try {
    response = await auth.fetch(url, { signal: controller.signal }, options.fetch);
  } catch (error) {
    release();
    if (timedOut) {
      throw new IngestSourceError("TIMEOUT", `no response within ${options.connectTimeoutMs} ms`);
    }
    throw new IngestSourceError("NETWORK", `request failed: ${errorMessage(error)}`, {
      cause: error,
    });
  } finally {
    clearTimeout(timer);
  }
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => {});
    release();
    throw new IngestSourceError(
      "HTTP_STATUS",
      `HTTP ${response.status} ${response.statusText}`.trim(),
      { status: response.status },
    );
  }
  return { response, abort: release };
}

/** A timer this late (ms) fired after the event loop was blocked, not after real silence. */
const LATE_MS = 25;

/**
 * The chunks of a body, each awaited at most `readTimeoutMs`.
 *
 * @throws {IngestSourceError} `TIMEOUT` when a chunk takes longer; `NETWORK` when the
 * connection fails.
 */
export async function* readChunks(
  body: ReadableStream<Uint8Array>,
  readTimeoutMs: number,
): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  try {
    for (;;) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<"timeout">((resolve) => {
        // A timer that fires late means the event loop was busy (a long inference): data may
        // be waiting unread, so look once more before calling the stream hung.
        const arm = (ms: number) => {
          const due = Date.now() + ms;
          timer = setTimeout(() => {
            if (Date.now() - due > LATE_MS) arm(Math.min(ms, LATE_MS));
            else resolve("timeout");
          }, ms);
        };
        arm(readTimeoutMs);
      });
      let result: ReadableStreamReadResult<Uint8Array> | "timeout";
      try {
        result = await Promise.race([reader.read(), timeout]);
      } catch (error) {
        throw new IngestSourceError("NETWORK", `read failed: ${errorMessage(error)}`, {
          cause: error,
        });
      } finally {
        clearTimeout(timer);
      }
      if (result === "timeout") {
        throw new IngestSourceError("TIMEOUT", `no data for ${readTimeoutMs} ms`);
      }
      if (result.done) return;
      yield result.value;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/**
 * A whole body, at most `maxBytes`.
 *
 * @throws {IngestSourceError} `TOO_LARGE`, `TIMEOUT` or `NETWORK`.
 */
export async function readBody(
  body: ReadableStream<Uint8Array>,
  readTimeoutMs: number,
  maxBytes: number,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of readChunks(body, readTimeoutMs)) {
    size += chunk.length;
    if (size > maxBytes) throw new IngestSourceError("TOO_LARGE", `body over ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return concatBytes(chunks);
}
