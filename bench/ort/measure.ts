/**
 * Timing and the runner protocol of the ONNX Runtime comparison: each runner process times one
 * runtime at one thread count (warm-up calls, then `runs` timed calls, one at a time) and prints
 * a single {@linkcode RunnerReport} as JSON on stdout.
 *
 * @module
 */

/** Least number of timed calls per case; fewer makes a median too noisy to compare. */
export const MIN_RUNS = 30;

/** Options every runner takes: `--threads N --runs N --warmup N`. */
export interface RunnerOptions {
  /** Threads per inference. */
  threads: number;
  /** Timed calls per case (at least {@linkcode MIN_RUNS}). */
  runs: number;
  /** Untimed calls per case before timing. */
  warmup: number;
}

/** Summary of one case's timed calls, in milliseconds. */
export interface TimingStats {
  /** Number of timed calls. */
  runs: number;
  /** Median. */
  median: number;
  /** Fastest call. */
  min: number;
  /** 10th percentile. */
  p10: number;
  /** 90th percentile. */
  p90: number;
}

/** One model's result in a {@linkcode RunnerReport}. */
export interface CaseReport {
  /** The case id (`1.0/224`, ...). */
  id: string;
  /** Creating the model or session, milliseconds (not part of the comparison). */
  setupMs: number;
  /** Timings of the calls. */
  stats: TimingStats;
  /** Every timed call, milliseconds, in order (lets the caller pool several runs). */
  times: number[];
  /** The probabilities of the last call, to check both runtimes computed the same thing. */
  probs: number[];
}

/** What a runner prints. */
export interface RunnerReport {
  /** Which runtime. */
  runtime: "ours" | "ort" | "native";
  /** Threads asked for. */
  threadsRequested: number;
  /** Threads actually computing (ours: `backendInfo().threads`; ORT: `env.wasm.numThreads`). */
  threadsActual: number;
  /** What ran: WASM binary and why, as the runtime reports it. */
  detail: string;
  /** Ours: the int8 kernels (`backendInfo().int8.kernels`). */
  int8?: string;
  /** Per-model results, in {@linkcode CASES} order. */
  cases: CaseReport[];
}

function intArg(args: readonly string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(args[i + 1]);
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(`--${name} needs a non-negative integer, got ${args[i + 1]}`);
  }
  return value;
}

/**
 * Parses `--threads N --runs N --warmup N`.
 *
 * @throws {RangeError} for a malformed number, threads < 1 or runs < {@linkcode MIN_RUNS}.
 */
export function parseRunnerOptions(args: readonly string[]): RunnerOptions {
  const options = {
    threads: intArg(args, "threads", 1),
    runs: intArg(args, "runs", 50),
    warmup: intArg(args, "warmup", 10),
  };
  if (options.threads < 1) throw new RangeError("--threads must be at least 1");
  if (options.runs < MIN_RUNS) throw new RangeError(`--runs must be at least ${MIN_RUNS}`);
  return options;
}

function quantile(sorted: readonly number[], q: number): number {
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

/** Median, minimum and 10th/90th percentiles of `times`. */
export function summarize(times: readonly number[]): TimingStats {
  const sorted = [...times].sort((a, b) => a - b);
  return {
    runs: sorted.length,
    median: quantile(sorted, 0.5),
    min: sorted[0],
    p10: quantile(sorted, 0.1),
    p90: quantile(sorted, 0.9),
  };
}

/**
 * Calls `call` `warmup` times, then times `runs` calls one after another (each awaited) and
 * returns the stats and the last call's result.
 */
export async function timeCalls<T>(
  call: () => T | Promise<T>,
  options: Pick<RunnerOptions, "runs" | "warmup">,
): Promise<{ stats: TimingStats; times: number[]; last: T }> {
  let last!: T;
  for (let i = 0; i < options.warmup; i++) last = await call();
  const times: number[] = [];
  for (let i = 0; i < options.runs; i++) {
    const start = performance.now();
    last = await call();
    times.push(performance.now() - start);
  }
  return { stats: summarize(times), times, last };
}

/**
 * Like {@linkcode timeCalls} for several calls at once, interleaved (warm-up calls, then `runs`
 * rounds of one timed call each, in order), so that background load hits them alike: the stats,
 * times and last result of each.
 */
export async function timeInterleaved<T>(
  calls: (() => T | Promise<T>)[],
  options: Pick<RunnerOptions, "runs" | "warmup">,
): Promise<{ stats: TimingStats; times: number[]; last: T }[]> {
  const last: T[] = [];
  for (let i = 0; i < options.warmup; i++) {
    for (const [j, call] of calls.entries()) last[j] = await call();
  }
  const times: number[][] = calls.map(() => []);
  for (let i = 0; i < options.runs; i++) {
    for (const [j, call] of calls.entries()) {
      const start = performance.now();
      last[j] = await call();
      times[j].push(performance.now() - start);
    }
  }
  return times.map((t, j) => ({ stats: summarize(t), times: t, last: last[j] }));
}

/** Prints the report as one JSON line on stdout, the last thing a runner does. */
export function emitReport(report: RunnerReport): void {
  console.log(JSON.stringify(report));
}
