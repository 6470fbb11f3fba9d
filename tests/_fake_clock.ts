/**
 * The fake {@linkcode Clock} of every timing test (the weights loader's timeouts and retries,
 * ingest's reconnects, polling and deliveries): time moves only when a test says so
 * ({@linkcode FakeClock.advance}), or when {@linkcode FakeClock.run} jumps to the next sleep
 * because nothing else is pending.
 *
 * @module
 */
import type { Clock } from "../src/clock.ts";

interface Sleeper {
  at: number;
  order: number;
  wake: () => void;
}

/** One real event-loop turn: lets woken continuations and pending I/O run. */
const turn = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A manual clock: sleeps wake, each at its own time, only as time is moved on. */
export class FakeClock implements Clock {
  #now: number;
  #order = 0;
  #sleepers: Sleeper[] = [];
  /** Every sleep asked for, in ms, in order. */
  readonly sleeps: number[] = [];
  /** What `random()` returns (0: delays with no jitter). */
  randomValue = 0;

  /** A clock reading `start` ms. */
  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  random(): number {
    return this.randomValue;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    if (signal?.aborted) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    const sleeper: Sleeper = {
      at: this.#now + Math.max(0, ms),
      order: this.#order++,
      wake: () => {
        signal?.removeEventListener("abort", cancel);
        resolve();
      },
    };
    const cancel = () => {
      this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
      resolve();
    };
    this.#sleepers.push(sleeper);
    signal?.addEventListener("abort", cancel, { once: true });
    return promise;
  }

  /** Sleeps pending now (a timer left behind shows here). */
  get pending(): number {
    return this.#sleepers.length;
  }

  /** The sleeper that wakes first, if it wakes by `end`. */
  #due(end: number): Sleeper | undefined {
    let first: Sleeper | undefined;
    for (const s of this.#sleepers) {
      if (
        s.at <= end && (!first || s.at < first.at || (s.at === first.at && s.order < first.order))
      ) {
        first = s;
      }
    }
    return first;
  }

  /**
   * Moves time on by `ms`: wakes each sleeper that comes due, in order and each at its own
   * time, letting its continuation run (and sleep again) before the next.
   */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    for (let sleeper = this.#due(end); sleeper; sleeper = this.#due(end)) {
      this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
      this.#now = sleeper.at;
      sleeper.wake();
      await turn();
    }
    this.#now = end;
    await turn();
  }

  /**
   * Settles `promise`: lets pending I/O and promise jobs run (one real macrotask at a time) and,
   * whenever the promise is still pending after that, jumps to the next sleep. Bounded: throws
   * after `maxSteps` steps.
   */
  async run<T>(promise: Promise<T>, maxSteps = 1000): Promise<T> {
    let settled = false;
    const watched = promise.finally(() => (settled = true));
    watched.catch(() => {});
    for (let step = 0; step < maxSteps; step++) {
      await turn();
      if (settled) return await watched;
      const next = Math.min(...this.#sleepers.map((s) => s.at));
      if (Number.isFinite(next)) await this.advance(next - this.#now);
    }
    throw new Error(`the promise did not settle within ${maxSteps} steps`);
  }
}
