/**
 * The flag values the commands share (`classify`, `ingest`, `teach`): checked once, before any model
 * loads, with messages that name the flag.
 *
 * @module
 */
import { checkThreads, MAX_THREADS } from "../backend/flags.ts";
import { checkResizeMode, checkZone, type ResizeMode, type Zone } from "../image/preprocess.ts";
import { errorMessage } from "../_util.ts";

/**
 * `--top` (default 5).
 *
 * @throws {RangeError} unless a positive integer (the upper bound, the model's class count, is
 * {@linkcode checkTopForModel}'s).
 */
export function topFlag(raw: unknown): number {
  const topK = Number(raw ?? 5);
  if (!Number.isInteger(topK) || topK < 1) {
    throw new RangeError(`--top must be a positive integer, got ${raw}`);
  }
  return topK;
}

/**
 * `--top` against the loaded model's classes.
 *
 * @throws {RangeError} when `topK` is above `classes`.
 */
export function checkTopForModel(topK: number, classes: number): void {
  if (topK > classes) {
    throw new RangeError(`--top must be an integer from 1 to ${classes}, got ${topK}`);
  }
}

/**
 * `--threads`: absent, `auto`, or an integer from 1 to {@linkcode MAX_THREADS}.
 *
 * @throws {RangeError} for anything else.
 */
export function threadsFlag(raw: unknown): number | "auto" | undefined {
  if (raw === undefined || raw === "auto") return raw;
  try {
    return checkThreads(Number(raw));
  } catch {
    throw new RangeError(
      `--threads must be a positive integer or "auto" (at most ${MAX_THREADS}), got ${raw}`,
    );
  }
}

/**
 * `--resize`: absent or a resize mode.
 *
 * @throws {RangeError} for anything else.
 */
export function resizeFlag(raw: unknown): ResizeMode | undefined {
  return raw === undefined ? undefined : checkResizeMode(raw);
}

/**
 * `--zone x,y,w,h` (or `flag`).
 *
 * @throws {RangeError} unless four fractions making a rectangle inside the frame.
 */
export function zoneFlag(raw: unknown, flag = "--zone"): Zone | undefined {
  if (raw === undefined) return undefined;
  const parts = String(raw).split(",").map((p) => p.trim());
  const [x, y, width, height] = parts.map(Number);
  if (parts.length !== 4 || parts.some((p) => p === "")) {
    throw new RangeError(`${flag} must be x,y,w,h (four fractions 0..1), got ${raw}`);
  }
  try {
    return checkZone({ x, y, width, height });
  } catch (error) {
    throw new RangeError(`${flag} ${raw}: ${errorMessage(error)}`);
  }
}

/**
 * `--precision`: absent, `float32` or `int8`.
 *
 * @throws {RangeError} for anything else.
 */
export function precisionFlag(raw: unknown): "float32" | "int8" | undefined {
  if (raw === undefined || raw === "float32" || raw === "int8") return raw;
  throw new RangeError(`--precision must be float32 or int8, got ${raw}`);
}
