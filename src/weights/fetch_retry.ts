/**
 * Reading one file of a weights set (the manifest or a shard) with a `fetch`: a timeout per
 * request, retries with exponential backoff and jitter for failures that may pass (network
 * errors, timeouts, HTTP 408, 429 and 5xx, honouring `Retry-After`), and none for those that
 * will not (404 and the other 4xx, a missing local file, an abort). A response whose content is
 * wrong (its length or its sha256, checked by the caller's `verify`) is fetched once more over
 * the network, in case a proxy or a cut connection spoiled it; never for `file:` URLs, whose
 * bytes would not change. See `weights/FORMAT.md`, "Loading".
 *
 * @module
 */
import { WeightsError } from "../errors.ts";

/** Transport options shared by every request of a load. */
export interface RequestOptions {
  /**
   * The `fetch` to read with (auth headers, custom transports, tests).
   * @default {globalThis.fetch}
   */
  fetch?: typeof fetch;
  /** Aborts the load; the abort reason is thrown as is and never retried. */
  signal?: AbortSignal;
  /**
   * Milliseconds one request (headers and the whole body) may take before it is abandoned as a
   * timeout (and retried). `0` or `Infinity` for none.
   * @default {30000}
   */
  timeoutMs?: number;
  /**
   * Retries after a network error, a timeout, or HTTP 408/429/5xx, per file.
   * @default {3}
   */
  retries?: number;
  /**
   * The first retry's delay in milliseconds; each next one doubles, up to
   * {@linkcode RequestOptions.maxRetryDelayMs}, and each is jittered down by up to half.
   * @default {250}
   */
  retryDelayMs?: number;
  /**
   * The longest wait before a retry, also for a server's `Retry-After`.
   * @default {8000}
   */
  maxRetryDelayMs?: number;
}

/** Defaults of {@linkcode RequestOptions}. */
export const REQUEST_DEFAULTS = {
  timeoutMs: 30_000,
  retries: 3,
  retryDelayMs: 250,
  maxRetryDelayMs: 8_000,
} as const;

/** A retry about to happen. */
export interface RetryInfo {
  /** The attempt about to start (2 for the first retry). */
  attempt: number;
  /** The wait before it, in milliseconds. */
  delayMs: number;
  /** Why the last attempt failed. */
  reason: string;
}

/** Per-file hooks of {@linkcode fetchWithRetry}. */
export interface FetchHooks {
  /** Bytes the file must have; a response with more or fewer is wrong content. */
  expectedLength?: number;
  /** Called with the bytes received so far in the current attempt (0 when one starts). */
  onBytes?: (received: number) => void;
  /** Called before each retry. */
  onRetry?: (info: RetryInfo) => void;
  /**
   * Checks the whole response (for example its sha256); throwing a {@linkcode WeightsError}
   * marks the content as wrong.
   */
  verify?: (bytes: Uint8Array) => Promise<void> | void;
}

/** A failed attempt and whether another may succeed. */
class AttemptFailure {
  constructor(
    readonly error: WeightsError,
    readonly reason: string,
    readonly kind: "transient" | "content" | "final",
    readonly retryAfterMs?: number,
  ) {}
}

function checkCount(name: string, value: number, min = 0): number {
  if (typeof value !== "number" || Number.isNaN(value) || value < min) {
    throw new RangeError(`${name} must be a number >= ${min}, got ${value}`);
  }
  return value;
}

function retryAfter(response: Response): number | undefined {
  const header = response.headers.get("retry-after");
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function isMissingFile(error: unknown): boolean {
  return (typeof Deno !== "undefined" && error instanceof Deno.errors.NotFound) ||
    (error instanceof TypeError && /not ?found|No such file|os error 2\b/i.test(error.message));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

async function readBody(
  response: Response,
  url: URL,
  hooks: FetchHooks,
): Promise<Uint8Array> {
  const expected = hooks.expectedLength;
  const reader = response.body?.getReader();
  if (!reader) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  const out = expected !== undefined ? new Uint8Array(expected) : undefined;
  let received = 0;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      if (out && received + value.byteLength > out.byteLength) {
        await reader.cancel().catch(() => {});
        throw new AttemptFailure(
          new WeightsError(
            "HASH_MISMATCH",
            `${url.href} has more than the ${expected} bytes the manifest says: it is not the ` +
              `file the manifest describes`,
          ),
          "too long",
          "content",
        );
      }
      if (out) out.set(value, received);
      else chunks.push(value);
      received += value.byteLength;
      hooks.onBytes?.(received);
    }
  } finally {
    reader.releaseLock();
  }
  if (out) {
    if (received < out.byteLength) {
      throw new AttemptFailure(
        new WeightsError(
          "TRUNCATED",
          `${
            url.pathname.split("/").at(-1)
          } has ${received} bytes, the manifest says ${expected} ` +
            `(${url.href})`,
        ),
        "truncated",
        "content",
      );
    }
    return out;
  }
  const all = new Uint8Array(received);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return all;
}

function checkLength(bytes: Uint8Array, url: URL, expected: number | undefined): void {
  if (expected === undefined || bytes.byteLength === expected) return;
  const name = url.pathname.split("/").at(-1);
  throw new AttemptFailure(
    bytes.byteLength < expected
      ? new WeightsError(
        "TRUNCATED",
        `${name} has ${bytes.byteLength} bytes, the manifest says ${expected} (${url.href})`,
      )
      : new WeightsError(
        "HASH_MISMATCH",
        `${url.href} has ${bytes.byteLength} bytes, more than the ${expected} the manifest ` +
          `says: it is not the file the manifest describes`,
      ),
    bytes.byteLength < expected ? "truncated" : "too long",
    "content",
  );
}

