/**
 * Options of the WASM backend and the environment variables that override their defaults:
 * validation with precise errors, and the resolution order option > environment > default.
 *
 * Nothing here starts tfjs; {@linkcode resolveOptions} is a pure function of its inputs, so the
 * rules are testable without a backend.
 *
 * @module
 */
import { type EnvReader, readEnv } from "../_util.ts";

/** Environment variable with the thread count: a positive integer or `auto`. */
export const THREADS_ENV = "MOBILENET_EDGE_THREADS";

/** Environment variable that turns WASM SIMD off (`0`, `false`, `off`) or on (`1`, `true`, `on`). */
export const SIMD_ENV = "MOBILENET_EDGE_SIMD";

/**
 * Environment variable that picks the kernels of the 1x1 and depthwise 3x3 convolutions: `auto` (default),
 * `xnnpack` (tfjs' own), `relaxed-simd` or `simd-muladd` (ours, see `pointwise/install.ts`).
 */
export const KERNELS_ENV = "MOBILENET_EDGE_KERNELS";

/** What {@linkcode KERNELS_ENV} may ask for. */
export type KernelsRequest = "auto" | "xnnpack" | "relaxed-simd" | "simd-muladd";

/**
 * Parses the {@linkcode KERNELS_ENV} value (case-insensitive, blanks ignored; empty = unset).
 *
 * @throws {RangeError} for anything but `auto`, `xnnpack`, `relaxed-simd` or `simd-muladd`.
 */
export function parseKernelsEnv(raw: string): KernelsRequest | undefined {
  const text = raw.trim().toLowerCase();
  if (text === "") return undefined;
  if (["auto", "xnnpack", "relaxed-simd", "simd-muladd"].includes(text)) {
    return text as KernelsRequest;
  }
  throw new RangeError(
    `${KERNELS_ENV} must be auto, xnnpack, relaxed-simd or simd-muladd, got ${JSON.stringify(raw)}`,
  );
}

/**
 * Most threads the tfjs WASM backend can use: `init_with_threads_count` in tfjs-backend-wasm's
 * `backend.cc` caps XNNPACK's pthreadpool at 8, the size of emscripten's pre-created pool.
 */
export const MAX_THREADS = 8;

/** Default of {@linkcode BackendOptions.startTimeoutMs}. */
export const DEFAULT_START_TIMEOUT_MS = 20_000;

/** Options of `initBackend`. */
export interface BackendOptions {
  /**
   * Threads that compute one inference, 1 to {@linkcode MAX_THREADS}, or `"auto"`.
   *
   * - `1` runs the single-thread SIMD (or plain) binary and starts no worker at all; use it on
   *   edge platforms that have no workers.
   * - `n > 1` starts the threaded SIMD binary with exactly `n` threads (the caller and `n - 1`
   *   pthread workers) and keeps them, unless `adaptive` is set.
   * - `"auto"` sizes the pool to `navigator.hardwareConcurrency` (at most 8), starts on 1 thread
   *   with no worker, starts the workers shortly after the first inference, and lets the
   *   watchdog move between 1 thread and the pool at run time.
   *
   * When absent, the {@linkcode THREADS_ENV} environment variable decides, then `"auto"`.
   * @default {"auto"}
   */
  threads?: number | "auto";
  /**
   * Whether to use WASM SIMD when the runtime supports it. `false` forces the plain WASM binary,
   * which is always single-thread (tfjs ships no threaded binary without SIMD).
   *
   * When absent, the {@linkcode SIMD_ENV} environment variable decides, then `true`.
   * @default {true}
   */
  simd?: boolean;
  /**
   * Whether the watchdog may change the active thread count at run time (see
   * `reportInferenceTime`).
   * @default {true when threads is "auto", false otherwise}
   */
  adaptive?: boolean;
  /**
   * Whether to time 1 thread against the pool on a small workload at start-up and start with the
   * faster one. Costs about 30 ms, and the workers then start with the backend: with `threads:
   * "auto"` and no calibration, they start after the first inference instead.
   * @default {false}
   */
  calibrate?: boolean;
  /**
   * How long the pthread workers may take to load before the threaded start counts as failed and
   * the backend falls back to a single thread.
   * @default {20000}
   */
  startTimeoutMs?: number;
}

/** Where a resolved value came from. */
export type OptionSource = "option" | "env" | "default";

/** {@linkcode BackendOptions} after validation, every field present. */
export interface ResolvedOptions {
  /** Requested threads, or `"auto"`. */
  threads: number | "auto";
  /** Where `threads` came from. */
  threadsSource: OptionSource;
  /** Whether SIMD is wanted. */
  simd: boolean;
  /** Where `simd` came from. */
  simdSource: OptionSource;
  /** Whether the watchdog may change the thread count. */
  adaptive: boolean;
  /** Whether to calibrate at start-up. */
  calibrate: boolean;
  /** Worker load timeout in milliseconds. */
  startTimeoutMs: number;
  /** The pointwise kernels asked for by {@linkcode KERNELS_ENV}; absent when it is unset. */
  kernels?: KernelsRequest;
}

