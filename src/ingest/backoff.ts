/**
 * Exponential backoff with jitter for reconnecting sources and retrying sinks: 1 s, 2 s, 4 s, ...
 * up to a 60 s cap by default, each delay shortened by a random fraction so that many cameras
 * (or many ingest processes) that failed together do not retry in lockstep.
 *
 * @module
 */

/** Options of {@linkcode Backoff}. */
export interface BackoffOptions {
  /** First delay in milliseconds. @default {1000} */
  initialMs?: number;
  /** Largest delay in milliseconds. @default {60000} */
  maxMs?: number;
  /** Growth per attempt. @default {2} */
  factor?: number;
  /** Fraction of each delay that is random: a delay lies in [d * (1 - jitter), d]. @default {0.2} */
  jitter?: number;
  /** Source of randomness in [0, 1). @default {Math.random} */
  random?: () => number;
}

/**
 * Delays for successive retries. `next()` gives the delay before the next attempt, `reset()`
 * starts over after a success.
 *
 * @example
 * ```ts
 * import { Backoff } from "./backoff.ts";
 * const backoff = new Backoff({ jitter: 0 });
 * backoff.next(); // 1000
 * backoff.next(); // 2000
 * ```
 *
 * @throws {RangeError} for a non-positive initial delay, a cap below it, a factor under 1 or a
 * jitter outside [0, 1].
 */
export class Backoff {
  readonly #initial: number;
  readonly #max: number;
  readonly #factor: number;
  readonly #jitter: number;
  readonly #random: () => number;
  #attempt = 0;

  /** Creates a backoff schedule. */
  constructor(options: BackoffOptions = {}) {
    this.#initial = options.initialMs ?? 1000;
    this.#max = options.maxMs ?? 60_000;
    this.#factor = options.factor ?? 2;
    this.#jitter = options.jitter ?? 0.2;
    this.#random = options.random ?? Math.random;
    if (!(this.#initial > 0)) throw new RangeError(`initialMs must be > 0, got ${this.#initial}`);
    if (!(this.#max >= this.#initial)) {
      throw new RangeError(`maxMs must be >= initialMs, got ${this.#max}`);
    }
    if (!(this.#factor >= 1)) throw new RangeError(`factor must be >= 1, got ${this.#factor}`);
    if (!(this.#jitter >= 0 && this.#jitter <= 1)) {
      throw new RangeError(`jitter must be in [0, 1], got ${this.#jitter}`);
    }
  }

  /** Failed attempts since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The delay before the next attempt, in milliseconds; counts one more failure. */
  next(): number {
    const base = Math.min(this.#max, this.#initial * this.#factor ** this.#attempt);
    this.#attempt++;
    return Math.round(base * (1 - this.#jitter * this.#random()));
  }

  /** Starts over from the initial delay (after a success). */
  reset(): void {
    this.#attempt = 0;
  }
}
