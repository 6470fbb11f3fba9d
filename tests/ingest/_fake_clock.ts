/**
 * A fake {@linkcode Clock} for tests: time moves only when `advance` is called, and sleeps
 * resolve when it passes their deadline.
 *
 * @module
 */
import type { Clock } from "../../src/ingest/clock.ts";

/** A manual clock; `random` returns a fixed value. */
export class FakeClock implements Clock {
  #now: number;
  #sleepers: { at: number; resolve: () => void }[] = [];
  /** Every sleep asked for, in ms. */
  readonly sleeps: number[] = [];
  /** What `random()` returns. */
  randomValue = 0.5;

  constructor(start = 1_700_000_000_000) {
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
    const entry = { at: this.#now + ms, resolve };
    this.#sleepers.push(entry);
    signal?.addEventListener("abort", () => resolve(), { once: true });
    return promise;
  }

  /** Sleeps pending now. */
  get pending(): number {
    return this.#sleepers.length;
  }

  /** Moves time on by `ms`, waking the sleepers due, and lets their continuations run. */
  async advance(ms: number): Promise<void> {
    this.#now += ms;
    const due = this.#sleepers.filter((s) => s.at <= this.#now);
    this.#sleepers = this.#sleepers.filter((s) => s.at > this.#now);
    for (const s of due) s.resolve();
    // Let the woken continuations run (and schedule their next sleeps).
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}
