/**
 * The thread watchdog: from the inference times the model reports, it keeps the faster of two
 * thread counts (1 and the pool size) active, so the threaded path is never much slower than a
 * single thread when other processes take cores away (XNNPACK's threads spin while they wait for
 * each other; with one of 2 cores busy, 2 threads measured ~115 ms against ~42 ms for 1).
 *
 * It works per workload key (e.g. one per input size), costs a few comparisons per report and
 * switches pools by pointer between inferences (see `pools.ts`), so tensors stay valid.
 *
 * Policy, per key (each workload keeps its own decision; `before(key)` switches the pool to it):
 * the first report is warm-up (operator creation, weight packing) and ignored.
 * A single inference on the other thread count ("probe") refreshes its time: early (third
 * report, or the 32nd when a start-up calibration was clear), then periodically (every 32
 * reports, doubling to 1024 while the decision holds), and at once when the threaded median of
 * the last 3 rises 1.5x above its best. After a probe the pool is kept only if it is at least
 * 10% faster than 1 thread.
 *
 * @module
 */
import { median } from "../_util.ts";
import type { PoolSwitch } from "./pools.ts";

/** A change of the active thread count decided by the watchdog (or `setThreads`). */
export interface ThreadsChange {
  /** Threads before. */
  previous: number;
  /** Threads now. */
  threads: number;
  /** Why, with the compared times. */
  reason: string;
}

/** Tuning of {@linkcode ThreadController}; the defaults are the documented policy. */
export interface ControllerOptions {
  /** The single-thread count. @default {1} */
  low?: number;
  /** The pool size. */
  high: number;
  /** Reports per key ignored as warm-up. @default {1} */
  warmup?: number;
  /** Report index of the first probe. @default {3} */
  firstProbe?: number;
  /** Reports between periodic probes, doubled while the decision holds. @default {32} */
  period?: number;
  /** Longest period. @default {1024} */
  maxPeriod?: number;
  /** Slow-down of the threaded median over its best that triggers a probe. @default {1.5} */
  slowdown?: number;
  /** The pool is kept only if its time is below `upRatio` times the 1-thread time. @default {0.9} */
  upRatio?: number;
  /** Called after every decided change. */
  onChange?: (change: ThreadsChange) => void;
}

const WINDOW = 5;
const RECENT = 3;
const COOLDOWN = 3;

interface Probe {
  threads: number;
  returnTo: number;
  reason: string;
}

interface KeyState {
  count: number;
  samples: Map<number, number[]>;
  best: Map<number, number>;
  nextProbe: number;
  period: number;
  lastProbe: number;
  /** The thread count this workload runs on. */
  decided: number;
  /** A probe of the other count, run by this workload's next inference. */
  probe?: Probe;
}

/**
 * Checks a reported inference time.
 *
 * @throws {TypeError} when `ms` is not a number or `key` not a string.
 * @throws {RangeError} when `ms` is negative, NaN or infinite.
 */
export function checkReport(ms: unknown, key: unknown): void {
  if (typeof ms !== "number") throw new TypeError(`ms must be a number, got ${typeof ms}`);
  if (!Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`ms must be a finite number >= 0, got ${ms}`);
  }
  if (typeof key !== "string") throw new TypeError(`key must be a string, got ${typeof key}`);
}

/**
 * Chooses between 1 thread and the pool from reported inference times, per workload: each key
 * keeps its own decision (a small model may run best on 1 thread while a large one gains from 2),
 * and {@linkcode ThreadController.before} puts the pool on the key's count before it runs.
 */
export class ThreadController {
  #pools: PoolSwitch;
  #low: number;
  #high: number;
  #initial: number;
  #warmup: number;
  #firstProbe: number;
  #period: number;
  #maxPeriod: number;
  #slowdown: number;
  #upRatio: number;
  #onChange?: (change: ThreadsChange) => void;
  #keys = new Map<string, KeyState>();
  #last: KeyState | undefined;
  #stopped = false;

  /** Creates a controller over `pools`; every workload starts on the active count. */
  constructor(pools: PoolSwitch, options: ControllerOptions) {
    this.#pools = pools;
    this.#low = options.low ?? 1;
    this.#high = options.high;
    this.#initial = pools.active;
    this.#warmup = options.warmup ?? 1;
    this.#firstProbe = options.firstProbe ?? 3;
    this.#period = options.period ?? 32;
    this.#maxPeriod = options.maxPeriod ?? 1024;
    this.#slowdown = options.slowdown ?? 1.5;
    this.#upRatio = options.upRatio ?? 0.9;
    this.#onChange = options.onChange;
  }

