/**
 * The thread watchdog: from the inference times the model reports, it keeps the faster of two
 * thread counts (1 and the pool size) active, so the threaded path is never much slower than a
 * single thread when other processes take cores away (XNNPACK's threads spin while they wait for
 * each other; with one of 2 cores busy, 2 threads measured ~115 ms against ~42 ms for 1).
 *
 * It works per workload key (e.g. one per input size), costs a few comparisons per report and
 * switches pools by pointer between inferences (see `thread_pool.ts`), so tensors stay valid.
 *
 * Policy, per key: the first report is warm-up (operator creation, weight packing) and ignored.
 * A single inference on the other thread count ("probe") refreshes its time: early (third
 * report, or the 32nd when a start-up calibration was clear), then periodically (every 32
 * reports, doubling to 1024 while the decision holds), and at once when the threaded median of
 * the last 3 rises 1.5x above its best. After a probe the pool is kept only if it is at least
 * 10% faster than 1 thread.
 *
 * @module
 */

/** A change of the active thread count decided by the watchdog (or `setThreads`). */
export interface ThreadsChange {
  /** Threads before. */
  previous: number;
  /** Threads now. */
  threads: number;
  /** Why, with the compared times. */
  reason: string;
}

/** What the controller needs of the pools. */
export interface PoolSwitch {
  /** Threads of the active pool. */
  readonly active: number;
  /** Synchronous switch to an existing pool; false if impossible. */
  useExisting(threads: number): boolean;
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
const ABANDON = 8;

interface KeyState {
  count: number;
  samples: Map<number, number[]>;
  best: Map<number, number>;
  nextProbe: number;
  period: number;
  lastProbe: number;
}

interface Probe {
  key: string;
  foreign: number;
  threads: number;
  returnTo: number;
  reason: string;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
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

/** Chooses between 1 thread and the pool from reported inference times. */
export class ThreadController {
  #pools: PoolSwitch;
  #low: number;
  #high: number;
  #warmup: number;
  #firstProbe: number;
  #period: number;
  #maxPeriod: number;
  #slowdown: number;
  #upRatio: number;
  #onChange?: (change: ThreadsChange) => void;
  #keys = new Map<string, KeyState>();
  #probe: Probe | undefined;
  #stopped = false;
  /** Thread count the controller decided on (a probe briefly runs the other one). */
  decided: number;

  /** Creates a controller over `pools`, starting from the active count. */
  constructor(pools: PoolSwitch, options: ControllerOptions) {
    this.#pools = pools;
    this.#low = options.low ?? 1;
    this.#high = options.high;
    this.#warmup = options.warmup ?? 1;
    this.#firstProbe = options.firstProbe ?? 3;
    this.#period = options.period ?? 32;
    this.#maxPeriod = options.maxPeriod ?? 1024;
    this.#slowdown = options.slowdown ?? 1.5;
    this.#upRatio = options.upRatio ?? 0.9;
    this.#onChange = options.onChange;
    this.decided = pools.active;
  }

  /** Whether reports are still acted upon. */
  get running(): boolean {
    return !this.#stopped;
  }

  /** Stops acting on reports and ends a probe in progress (back to the decided count). */
  stop(): void {
    if (this.#probe) this.#pools.useExisting(this.decided);
    this.#probe = undefined;
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
      };
      this.#keys.set(key, state);
    }
    return state;
  }

  /**
   * Takes the time of one inference of workload `key` that ran on the active thread count, and
   * may switch the count for the next one.
   */
  report(ms: number, key = "default"): void {
    if (this.#stopped) return;
    const state = this.#state(key);
    state.count++;
    if (state.count <= this.#warmup) return;
    const active = this.#pools.active;
    let samples = state.samples.get(active);
    if (!samples) state.samples.set(active, samples = []);
    samples.push(ms);
    if (samples.length > WINDOW) samples.shift();
    if (samples.length >= RECENT) {
      const recent = median(samples.slice(-RECENT));
      if (!(recent >= (state.best.get(active) ?? Infinity))) state.best.set(active, recent);
    }
    const probe = this.#probe;
    if (probe) {
      if (probe.key === key) this.#finish(state, probe);
      else if (++probe.foreign > ABANDON) {
        // The probing workload stopped reporting: give up the probe.
        this.#probe = undefined;
        this.#pools.useExisting(this.decided);
      }
      return;
    }
    const other = active === this.#high ? this.#low : this.#high;
    if (active !== this.decided) return;
    if (state.count >= state.nextProbe) {
      this.#start(key, state, other, "periodic check");
      return;
    }
    if (
      active === this.#high && samples.length >= RECENT && state.count - state.lastProbe > COOLDOWN
    ) {
      const recent = median(samples.slice(-RECENT));
      const best = state.best.get(active) ?? recent;
      if (recent > best * this.#slowdown) {
        this.#start(
          key,
          state,
          other,
          `${active}-thread median rose to ${(recent / best).toFixed(1)}x its best`,
        );
      }
    }
  }

  #start(key: string, state: KeyState, threads: number, reason: string): void {
    if (!this.#pools.useExisting(threads)) return;
    state.samples.set(threads, []);
    state.lastProbe = state.count;
    this.#probe = { key, foreign: 0, threads, returnTo: this.decided, reason };
  }

  #finish(state: KeyState, probe: Probe): void {
    this.#probe = undefined;
    const probed = median(state.samples.get(probe.threads)!);
    const base = median((state.samples.get(probe.returnTo) ?? []).slice(-RECENT));
    const high = probe.threads === this.#high ? probed : base;
    const low = probe.threads === this.#high ? base : probed;
    const target = Number.isFinite(low) && high < low * this.#upRatio ? this.#high : this.#low;
    let chosen = target;
    if (!this.#pools.useExisting(chosen)) {
      chosen = probe.returnTo;
      this.#pools.useExisting(chosen);
    }
    if (chosen === probe.returnTo) {
      state.period = Math.min(state.period * 2, this.#maxPeriod);
      // The slower time is the new normal (e.g. a throttled CPU): stop re-triggering on it.
      if (chosen === this.#high) state.best.set(this.#high, high);
    } else {
      state.period = this.#period;
    }
    state.nextProbe = state.count + state.period;
    if (chosen !== this.decided) {
      const previous = this.decided;
      this.decided = chosen;
      this.#onChange?.({
        previous,
        threads: chosen,
        reason: `${probe.reason}: ${this.#high} threads ${
          high.toFixed(1)
        } ms, ${this.#low} thread ${low.toFixed(1)} ms`,
      });
    }
  }
}