function describe(value: unknown): string {
  if (typeof value === "string") return `string ${JSON.stringify(value)}`;
  if (value === null) return "null";
  if (typeof value === "object") return Array.isArray(value) ? "an array" : "an object";
  return `${typeof value} ${String(value)}`;
}

/**
 * Validates the `threads` option.
 *
 * @throws {TypeError} when it is neither a number nor `"auto"`.
 * @throws {RangeError} when it is not an integer from 1 to {@linkcode MAX_THREADS}.
 */
export function checkThreads(value: unknown): number | "auto" {
  if (value === "auto") return value;
  if (typeof value !== "number") {
    throw new TypeError(`threads must be a number or "auto", got ${describe(value)}`);
  }
  if (!Number.isInteger(value) || value < 1 || value > MAX_THREADS) {
    throw new RangeError(
      `threads must be an integer from 1 to ${MAX_THREADS} or "auto", got ${value}`,
    );
  }
  return value;
}

/**
 * Parses the {@linkcode THREADS_ENV} value: a positive integer (at most {@linkcode MAX_THREADS})
 * or `auto`, surrounding blanks ignored. An empty value counts as unset.
 *
 * @throws {RangeError} for anything else.
 */
export function parseThreadsEnv(raw: string): number | "auto" | undefined {
  const text = raw.trim().toLowerCase();
  if (text === "") return undefined;
  if (text === "auto") return "auto";
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS) {
    throw new RangeError(
      `${THREADS_ENV} must be an integer from 1 to ${MAX_THREADS} or "auto", got ${
        JSON.stringify(raw)
      }`,
    );
  }
  return n;
}

/**
 * Parses the {@linkcode SIMD_ENV} value: `0`/`false`/`off`/`no` or `1`/`true`/`on`/`yes`
 * (case-insensitive). An empty value counts as unset.
 *
 * @throws {RangeError} for anything else.
 */
export function parseSimdEnv(raw: string): boolean | undefined {
  return parseBooleanEnv(SIMD_ENV, raw);
}

/**
 * Parses an on/off environment variable `name`: `0`, `false`, `off`, `no` or `1`, `true`, `on`,
 * `yes` (any case, blanks around ignored); `undefined` when empty.
 *
 * @throws {RangeError} for anything else, naming the variable.
 */
export function parseBooleanEnv(name: string, raw: string): boolean | undefined {
  const text = raw.trim().toLowerCase();
  if (text === "") return undefined;
  if (["0", "false", "off", "no"].includes(text)) return false;
  if (["1", "true", "on", "yes"].includes(text)) return true;
  throw new RangeError(`${name} must be 0, 1, true, false, on or off, got ${JSON.stringify(raw)}`);
}

function checkBoolean(name: string, value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "boolean") {
    throw new TypeError(`${name} must be a boolean, got ${describe(value)}`);
  }
  return value;
}

/**
 * Validates options and fills in defaults: an option wins over its environment variable, which
 * wins over the default.
 *
 * @param options what the caller passed to `initBackend`.
 * @param env reads environment variables (default {@linkcode readEnv}).
 * @throws {TypeError} when an option has the wrong type or `options` is not an object.
 * @throws {RangeError} when a value is out of range, in an option or an environment variable.
 */
export function resolveOptions(
  options: BackendOptions = {},
  env: EnvReader = readEnv,
): ResolvedOptions {
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new TypeError(`options must be an object, got ${describe(options)}`);
  }
  let threads: number | "auto" = "auto";
  let threadsSource: OptionSource = "default";
  if (options.threads !== undefined) {
    threads = checkThreads(options.threads);
    threadsSource = "option";
  } else {
    const raw = env(THREADS_ENV);
    const parsed = raw === undefined ? undefined : parseThreadsEnv(raw);
    if (parsed !== undefined) {
      threads = parsed;
      threadsSource = "env";
    }
  }
  let simd = true;
  let simdSource: OptionSource = "default";
  const simdOption = checkBoolean("simd", options.simd);
  if (simdOption !== undefined) {
    simd = simdOption;
    simdSource = "option";
  } else {
    const raw = env(SIMD_ENV);
    const parsed = raw === undefined ? undefined : parseSimdEnv(raw);
    if (parsed !== undefined) {
      simd = parsed;
      simdSource = "env";
    }
  }
  const adaptive = checkBoolean("adaptive", options.adaptive) ?? threads === "auto";
  const calibrate = checkBoolean("calibrate", options.calibrate) ?? false;
  const timeout = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  if (typeof timeout !== "number") {
    throw new TypeError(`startTimeoutMs must be a number, got ${describe(timeout)}`);
  }
  if (!(timeout > 0) || !Number.isFinite(timeout)) {
    throw new RangeError(`startTimeoutMs must be a positive finite number, got ${timeout}`);
  }
  const kernelsRaw = env(KERNELS_ENV);
  const kernels = kernelsRaw === undefined ? undefined : parseKernelsEnv(kernelsRaw);
  return {
    threads,
    threadsSource,
    simd,
    simdSource,
    adaptive,
    calibrate,
    startTimeoutMs: timeout,
    ...(kernels ? { kernels } : {}),
  };
}