  /** Whether reports are still acted upon. */
  get running(): boolean {
    return !this.#stopped;
  }

  /** The thread count decided for the most recently reported workload (a probe aside). */
  get decided(): number {
    return this.#last?.decided ?? this.#initial;
  }

  /** The thread count decided for workload `key`. */
  decidedFor(key: string): number {
    return this.#keys.get(key)?.decided ?? this.#initial;
  }

  /** Stops acting on reports and puts the pool back on the last workload's decided count. */
  stop(): void {
    if (this.#stopped) return;
    this.#pools.useExisting(this.decided);
    this.#stopped = true;
  }

  #state(key: string): KeyState {
    let state = this.#keys.get(key);
    if (!state) {
      state = {
        count: 0,
        samples: new Map(),
        best: new Map(),
        nextProbe: this.#firstProbe,
        period: this.#period,
        lastProbe: -Infinity,
        decided: this.#initial,
      };
      this.#keys.set(key, state);
    }
    return state;
  }

  #apply(state: KeyState): void {
    const target = state.probe?.threads ?? state.decided;
    if (this.#pools.active !== target && !this.#pools.useExisting(target)) {
      state.probe = undefined; // that pool cannot be used: stay where we are
    }
  }

  /**
   * Puts the pool on the thread count workload `key` should run on next (its decision, or the
   * other count when a probe is due). Call it before each inference when several workloads
   * share the backend; a pointer write at most.
   */
  before(key = "default"): void {
    if (this.#stopped) return;
    this.#apply(this.#state(key));
  }

  /**
   * Takes the time of one inference of workload `key` that ran on the active thread count, and
   * sets the count for that workload's next inference.
   */
  report(ms: number, key = "default"): void {
    if (this.#stopped) return;
    const state = this.#state(key);
    this.#last = state;
    state.count++;
    if (state.count <= this.#warmup) return this.#apply(state);
    const active = this.#pools.active;
    let samples = state.samples.get(active);
    if (!samples) state.samples.set(active, samples = []);
    samples.push(ms);
    if (samples.length > WINDOW) samples.shift();
    if (samples.length >= RECENT) {
      const recent = median(samples.slice(-RECENT));
      if (!(recent >= (state.best.get(active) ?? Infinity))) state.best.set(active, recent);
    }
    if (state.probe) {
      if (active === state.probe.threads) this.#finish(key, state, state.probe);
    } else if (active === state.decided) {
      const other = active === this.#high ? this.#low : this.#high;
      if (state.count >= state.nextProbe) {
        this.#start(state, other, "periodic check");
      } else if (
        active === this.#high && samples.length >= RECENT &&
        state.count - state.lastProbe > COOLDOWN
      ) {
        const recent = median(samples.slice(-RECENT));
        const best = state.best.get(active) ?? recent;
        if (recent > best * this.#slowdown) {
          this.#start(
            state,
            other,
            `${active}-thread median rose to ${(recent / best).toFixed(1)}x its best`,
          );
        }
      }
    }
    this.#apply(state);
  }

  #start(state: KeyState, threads: number, reason: string): void {
    state.samples.set(threads, []);
    state.lastProbe = state.count;
    state.probe = { threads, returnTo: state.decided, reason };
  }

  #finish(key: string, state: KeyState, probe: Probe): void {
    state.probe = undefined;
    const probed = median(state.samples.get(probe.threads)!);
    const base = median((state.samples.get(probe.returnTo) ?? []).slice(-RECENT));
    const high = probe.threads === this.#high ? probed : base;
    const low = probe.threads === this.#high ? base : probed;
    const chosen = Number.isFinite(low) && high < low * this.#upRatio ? this.#high : this.#low;
    if (chosen === probe.returnTo) {
      state.period = Math.min(state.period * 2, this.#maxPeriod);
      // The slower time is the new normal (e.g. a throttled CPU): stop re-triggering on it.
      if (chosen === this.#high) state.best.set(this.#high, high);
    } else {
      state.period = this.#period;
    }
    state.nextProbe = state.count + state.period;
    if (chosen !== state.decided) {
      const previous = state.decided;
      state.decided = chosen;
      this.#onChange?.({
        previous,
        threads: chosen,
        reason: `${probe.reason} (${key}): ${this.#high} threads ${
          high.toFixed(1)
        } ms, ${this.#low} thread ${low.toFixed(1)} ms`,
      });
    }
  }
}
