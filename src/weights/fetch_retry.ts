/**
 * Reading one file of a weights set (the manifest or a shard) with a `fetch`: an idle timeout
 * per request (nothing received for `timeoutMs`), a deadline for the whole file (`deadlineMs`,
 * every attempt and wait included), retries with exponential backoff and jitter for failures
 * that may pass (network errors, idle timeouts, HTTP 408, 429 and 5xx, honouring
 * `Retry-After`), and none for those that will not (404 and the other 4xx, a missing local
 * file, an abort, the deadline). A response whose content is wrong (its length or its sha256,
 * checked by the caller's `verify`) is fetched once more over the network, in case a proxy or a
 * cut connection spoiled it; never for `file:` URLs, whose bytes would not change. See
 * `weights/FORMAT.md`, "Loading".
 *
 * @module
 */
import { WeightsError, type WeightsErrorCode } from "../errors.ts";
import { concatBytes, errorMessage } from "../_util.ts";
import { backoffDelay, type Clock, monotonicClock, startTimer } from "../clock.ts";

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
   * The idle timeout: milliseconds one request may go without receiving anything (its
   * headers, or a byte of its body) before it is abandoned as a timeout and retried. A slow
   * server that keeps sending never hits it; {@linkcode RequestOptions.deadlineMs} bounds the
   * total. (Up to version 0.1 this bounded a whole request.) `0` or `Infinity` for none.
   * @default {30000}
   */
  timeoutMs?: number;
  /**
   * The overall deadline: milliseconds one file (the manifest, or one shard) may take in all,
   * every attempt and every wait between them included. When it passes, the read fails with
   * `TIMEOUT` and is not retried. `0` or `Infinity` for none.
   * @default {600000}
   */
  deadlineMs?: number;
  /**
   * Retries after a network error, an idle timeout, or HTTP 408/429/5xx, per file.
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
  deadlineMs: 600_000,
  retries: 3,
  retryDelayMs: 250,
  maxRetryDelayMs: 8_000,
} as const;

/** {@linkcode RequestOptions} checked, with the defaults filled in: what a read takes. */
export interface ResolvedRequestOptions {
  /** The caller's `fetch`; `undefined` means the global one (and a fast path for `file:`). */
  readonly fetch: typeof fetch | undefined;
  /** See {@linkcode RequestOptions.signal}. */
  readonly signal: AbortSignal | undefined;
  /** See {@linkcode RequestOptions.timeoutMs}. */
  readonly timeoutMs: number;
  /** See {@linkcode RequestOptions.deadlineMs}. */
  readonly deadlineMs: number;
  /** See {@linkcode RequestOptions.retries}. */
  readonly retries: number;
  /** See {@linkcode RequestOptions.retryDelayMs}. */
  readonly retryDelayMs: number;
  /** See {@linkcode RequestOptions.maxRetryDelayMs}. */
  readonly maxRetryDelayMs: number;
}

function milliseconds(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number") {
    throw new TypeError(`${name} must be a number, got ${typeof value}`);
  }
  if (!(value >= 0)) throw new RangeError(`${name} must be a number >= 0, got ${value}`);
  return value;
}

/**
 * Checks request options once, on entry, and fills in the defaults.
 *
 * @throws {TypeError} for a `fetch` that is not a function, a `signal` that is not an
 * `AbortSignal`, or a number option that is not a number; {@linkcode RangeError} for a negative
 * or NaN time, or `retries` that is not an integer >= 0.
 */
