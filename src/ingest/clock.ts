/**
 * Time for the ingest loop, injectable so that backoff, polling and scheduling logic can be
 * tested with a fake clock instead of real waiting.
 *
 * @module
 */

/** Wall time, interruptible sleeps and randomness (for jitter). */
export interface Clock {
  /** Milliseconds since the epoch. */
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

/** The real clock: `Date.now`, timers and `Math.random`. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep,
  random: () => Math.random(),
};
