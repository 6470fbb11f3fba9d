/**
 * A bounded delivery queue for network sinks: items are delivered one at a time in order; a
 * failed delivery is retried with exponential backoff and jitter; when the queue is full the
 * oldest item is dropped (and counted), so a dead webhook or broker never grows memory. Trouble
 * is logged by state: once when deliveries start failing, at every item dropped as undeliverable,
 * once when they work again.
 *
 * @module
 */
import { Backoff, type BackoffOptions, type Clock, systemClock } from "../../clock.ts";
import type { Logger } from "../log.ts";
import { errorMessage } from "../../_util.ts";

/** A delivery failure that retrying cannot fix (a 400, say): the item is dropped. */
export class PermanentError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "PermanentError";
  }
}

/** Options of {@linkcode RetryQueue}. */
export interface RetryQueueOptions {
  /** Items held at most. @default {100} */
  maxQueue?: number;
  /** Retry delays. @default {{initialMs: 500, maxMs: 30000}} */
  backoff?: BackoffOptions;
  /** Time and sleeps. */
  clock?: Clock;
  /** Where delivery trouble is logged. */
  log?: Logger;
  /** The `source` of those records (the sink's name, as shown). */
  source?: string;
  /** Put before a failure's message, e.g. `"publish failed: "`. @default {""} */
  failurePrefix?: string;
}

/** Items waiting for delivery, with one worker. */
export class RetryQueue<T> {
  readonly #deliver: (item: T, signal: AbortSignal) => Promise<void>;
  readonly #items: T[] = [];
  readonly #max: number;
  readonly #backoff: Backoff;
  readonly #clock: Clock;
  readonly #options: RetryQueueOptions;
  readonly #stop = new AbortController();
  #worker?: Promise<void>;
  #inFlight = 0;
  #failing = false;
  /** Items dropped because the queue was full or delivery failed permanently. */
  dropped = 0;
  /** Items delivered. */
  delivered = 0;

  /** Creates the queue with a delivery function. */
  constructor(
    deliver: (item: T, signal: AbortSignal) => Promise<void>,
    options: RetryQueueOptions = {},
  ) {
    this.#deliver = deliver;
    this.#max = options.maxQueue ?? 100;
    if (!(Number.isInteger(this.#max) && this.#max >= 1)) {
      throw new RangeError(`maxQueue must be a positive integer, got ${this.#max}`);
    }
    this.#clock = options.clock ?? systemClock;
    this.#backoff = new Backoff({
      initialMs: 500,
      maxMs: 30_000,
      random: () => this.#clock.random(),
      ...options.backoff,
    });
    this.#options = options;
  }

  /** Items waiting (the one being delivered included). */
  get length(): number {
    return this.#items.length + this.#inFlight;
  }

  /** Queues an item (dropping the oldest waiting one when full). */
  push(item: T): void {
    if (this.#stop.signal.aborted) return;
    if (this.#items.length + this.#inFlight >= this.#max && this.#items.length > 0) {
      this.#items.shift();
      this.dropped++;
    }
    this.#items.push(item);
    this.#worker ??= this.#work().finally(() => (this.#worker = undefined));
  }

  async #work(): Promise<void> {
    const signal = this.#stop.signal;
    while (this.#items.length > 0 && !signal.aborted) {
      const item = this.#items.shift()!;
      this.#inFlight = 1;
      await this.#deliverOne(item, signal);
      this.#inFlight = 0;
    }
  }

  /** Delivers one item, retrying until it succeeds, fails permanently, or the queue stops. */
  async #deliverOne(item: T, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.#deliver(item, signal);
        this.delivered++;
        this.#backoff.reset();
        if (this.#failing) this.#log("info", "delivering again");
        this.#failing = false;
        return;
      } catch (error) {
        if (signal.aborted) break;
        const prefix = `${this.#options.failurePrefix ?? ""}${errorMessage(error)}`;
        if (error instanceof PermanentError) {
          this.dropped++;
          this.#failing = false;
          this.#log("warn", `${prefix}; event dropped`);
          return;
        }
        const delay = this.#backoff.next();
        if (!this.#failing) this.#log("warn", `${prefix}; retrying in ${delay} ms`);
        this.#failing = true;
        await this.#clock.sleep(delay, signal);
      }
    }
    this.dropped++; // stopped before it could be delivered
  }

  #log(level: "info" | "warn", message: string): void {
    this.#options.log?.({ time: this.#clock.now(), level, source: this.#options.source, message });
  }

  /** Waits up to `timeoutMs` for the queue to empty, then stops; what is left is dropped. */
  async close(timeoutMs = 5000): Promise<void> {
    const timer = setTimeout(() => this.#stop.abort(), timeoutMs);
    try {
      await this.#worker;
    } finally {
      clearTimeout(timer);
      this.#stop.abort();
      this.dropped += this.#items.length;
      this.#items.length = 0;
    }
  }
}
