/**
 * Time, sleeps, randomness and retry backoff: the one home of both for the whole module (the
 * weights loader's retries and ingest's reconnects and deliveries), injectable so that timing
 * logic is tested on a fake clock instead of real waiting.
 *
 * A delay grows exponentially from `initialMs` by `factor` per attempt, up to `maxMs`, and is
 * then shortened by a random fraction up to `jitter`: in `[d * (1 - jitter), d]`, so that many
 * clients that failed together do not retry in lockstep.
 *
 * @module
 */

/** Wall time, interruptible sleeps and randomness (for jitter). */
export interface Clock {
  /** Milliseconds: since the epoch for {@linkcode systemClock}, differences being what count. */
  now(): number;
  /** Waits `ms` milliseconds; resolves early (never rejects) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** A number in [0, 1). */
  random(): number;
}

/** Waits `ms` on a real timer; resolves early when `signal` aborts, leaving no timer behind. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  const { promise, resolve } = Promise.withResolvers<void>();
  const done = () => {
    clearTimeout(timer);
    signal?.removeEventListener("abort", done);
    resolve();
  };
  const timer = setTimeout(done, Math.max(0, ms));
  signal?.addEventListener("abort", done, { once: true });
  return promise;
}

/** The real clock: `Date.now` (event and log times), timers and `Math.random`. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep,
  random: () => Math.random(),
};

/**
 * The real clock on a monotonic time base (`performance.now`): for measuring how long something
 * took, where a step of the system clock (NTP at boot on a board with no RTC) must not count.
 */
export const monotonicClock: Clock = {
  now: () => performance.now(),
  sleep,
  random: () => Math.random(),
};

/**
 * Calls `onTimeout` once `ms` pass on `clock`; returns the function that cancels it. Nothing is
 * scheduled for 0, `Infinity`, or more than a timer can hold.
 */
export function startTimer(clock: Clock, ms: number, onTimeout: () => void): () => void {
  if (!(ms > 0 && ms <= 2 ** 31 - 1)) return () => {};
  const cancel = new AbortController();
  clock.sleep(ms, cancel.signal).then(() => {
    if (!cancel.signal.aborted) onTimeout();
  });
  return () => cancel.abort();
}

/** The shape of a backoff schedule (see the module doc). */
export interface BackoffSchedule {
  /** First delay in milliseconds. */
  initialMs: number;
  /** Largest delay in milliseconds. */
  maxMs: number;
  /** Growth per attempt. @default {2} */
  factor?: number;
  /** Fraction of each delay that is random: a delay lies in [d * (1 - jitter), d]. */
  jitter: number;
}

/**
 * The delay before retry number `attempt + 1` (attempt 0 is the first retry), rounded to the
 * millisecond, for a `random` draw in [0, 1) (0 gives the full delay). Unchecked: callers check
 * their options once, on entry.
 */
export function backoffDelay(attempt: number, schedule: BackoffSchedule, random: number): number {
  const base = Math.min(schedule.maxMs, schedule.initialMs * (schedule.factor ?? 2) ** attempt);
  return Math.round(base * (1 - schedule.jitter * random));
}

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
 * Delays for successive retries: 1 s, 2 s, 4 s, ... up to a 60 s cap by default. `next()` gives
 * the delay before the next attempt, `reset()` starts over after a success.
 *
 * @example
 * ```ts
 * import { Backoff } from "./clock.ts";
 * const backoff = new Backoff({ jitter: 0 });
 * backoff.next(); // 1000
 * backoff.next(); // 2000
 * ```
 *
 * @throws {RangeError} for a non-positive initial delay, a cap below it, a factor under 1 or a
 * jitter outside [0, 1].
 */
export class Backoff {
  readonly #schedule: Required<BackoffSchedule>;
  readonly #random: () => number;
  #attempt = 0;

  /** Creates a backoff schedule. */
  constructor(options: BackoffOptions = {}) {
    const s = {
      initialMs: options.initialMs ?? 1000,
      maxMs: options.maxMs ?? 60_000,
      factor: options.factor ?? 2,
      jitter: options.jitter ?? 0.2,
    };
    if (!(s.initialMs > 0)) throw new RangeError(`initialMs must be > 0, got ${s.initialMs}`);
    if (!(s.maxMs >= s.initialMs)) {
      throw new RangeError(`maxMs must be >= initialMs, got ${s.maxMs}`);
    }
    if (!(s.factor >= 1)) throw new RangeError(`factor must be >= 1, got ${s.factor}`);
    if (!(s.jitter >= 0 && s.jitter <= 1)) {
      throw new RangeError(`jitter must be in [0, 1], got ${s.jitter}`);
    }
    this.#schedule = s;
    this.#random = options.random ?? Math.random;
  }

  /** Failed attempts since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The delay before the next attempt, in milliseconds; counts one more failure. */
  next(): number {
    return backoffDelay(this.#attempt++, this.#schedule, this.#random());
  }

  /** Starts over from the initial delay (after a success). */
  reset(): void {
    this.#attempt = 0;
  }
}
