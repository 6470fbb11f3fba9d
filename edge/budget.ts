/**
 * The byte budget of request bodies: every request holds the bytes of its body from the moment
 * they are known (a declared `Content-Length`, or each chunk as it arrives) until its answer,
 * and the sum of all holds never passes the budget. The inference slot is taken only once a body
 * is complete, so this, not the slot count, is what bounds the memory of bodies being uploaded.
 *
 * @module
 */

/** One request's share of a {@linkcode ByteBudget}. */
export interface Hold {
  /** Bytes held. */
  readonly bytes: number;
  /** Holds `count` more bytes if the budget has room; `false` (holding nothing more) if not. */
  add(count: number): boolean;
  /** Gives every byte back; calling it again does nothing. */
  release(): void;
}

/**
 * A budget of bytes shared by the requests in flight.
 *
 * @example
 * ```ts
 * import { ByteBudget } from "./budget.ts";
 * const budget = new ByteBudget(100);
 * const a = budget.hold();
 * console.log(a.add(80), budget.hold().add(30)); // true false
 * a.release();
 * console.log(budget.held); // 0
 * ```
 */
export class ByteBudget {
  /** Most bytes held at once. */
  readonly limit: number;
  #held = 0;
  #holds = 0;

  /** @throws {RangeError} unless `limit` is a positive integer. */
  constructor(limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new RangeError(`limit must be a positive integer, got ${limit}`);
    }
    this.limit = limit;
  }

  /** Bytes held right now, by all requests. */
  get held(): number {
    return this.#held;
  }

  /** Requests holding bytes (or ready to) right now. */
  get holds(): number {
    return this.#holds;
  }

  /** A new, empty hold. */
  hold(): Hold {
    let bytes = 0;
    let released = false;
    this.#holds++;
    return {
      get bytes() {
        return bytes;
      },
      add: (count: number) => {
        if (released || this.#held + count > this.limit) return false;
        this.#held += count;
        bytes += count;
        return true;
      },
      release: () => {
        if (released) return;
        released = true;
        this.#held -= bytes;
        this.#holds--;
        bytes = 0;
      },
    };
  }
}