export function resolveRequestOptions(options: RequestOptions = {}): ResolvedRequestOptions {
  if (options.fetch !== undefined && typeof options.fetch !== "function") {
    throw new TypeError(`fetch must be a function, got ${typeof options.fetch}`);
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new TypeError("signal must be an AbortSignal");
  }
  const d = REQUEST_DEFAULTS;
  const retries = milliseconds("retries", options.retries, d.retries);
  if (!Number.isInteger(retries)) {
    throw new RangeError(`retries must be an integer >= 0, got ${retries}`);
  }
  return {
    fetch: options.fetch,
    signal: options.signal,
    timeoutMs: milliseconds("timeoutMs", options.timeoutMs, d.timeoutMs),
    deadlineMs: milliseconds("deadlineMs", options.deadlineMs, d.deadlineMs),
    retries,
    retryDelayMs: milliseconds("retryDelayMs", options.retryDelayMs, d.retryDelayMs),
    maxRetryDelayMs: milliseconds("maxRetryDelayMs", options.maxRetryDelayMs, d.maxRetryDelayMs),
  };
}

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
  /**
   * Where the bytes go, with `expectedLength`: an array of that many bytes (a part of a larger
   * buffer, say), filled in place of a fresh one and returned. A failed attempt may have written
   * to it.
   */
  into?: Uint8Array;
  /** Called with the bytes received so far in the current attempt (0 when one starts). */
  onBytes?: (received: number) => void;
  /** Called before each retry. */
  onRetry?: (info: RetryInfo) => void;
  /**
   * Checks the whole response (for example its sha256); throwing a {@linkcode WeightsError}
   * marks the content as wrong.
   */
  verify?: (bytes: Uint8Array) => Promise<void> | void;
  /**
   * The clock for timeouts and retry delays (a monotonic one: a step of the system clock must not
   * count as time passing).
   * @default {monotonicClock}
   */
  clock?: Clock;
}

/** A failed attempt, whether another may succeed, and what the final error would say. */
class AttemptFailure {
  constructor(
    readonly code: WeightsErrorCode,
    readonly message: string,
    readonly reason: string,
    readonly kind: "transient" | "content" | "final",
    readonly cause?: unknown,
    readonly retryAfterMs?: number,
  ) {}
}

/** Why our own signal aborted an attempt: the idle timeout or the file's deadline. */
class TimedOut {
  constructor(readonly which: "idle" | "deadline", readonly ms: number) {}
}

/** The one timeout failure: idle ones are retried, the deadline is final. */
function timeoutFailure(url: URL, timedOut: TimedOut, cause?: unknown): AttemptFailure {
  const idle = timedOut.which === "idle";
  const message = idle
    ? `reading ${url.href}: nothing received for ${timedOut.ms} ms (timeoutMs)`
    : `reading ${url.href} took over ${timedOut.ms} ms (deadlineMs)`;
  return new AttemptFailure("TIMEOUT", message, "timeout", idle ? "transient" : "final", cause);
}

/** The one length failure: fewer bytes than the manifest says, or more. */
function lengthFailure(url: URL, received: number, expected: number): AttemptFailure {
  if (received < expected) {
    const name = url.pathname.split("/").at(-1);
    return new AttemptFailure(
      "TRUNCATED",
      `${name} has ${received} bytes, the manifest says ${expected} (${url.href})`,
      "truncated",
      "content",
    );
  }
  return new AttemptFailure(
    "HASH_MISMATCH",
    `${url.href} has more than the ${expected} bytes the manifest says: it is not the file ` +
      `the manifest describes`,
    "too long",
    "content",
  );
}

