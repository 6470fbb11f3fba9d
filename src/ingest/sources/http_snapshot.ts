/**
 * The HTTP camera source: `http(s)://` URLs. A response of `multipart/x-mixed-replace` is read
 * as an MJPEG stream (one without its boundary, and a bare `video/x-motion-jpeg` run of JPEGs,
 * are split on the JPEG markers); anything else is a snapshot, polled every `everyMs`.
 * Credentials (Basic, Digest, Bearer) come from {@linkcode takeCredentials}. Failures (no
 * connection, timeouts, HTTP errors, an answer in text such as a login page, a stream that
 * hangs or breaks its format) are logged once per change and retried with exponential backoff
 * and jitter. A 200 image body is handed on as it is, so a truncated JPEG reaches the decoder
 * and comes back as an `ImageDecodeError`.
 *
 * @module
 */
import { mediaType } from "../../_util.ts";
import { Backoff, type BackoffOptions } from "../../clock.ts";
import { HttpAuth } from "../auth/http_auth.ts";
import type { Credentials } from "../auth/credentials.ts";
import type { FetchLike } from "../auth/http_auth.ts";
import { redactUrl } from "../redact.ts";
import type { Source, SourceContext } from "../types.ts";
import { waitAfterFailure } from "./_offline.ts";
import { IngestSourceError } from "../errors.ts";
import { openHttp, readBody } from "./http_io.ts";
import { MAX_FRAME_BYTES } from "./jpeg_splitter.ts";
import { mjpegFraming, readMjpeg } from "./mjpeg.ts";
import { skipLog } from "./_skips.ts";

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
    const skips = skipLog(context); // across reconnects, as the states it logs
    while (!signal.aborted) {
      const started = clock.now();
      try {
        const streamed = await this.#once(context, () => backoff.reset(), skips);
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
  async #once(
    context: SourceContext,
    online: () => void,
    skips: ReturnType<typeof skipLog>,
  ): Promise<boolean> {
    const o = this.#options;
    const { response, abort } = await openHttp(o.url, this.#auth, {
      connectTimeoutMs: o.connectTimeoutMs,
      signal: context.signal,
      fetch: this.#fetch,
    });
    try {
      const type = response.headers.get("content-type");
      const framing = mjpegFraming(type);
      const kind = framing === undefined
        ? "snapshot"
        : framing.kind === "multipart"
        ? "MJPEG"
        : framing.kind === "bare"
        ? "bare MJPEG"
        : "MJPEG without boundary";
      const emit = (bytes: Uint8Array) => {
        online();
        skips.onImage();
        context.status("connection", "online", `online (${kind})`);
        context.emit({ source: this.name, bytes, time: context.clock.now() });
      };
      if (framing === undefined) {
        refuseText(type, response.status);
        emit(await readBody(response.body!, o.readTimeoutMs, o.maxFrameBytes));
        return false;
      }
      if (framing.kind === "no boundary") {
        context.status(
          "framing",
          "no boundary",
          `${mediaType(type)} with no boundary: splitting the stream on the JPEG markers`,
          "warn",
        );
      }
      await readMjpeg(response.body!, {
        boundary: framing.boundary,
        readTimeoutMs: o.readTimeoutMs,
        maxFrameBytes: o.maxFrameBytes,
        onFrame: emit,
        onSkip: skips.onSkip,
      });
      return true;
    } finally {
      abort();
    }
  }
}

/** Content types that are never a camera image: a login or error page, an API's answer. */
const TEXT = /^\s*(?:text\/|application\/(?:json|xml|xhtml\+xml|problem\+json)\s*(?:;|$))/i;

/**
 * Refuses an answer in text (its body is never read).
 *
 * @throws {IngestSourceError} `CONTENT_TYPE`: "answered text/html (HTTP 200), not an image".
 */
function refuseText(contentType: string | null, status: number): void {
  if (!TEXT.test(contentType ?? "")) return;
  throw new IngestSourceError(
    "CONTENT_TYPE",
    `answered ${mediaType(contentType)} (HTTP ${status}), not an image`,
    { status },
  );
}
