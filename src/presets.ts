/**
 * Named bundles of {@linkcode LoadMobileNetOptions} defaults. One for now: `"small-board"`,
 * for 512 MB boards such as the Raspberry Pi Zero 2 W.
 *
 * `"small-board"` means: the 0.25/224 model, 1 thread (the single-thread SIMD binary: no worker
 * pool, no calibration, no watchdog), and weights read one shard at a time (at most one 1 MiB
 * shard held in JS memory; each tensor is uploaded to the backend and its JS copy dropped). Options
 * given explicitly win over the preset, and so does `MOBILENET_EDGE_THREADS`.
 *
 * Choose it with `preset: "small-board"`, `--small-board` on `deno task classify`, or the environment
 * variable {@linkcode SMALL_BOARD_ENV} (`MOBILENET_EDGE_SMALL_BOARD=1`).
 *
 * @module
 */
import { parseBooleanEnv, THREADS_ENV } from "./backend/flags.ts";
import { type EnvReader, readEnv } from "./_util.ts";

/** Environment variable that selects the `"small-board"` preset (`1`/`true`/`on`/`yes`). */
export const SMALL_BOARD_ENV = "MOBILENET_EDGE_SMALL_BOARD";

/** A named set of defaults: `"small-board"`, or `"default"` (none, even with the env var). */
export type Preset = "default" | "small-board";

/** The defaults `"small-board"` stands for. */
export const SMALL_BOARD = Object.freeze({
  model: "0.25_224",
  threads: 1,
  concurrency: 1,
});

/** The options a preset fills in. */
export interface PresetOptions {
  /** See `LoadMobileNetOptions.preset`. */
  preset?: Preset;
  /** A model name, path or URL. */
  model?: string | URL;
  /** Threads per inference. */
  threads?: number | "auto";
  /** Shards read at once. */
  concurrency?: number;
}

/**
 * Parses the {@linkcode SMALL_BOARD_ENV} value: `1`/`true`/`on`/`yes` turn the preset on,
 * `0`/`false`/`off`/`no` and empty leave it off (case-insensitive).
 *
 * @throws {RangeError} for anything else.
 */
export function parseSmallBoardEnv(raw: string): boolean {
  return parseBooleanEnv(SMALL_BOARD_ENV, raw) ?? false;
}

/**
 * Fills in the defaults of `options.preset` (or of {@linkcode SMALL_BOARD_ENV} when no preset
 * is given) where `options` leaves them out. Returns `options` itself when no preset applies.
 *
 * @throws {RangeError} for an unknown preset or a bad {@linkcode SMALL_BOARD_ENV} value.
 * @example
 * ```ts
 * import { applyPreset } from "./presets.ts";
 * applyPreset({ preset: "small-board", model: "0.75_224" }, () => undefined);
 * // { preset: "small-board", model: "0.75_224", threads: 1, concurrency: 1 }
 * ```
 */
export function applyPreset<T extends PresetOptions>(
  options: T,
  env: EnvReader = readEnv,
): T & PresetOptions {
  const { preset } = options;
  if (preset !== undefined && preset !== "default" && preset !== "small-board") {
    throw new RangeError(
      `preset must be "small-board" or "default", got ${JSON.stringify(preset)}`,
    );
  }
  if (preset === "default") return options;
  if (preset === undefined) {
    const raw = env(SMALL_BOARD_ENV);
    if (raw === undefined || !parseSmallBoardEnv(raw)) return options;
  }
  const threadsFromEnv = env(THREADS_ENV)?.trim();
  return {
    ...options,
    model: options.model ?? SMALL_BOARD.model,
    threads: options.threads ?? (threadsFromEnv ? undefined : SMALL_BOARD.threads),
    concurrency: options.concurrency ?? SMALL_BOARD.concurrency,
  };
}