function retryAfter(response: Response): number | undefined {
  const header = response.headers.get("retry-after");
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function httpFailure(url: URL, response: Response): AttemptFailure {
  const status = response.status;
  const text = `HTTP ${status} ${response.statusText}`.trim();
  const transient = status === 408 || status === 429 || status >= 500;
  return new AttemptFailure(
    status === 404 || status === 410 ? "NOT_FOUND" : "NETWORK",
    `cannot read ${url.href}: ${text}`,
    `HTTP ${status}`,
    transient ? "transient" : "final",
    undefined,
    transient ? retryAfter(response) : undefined,
  );
}

function isMissingFile(error: unknown): boolean {
  return (typeof Deno !== "undefined" && error instanceof Deno.errors.NotFound) ||
    (error instanceof TypeError && /not ?found|No such file|os error 2\b/i.test(error.message));
}

/** Turns what a read threw into a failure; the caller's abort reason is thrown as is. */
function readFailure(
  error: unknown,
  url: URL,
  options: ResolvedRequestOptions,
  signal: AbortSignal,
): AttemptFailure {
  if (error instanceof AttemptFailure) return error;
  if (options.signal?.aborted) throw options.signal.reason;
  if (signal.aborted && signal.reason instanceof TimedOut) {
    return timeoutFailure(url, signal.reason, error);
  }
  const message = errorMessage(error);
  if (isMissingFile(error)) {
    return new AttemptFailure(
      "NOT_FOUND",
      `cannot read ${url.href}: ${message}`,
      "not found",
      "final",
      error,
    );
  }
  const local = url.protocol === "file:";
  return new AttemptFailure(
    "NETWORK",
    `cannot read ${url.href}: ${message}`,
    `network error: ${message}`,
    local ? "final" : "transient",
    error,
  );
}

/**
 * Watches for `ms` with nothing received: `touch()` on every arrival. The timer is re-armed
 * when it fires rather than on every chunk.
 */
function idleWatch(clock: Clock, ms: number, onIdle: () => void) {
  let last = clock.now();
  let stop = () => {};
  const arm = (wait: number) => {
    stop = startTimer(clock, wait, () => {
      const idle = clock.now() - last;
      if (idle >= ms) onIdle();
      else arm(ms - idle);
    });
  };
  arm(ms);
  return {
    touch: () => void (last = clock.now()),
    stop: () => stop(),
  };
}

/** Reads a response body, checking its length as it comes when the length is known. */
async function readBody(
  response: Response,
  url: URL,
  hooks: FetchHooks,
  touch: () => void,
): Promise<Uint8Array> {
  const expected = hooks.expectedLength;
  const reader = response.body?.getReader();
  if (!reader) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  const out = expected !== undefined ? target(hooks, expected) : undefined;
  let received = 0;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      touch();
      if (out && received + value.byteLength > out.byteLength) {
        await reader.cancel().catch(() => {});
        throw lengthFailure(url, received + value.byteLength, out.byteLength);
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
    if (received < out.byteLength) throw lengthFailure(url, received, out.byteLength);
    return out;
  }
  return concatBytes(chunks);
}

/** The array a body of `expected` bytes is read into: the caller's `into`, else a fresh one. */
function target(hooks: FetchHooks, expected: number): Uint8Array {
  if (hooks.into === undefined) return new Uint8Array(expected);
  if (hooks.into.byteLength !== expected) {
    throw new RangeError(`into holds ${hooks.into.byteLength} bytes, expected ${expected}`);
  }
  return hooks.into;
}

/**
 * Reads a local file of `expected` bytes into `out` (`expected` bytes long): a cold start reads
 * its shards into memory the process already has where it can (`Deno.readFile` fills a fresh
 * buffer on a runtime thread per file, and each new page costs a fault: 14-20 MB of faults for
 * the 10 MB of 0.75/224's shards, against 10 MB). Returns the bytes read, a longer file's first
 * `expected + 1` (one byte more is read, into a byte of its own, so that a longer file shows).
 */
async function readFileInto(
  url: URL,
  out: Uint8Array,
  signal: AbortSignal,
): Promise<Uint8Array> {
  signal.throwIfAborted();
  using file = await Deno.open(url);
  let received = 0;
  while (received < out.byteLength) {
    signal.throwIfAborted();
    const n = await file.read(out.subarray(received));
    if (n === null) return out.subarray(0, received);
    received += n;
  }
  const more = new Uint8Array(1);
  signal.throwIfAborted();
  if ((await file.read(more)) === null) return out;
  const longer = new Uint8Array(received + 1);
  longer.set(out);
  longer.set(more, received);
  return longer;
}

/** One request: the bytes, unchecked but for their length; throws an AttemptFailure. */
async function read(
  url: URL,
  options: ResolvedRequestOptions,
  hooks: FetchHooks,
  signal: AbortSignal,
  touch: () => void,
): Promise<Uint8Array> {
  if (url.protocol === "file:" && !options.fetch && typeof Deno !== "undefined" && Deno.readFile) {
    // Deno's fetch of file: URLs works but reads about half as fast as readFile.
    const bytes = hooks.expectedLength === undefined
      ? await Deno.readFile(url, { signal })
      : await readFileInto(url, target(hooks, hooks.expectedLength), signal);
    hooks.onBytes?.(bytes.byteLength);
    return bytes;
  }
  const response = await (options.fetch ?? globalThis.fetch)(url, { signal });
  touch();
  if (!response.ok) {
    await response.body?.cancel().catch(() => {});
    throw httpFailure(url, response);
  }
  return await readBody(response, url, hooks, touch);
}

async function attempt(
  url: URL,
  options: ResolvedRequestOptions,
  hooks: FetchHooks,
  fileSignal: AbortSignal,
  clock: Clock,
): Promise<Uint8Array> {
  const idle = new AbortController();
  const watch = idleWatch(clock, options.timeoutMs, () => {
    idle.abort(new TimedOut("idle", options.timeoutMs));
  });
  const signal = AbortSignal.any([fileSignal, idle.signal]);
  let bytes: Uint8Array;
  try {
    hooks.onBytes?.(0);
    bytes = await read(url, options, hooks, signal, watch.touch);
  } catch (error) {
    throw readFailure(error, url, options, signal);
  } finally {
    watch.stop();
  }
  const expected = hooks.expectedLength;
  if (expected !== undefined && bytes.byteLength !== expected) {
    throw lengthFailure(url, bytes.byteLength, expected);
  }
  try {
    await hooks.verify?.(bytes);
  } catch (error) {
    if (!(error instanceof WeightsError)) throw error;
    const reason = error.code.toLowerCase().replace("_", " ");
    throw new AttemptFailure(error.code, error.message, reason, "content", error);
  }
  return bytes;
}

/** The wait before the next attempt, or `undefined` when there is none. */
function nextDelay(
  failure: AttemptFailure,
  url: URL,
  options: ResolvedRequestOptions,
  counts: { transient: number; content: number },
  clock: Clock,
): number | undefined {
  if (failure.kind === "transient" && counts.transient < options.retries) {
    counts.transient++;
    const cap = options.maxRetryDelayMs;
    const schedule = { initialMs: options.retryDelayMs, maxMs: cap, jitter: 0.5 };
    let delayMs = backoffDelay(counts.transient - 1, schedule, clock.random());
    if (failure.retryAfterMs !== undefined) {
      delayMs = Math.min(cap, Math.max(delayMs, failure.retryAfterMs));
    }
    return Math.round(delayMs);
  }
  if (failure.kind === "content" && url.protocol !== "file:" && counts.content < 1) {
    counts.content++;
    return 0;
  }
  return undefined;
}

/** Waits `ms` on `clock`; rejects with the signal's reason when it aborts. */
async function wait(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) throw signal.reason;
  if (ms <= 0) return;
  await clock.sleep(ms, signal);
  if (signal.aborted) throw signal.reason;
}