async function attempt(
  url: URL,
  options: RequestOptions,
  hooks: FetchHooks,
): Promise<Uint8Array> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? REQUEST_DEFAULTS.timeoutMs;
  const local = url.protocol === "file:";
  const timeout = new AbortController();
  let timedOut = false;
  const timer = timeoutMs > 0 && Number.isFinite(timeoutMs)
    ? setTimeout(() => {
      timedOut = true;
      timeout.abort(new WeightsError("TIMEOUT", `reading ${url.href} took over ${timeoutMs} ms`));
    }, timeoutMs)
    : undefined;
  const signal = options.signal
    ? AbortSignal.any([options.signal, timeout.signal])
    : timeout.signal;
  const failed = (error: unknown): never => {
    if (error instanceof AttemptFailure) throw error;
    if (options.signal?.aborted) throw options.signal.reason;
    if (timedOut) {
      throw new AttemptFailure(
        new WeightsError("TIMEOUT", `reading ${url.href} took over ${timeoutMs} ms`, {
          cause: error,
        }),
        "timeout",
        "transient",
      );
    }
    const message = error instanceof Error ? error.message : String(error);
    if (isMissingFile(error)) {
      throw new AttemptFailure(
        new WeightsError("NOT_FOUND", `cannot read ${url.href}: ${message}`, { cause: error }),
        "not found",
        "final",
      );
    }
    throw new AttemptFailure(
      new WeightsError("NETWORK", `cannot read ${url.href}: ${message}`, { cause: error }),
      `network error: ${message}`,
      local ? "final" : "transient",
    );
  };
  try {
    hooks.onBytes?.(0);
    if (local && !options.fetch && typeof Deno !== "undefined" && Deno.readFile) {
      // Deno's fetch of file: URLs works but reads about half as fast as readFile.
      let bytes: Uint8Array;
      try {
        bytes = await Deno.readFile(url, { signal });
      } catch (error) {
        return failed(error);
      }
      hooks.onBytes?.(bytes.byteLength);
      checkLength(bytes, url, hooks.expectedLength);
      await verify(bytes, hooks);
      return bytes;
    }
    let response: Response;
    try {
      response = await doFetch(url, { signal });
    } catch (error) {
      return failed(error);
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      const status = response.status;
      const text = `HTTP ${status} ${response.statusText}`.trim();
      const transient = status === 408 || status === 429 || status >= 500;
      throw new AttemptFailure(
        new WeightsError(
          status === 404 || status === 410 ? "NOT_FOUND" : "NETWORK",
          `cannot read ${url.href}: ${text}`,
        ),
        `HTTP ${status}`,
        transient ? "transient" : "final",
        transient ? retryAfter(response) : undefined,
      );
    }
    let bytes: Uint8Array;
    try {
      bytes = await readBody(response, url, hooks);
    } catch (error) {
      return failed(error);
    }
    await verify(bytes, hooks);
    return bytes;
  } finally {
    clearTimeout(timer);
  }
}

async function verify(bytes: Uint8Array, hooks: FetchHooks): Promise<void> {
  try {
    await hooks.verify?.(bytes);
  } catch (error) {
    if (!(error instanceof WeightsError)) throw error;
    throw new AttemptFailure(error, error.code.toLowerCase().replace("_", " "), "content");
  }
}

/**
 * Reads `url` whole, retrying what may pass: up to `retries` times after network errors,
 * timeouts and HTTP 408/429/5xx (waiting `retryDelayMs * 2^(n-1)`, capped, jittered, or the
 * server's `Retry-After`), and once more after wrong content (length or `verify`) unless the
 * URL is a `file:` URL.
 *
 * @throws {WeightsError} `NOT_FOUND` (404, 410, a missing file), `NETWORK` (other HTTP errors,
 * network errors once retries are spent), `TIMEOUT`, or the content error (`TRUNCATED`,
 * `HASH_MISMATCH`, ...) of the last attempt; the signal's reason when aborted.
 */
export async function fetchWithRetry(
  url: URL,
  options: RequestOptions = {},
  hooks: FetchHooks = {},
): Promise<Uint8Array> {
  const retries = checkCount("retries", options.retries ?? REQUEST_DEFAULTS.retries);
  const base = checkCount("retryDelayMs", options.retryDelayMs ?? REQUEST_DEFAULTS.retryDelayMs);
  const cap = checkCount(
    "maxRetryDelayMs",
    options.maxRetryDelayMs ?? REQUEST_DEFAULTS.maxRetryDelayMs,
  );
  checkCount("timeoutMs", options.timeoutMs ?? REQUEST_DEFAULTS.timeoutMs);
  let transientRetries = 0;
  let contentRetries = 0;
  for (let n = 1;; n++) {
    if (options.signal?.aborted) throw options.signal.reason;
    try {
      return await attempt(url, options, hooks);
    } catch (error) {
      if (!(error instanceof AttemptFailure)) throw error;
      let delayMs: number;
      if (error.kind === "transient" && transientRetries < retries) {
        transientRetries++;
        const backoff = Math.min(cap, base * 2 ** (transientRetries - 1));
        delayMs = backoff * (0.5 + Math.random() * 0.5);
        if (error.retryAfterMs !== undefined) {
          delayMs = Math.min(cap, Math.max(delayMs, error.retryAfterMs));
        }
      } else if (error.kind === "content" && url.protocol !== "file:" && contentRetries < 1) {
        contentRetries++;
        delayMs = 0;
      } else {
        if (n > 1) error.error.message += ` (after ${n} attempts)`;
        throw error.error;
      }
      delayMs = Math.round(delayMs);
      hooks.onRetry?.({ attempt: n + 1, delayMs, reason: error.reason });
      await sleep(delayMs, options.signal);
    }
  }
}
