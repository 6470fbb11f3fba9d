/**
 * A bounded in-flight limit with a bounded queue: at most `maxActive` holders at once, at most
 * `maxQueue` waiting in arrival order, and an immediate "no" beyond that (the handler turns it
 * into a 503 with `Retry-After`).
 *
 * @module
 */

/** Gives a slot back; calling it again does nothing. */
export type Release = () => void;

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
  /** Most holders at once. */
  readonly maxActive: number;
  /** Most waiters at once. */
  readonly maxQueue: number;
  #active = 0;
  readonly #queue: ((release: Release) => void)[] = [];

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
   * both are full.
   */
  acquire(): Promise<Release | undefined> {
    if (this.#active < this.maxActive) {
      this.#active++;
      return Promise.resolve(this.#release());
    }
    if (this.#queue.length >= this.maxQueue) return Promise.resolve(undefined);
    const { promise, resolve } = Promise.withResolvers<Release>();
    this.#queue.push(resolve);
    return promise;
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
      next(this.#release());
    };
  }
}