/**
 * Reads `url` whole, retrying what may pass: up to `retries` times after network errors, idle
 * timeouts and HTTP 408/429/5xx (waiting `retryDelayMs * 2^(n-1)`, capped, jittered, or the
 * server's `Retry-After`), and once more after wrong content (length or `verify`) unless the
 * URL is a `file:` URL; all within `deadlineMs`. Takes options checked by
 * {@linkcode resolveRequestOptions}.
 *
 * @throws {WeightsError} `NOT_FOUND` (404, 410, a missing file), `NETWORK` (other HTTP errors,
 * network errors once retries are spent), `TIMEOUT` (idle once retries are spent, or the
 * deadline), or the content error (`TRUNCATED`, `HASH_MISMATCH`, ...) of the last attempt; the
 * signal's reason when aborted.
 */
export async function fetchWithRetry(
  url: URL,
  options: ResolvedRequestOptions,
  hooks: FetchHooks = {},
): Promise<Uint8Array> {
  const clock = hooks.clock ?? monotonicClock;
  const deadline = new AbortController();
  const stopDeadline = startTimer(clock, options.deadlineMs, () => {
    deadline.abort(new TimedOut("deadline", options.deadlineMs));
  });
  const signal = options.signal
    ? AbortSignal.any([options.signal, deadline.signal])
    : deadline.signal;
  const counts = { transient: 0, content: 0 };
  try {
    for (let n = 1;; n++) {
      let failure: AttemptFailure;
      try {
        return await attempt(url, options, hooks, signal, clock);
      } catch (error) {
        if (!(error instanceof AttemptFailure)) throw error;
        failure = error;
      }
      const delayMs = nextDelay(failure, url, options, counts, clock);
      if (delayMs === undefined) throw finalError(failure, n);
      hooks.onRetry?.({ attempt: n + 1, delayMs, reason: failure.reason });
      try {
        await wait(clock, delayMs, signal);
      } catch (error) {
        if (!(error instanceof TimedOut)) throw error;
        throw finalError(timeoutFailure(url, error, finalError(failure, n)), n);
      }
    }
  } finally {
    stopDeadline();
  }
}

/** The error a read fails with, built once from its last failure. */
function finalError(failure: AttemptFailure, attempts: number): WeightsError {
  const message = attempts > 1
    ? `${failure.message} (after ${attempts} attempts)`
    : failure.message;
  return new WeightsError(failure.code, message, { cause: failure.cause });
}
