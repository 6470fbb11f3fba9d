/**
 * A fake clock for timing logic (timeouts, retry delays): time moves only when a test says so,
 * or when {@linkcode FakeClock.run} jumps to the next timer because nothing else is pending.
 *
 * @module
 */
import type { Clock } from "../../src/weights/fetch_retry.ts";

interface Timer {
  at: number;
  id: number;
  callback: () => void;
}

/** A {@linkcode Clock} whose time moves only on {@linkcode FakeClock.advance}. */
export class FakeClock implements Clock {
  #now = 0;
  #nextId = 1;
  #timers: Timer[] = [];
  /** Delays passed to `setTimeout`, in order. */
  readonly delays: number[] = [];
  /** What `random()` returns (1 - epsilon: no jitter by default). */
  randomValue = 1 - Number.EPSILON;

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.#nextId++;
    this.delays.push(ms);
    this.#timers.push({ at: this.#now + ms, id, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers = this.#timers.filter((t) => t.id !== handle);
  }

  random(): number {
    return this.randomValue;
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.#timers.length;
  }

  /** Moves time on by `ms`, firing each timer that comes due, in order. */
  advance(ms: number): void {
    const end = this.#now + ms;
    while (true) {
      const due = this.#timers.filter((t) => t.at <= end).sort((a, b) =>
        a.at - b.at || a.id - b.id
      );
      if (due.length === 0) break;
      const timer = due[0];
      this.#timers = this.#timers.filter((t) => t !== timer);
      this.#now = timer.at;
      timer.callback();
    }
    this.#now = end;
  }

  /**
   * Settles `promise`: lets pending I/O and promise jobs run (one real macrotask at a time) and,
   * whenever the promise is still pending after that, jumps to the next timer. Bounded: throws
   * after `maxSteps` steps.
   */
  async run<T>(promise: Promise<T>, maxSteps = 1000): Promise<T> {
    let settled = false;
    const watched = promise.finally(() => (settled = true));
    watched.catch(() => {});
    for (let step = 0; step < maxSteps; step++) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (settled) return await watched;
      const next = Math.min(...this.#timers.map((t) => t.at));
      if (Number.isFinite(next)) this.advance(next - this.#now);
    }
    throw new Error(`the promise did not settle within ${maxSteps} steps`);
  }
}
