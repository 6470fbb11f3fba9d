/**
 * The HTTP camera source: `http(s)://` URLs. A response of `multipart/x-mixed-replace` (or a
 * bare `video/x-motion-jpeg` run of JPEGs) is read as an MJPEG stream; anything else is a
 * snapshot, polled every `everyMs`. Credentials (Basic, Digest, Bearer) come from
 * {@linkcode takeCredentials}. Failures (no connection, timeouts, HTTP errors, a stream that
 * hangs) are logged once per change and retried with exponential backoff and jitter; the body
 * of a 200 is always handed on, so HTML or a truncated JPEG reaches the decoder and comes back
 * as an `ImageDecodeError`.
 *
 * @module
 */
import { Backoff, type BackoffOptions } from "../backoff.ts";
import { HttpAuth } from "../auth/http_auth.ts";
import type { Credentials } from "../auth/credentials.ts";
import type { FetchLike } from "../auth/http_auth.ts";
import { redactUrl } from "../redact.ts";
import type { Source, SourceContext } from "../types.ts";
import { waitAfterFailure } from "./_offline.ts";
import { openHttp, readBody } from "./http_io.ts";
import { MAX_FRAME_BYTES } from "./jpeg_splitter.ts";
import { multipartBoundary } from "./multipart.ts";
import { readMjpeg } from "./mjpeg.ts";

/** Options of {@linkcode HttpSource}. */
export interface HttpSourceOptions {
  /** The camera URL, without userinfo (see `takeCredentials`). */
  url: URL;
  /** Basic/Digest user and password, or a Bearer token. */
  credentials?: Credentials;
  /** Snapshot polling interval. @default {2000} */
  everyMs?: number;
  /** Time allowed until response headers. @default {10000} */
  connectTimeoutMs?: number;
  /** Time allowed between body chunks. @default {10000} */
  readTimeoutMs?: number;
  /** Largest frame accepted. @default {33554432} */
  maxFrameBytes?: number;
  /** Reconnect delays. @default {{initialMs: 1000, maxMs: 60000}} */
  backoff?: BackoffOptions;
  /** The fetch to use. */
  fetch?: FetchLike;
}

/** A snapshot URL polled, or an MJPEG stream read, with reconnects. */
export class HttpSource implements Source {
  /** The URL as shown (redacted). */
  readonly name: string;
  readonly #options: Required<Omit<HttpSourceOptions, "credentials" | "fetch" | "backoff">>;
  readonly #auth: HttpAuth;
  readonly #backoff?: BackoffOptions;
  readonly #fetch?: FetchLike;

  /** Creates the source. @throws {RangeError} for a non-positive interval or timeout. */
  constructor(options: HttpSourceOptions) {
    this.name = redactUrl(options.url);
    this.#options = {
      url: options.url,
      everyMs: options.everyMs ?? 2000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      readTimeoutMs: options.readTimeoutMs ?? 10_000,
      maxFrameBytes: options.maxFrameBytes ?? MAX_FRAME_BYTES,
    };
    for (const key of ["everyMs", "connectTimeoutMs", "readTimeoutMs", "maxFrameBytes"] as const) {
      if (!(this.#options[key] > 0)) {
        throw new RangeError(`${key} must be > 0, got ${this.#options[key]}`);
      }
    }
    this.#auth = new HttpAuth(options.credentials);
    this.#backoff = options.backoff;
    this.#fetch = options.fetch;
  }

  /** Polls or streams until `context.signal` aborts. */
  async run(context: SourceContext): Promise<void> {
    const { signal, clock } = context;
    const backoff = new Backoff({ random: () => clock.random(), ...this.#backoff });
    while (!signal.aborted) {
      const started = clock.now();
      try {
        const streamed = await this.#once(context, () => backoff.reset());
        if (signal.aborted) break;
        if (streamed) throw new Error("stream ended");
        await clock.sleep(Math.max(0, started + this.#options.everyMs - clock.now()), signal);
      } catch (error) {
        if (signal.aborted) break;
        await waitAfterFailure(context, backoff, error);
      }
    }
  }

  /** One request: a snapshot (returns false) or a whole stream (returns true when it ends). */
  async #once(context: SourceContext, online: () => void): Promise<boolean> {
    const o = this.#options;
    const { response, abort } = await openHttp(o.url, this.#auth, {
      connectTimeoutMs: o.connectTimeoutMs,
      signal: context.signal,
      fetch: this.#fetch,
    });
    try {
      const type = response.headers.get("content-type");
      const boundary = multipartBoundary(type);
      const emit = (bytes: Uint8Array) => {
        online();
        context.status("connection", "online", `online (${boundary ? "MJPEG" : "snapshot"})`);
        context.emit({ source: this.name, bytes, time: context.clock.now() });
      };
      if (boundary || /^\s*video\/x-motion-jpeg/i.test(type ?? "")) {
        await readMjpeg(response.body!, {
          boundary,
          readTimeoutMs: o.readTimeoutMs,
          maxFrameBytes: o.maxFrameBytes,
          onFrame: emit,
        });
        return true;
      }
      emit(await readBody(response.body!, o.readTimeoutMs, o.maxFrameBytes));
      return false;
    } finally {
      abort();
    }
  }
}
