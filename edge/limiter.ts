/**
 * A bounded in-flight limit with a bounded queue: at most `maxActive` holders at once, at most
 * `maxQueue` waiting in arrival order, and an immediate "no" beyond that (the handler turns it
 * into a 503 with `Retry-After`). A waiter whose request is aborted leaves the queue.
 *
 * @module
 */

/** Gives a slot back; calling it again does nothing. */
export type Release = () => void;

interface Waiter {
  resolve: (release: Release) => void;
  reject: (reason: unknown) => void;
  signal?: AbortSignal;
  onAbort: () => void;
}

/**
 * Admission control for the model.
 *
 * @example
 * ```ts
 * import { Limiter } from "./limiter.ts";
 * const limiter = new Limiter(1, 0);
 * const release = await limiter.acquire();
 * console.log(await limiter.acquire()); // undefined: full
 * release?.();
 * ```
 */
export class Limiter {
  readonly maxActive: number;
  readonly maxQueue: number;
  #active = 0;
  readonly #queue: Waiter[] = [];

  /**
   * @throws {RangeError} unless `maxActive >= 1` and `maxQueue >= 0` are integers.
   */
  constructor(maxActive: number, maxQueue: number) {
    if (!Number.isInteger(maxActive) || maxActive < 1) {
      throw new RangeError(`maxActive must be an integer >= 1, got ${maxActive}`);
    }
    if (!Number.isInteger(maxQueue) || maxQueue < 0) {
      throw new RangeError(`maxQueue must be an integer >= 0, got ${maxQueue}`);
    }
    this.maxActive = maxActive;
    this.maxQueue = maxQueue;
  }

  /** Holders right now. */
  get active(): number {
    return this.#active;
  }

  /** Waiters right now. */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * A slot: at once when one is free, after waiting when the queue has room, `undefined` when
   * both are full. Rejects with the signal's reason when `signal` aborts while waiting.
   */
  acquire(signal?: AbortSignal): Promise<Release | undefined> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#active < this.maxActive) {
      this.#active++;
      return Promise.resolve(this.#release());
    }
    if (this.#queue.length >= this.maxQueue) return Promise.resolve(undefined);
    const { promise, resolve, reject } = Promise.withResolvers<Release>();
    const waiter: Waiter = { resolve, reject, signal, onAbort: () => this.#leave(waiter) };
    signal?.addEventListener("abort", waiter.onAbort, { once: true });
    this.#queue.push(waiter);
    return promise;
  }

  #leave(waiter: Waiter): void {
    const at = this.#queue.indexOf(waiter);
    if (at < 0) return;
    this.#queue.splice(at, 1);
    waiter.reject(waiter.signal?.reason);
  }

  #release(): Release {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.#queue.shift();
      if (!next) {
        this.#active--;
        return;
      }
      // The slot passes straight to the next waiter: `active` stays the same.
      next.signal?.removeEventListener("abort", next.onAbort);
      next.resolve(this.#release());
    };
  }
}
