/**
 * The webhook sink: each event POSTed as JSON to a URL, retried with backoff on network
 * errors, timeouts, 429 and 5xx, through a bounded queue. Userinfo in the URL becomes a Basic
 * `Authorization` header and is never shown.
 *
 * @module
 */
import { basicAuthorization } from "../auth/basic.ts";
import type { IngestEvent } from "../event.ts";
import { redactUrl } from "../redact.ts";
import { PermanentError, RetryQueue, type RetryQueueOptions } from "./retry_queue.ts";
import type { Sink } from "./sink.ts";

/** Options of {@linkcode WebhookSink}. */
export interface WebhookOptions extends Omit<RetryQueueOptions, "source" | "failurePrefix"> {
  /** Time allowed for one POST. @default {10000} */
  timeoutMs?: number;
  /** The fetch to use. */
  fetch?: typeof fetch;
}

/** POSTs events to a URL. */
export class WebhookSink implements Sink {
  /** The URL as shown (redacted). */
  readonly name: string;
  readonly #queue: RetryQueue<string>;

  /** Creates the sink. @throws {TypeError} for a URL that is not http(s). */
  constructor(url: string | URL, options: WebhookOptions = {}) {
    const target = new URL(url);
    if (!/^https?:$/.test(target.protocol)) throw new TypeError("--webhook needs an http(s) URL");
    this.name = redactUrl(target);
    const headers = new Headers({ "content-type": "application/json" });
    if (target.username || target.password) {
      headers.set(
        "authorization",
        basicAuthorization(
          decodeURIComponent(target.username),
          decodeURIComponent(target.password),
        ),
      );
      target.username = target.password = "";
    }
    const doFetch = options.fetch ?? fetch;
    const timeoutMs = options.timeoutMs ?? 10_000;
    this.#queue = new RetryQueue(async (body, signal) => {
      const response = await doFetch(target, {
        method: "POST",
        headers,
        body,
        signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
      });
      await response.body?.cancel();
      if (response.ok) return;
      const text = `webhook answered HTTP ${response.status}`;
      if (response.status === 429 || response.status >= 500) throw new Error(text);
      throw new PermanentError(text);
    }, { ...options, source: this.name });
  }

  /** Events dropped (queue full, or refused by the server). */
  get dropped(): number {
    return this.#queue.dropped;
  }

  /** Events delivered. */
  get delivered(): number {
    return this.#queue.delivered;
  }

  /** Queues an event. */
  write(event: IngestEvent): void {
    this.#queue.push(JSON.stringify(event));
  }

  /** Delivers what is queued within `timeoutMs`. */
  close(timeoutMs?: number): Promise<void> {
    return this.#queue.close(timeoutMs);
  }
}
