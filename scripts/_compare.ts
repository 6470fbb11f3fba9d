/**
 * Pure helpers of the arm64 check: reading predictions out of the JSON lines the CLIs print,
 * comparing two runs (same top-5 indices in the same order, probabilities within a tolerance),
 * and drawing the PASS/FAIL table.
 *
 * @module
 */

/** One prediction as the CLIs print it in `--json` mode. */
export interface Prediction {
  /** ImageNet class index. */
  index: number;
  /** Probability. */
  probability: number;
}

/** The tolerance on probabilities between the x86-64 and the arm64 run. */
export const PROBABILITY_TOLERANCE = 1e-4;

/**
 * The `predictions` of the first JSON line of `stdout` that has them (other lines, such as
 * progress or non-JSON text, are skipped).
 *
 * @throws {Error} when no line carries a `predictions` array of `{index, probability}`.
 */
export function predictionsFrom(stdout: string): Prediction[] {
  for (const line of stdout.split("\n")) {
    const text = line.trim();
    if (!text.startsWith("{")) continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      continue;
    }
    const list = (value as { predictions?: unknown }).predictions;
    if (!Array.isArray(list) || list.length === 0) continue;
    return list.map((p, i) => {
      const { index, probability } = p as Partial<Prediction>;
      if (typeof index !== "number" || typeof probability !== "number") {
        throw new Error(
          `prediction ${i} lacks a numeric index or probability: ${JSON.stringify(p)}`,
        );
      }
      return { index, probability };
    });
  }
  throw new Error(`no JSON line with predictions in the output:\n${stdout.slice(0, 2000)}`);
}

/** The outcome of {@linkcode comparePredictions}. */
export interface Comparison {
  /** Whether the first `k` indices are the same, in the same order. */
  sameTopK: boolean;
  /** Largest |difference| of the probabilities of the first `k` predictions. */
  maxDiff: number;
  /** `sameTopK` and `maxDiff <= tolerance`. */
  ok: boolean;
}

/**
 * Compares the first `k` predictions of two runs.
 *
 * @throws {RangeError} when either run has fewer than `k` predictions.
 */
export function comparePredictions(
  expected: readonly Prediction[],
  actual: readonly Prediction[],
  k = 5,
  tolerance = PROBABILITY_TOLERANCE,
): Comparison {
  if (expected.length < k || actual.length < k) {
    throw new RangeError(
      `need ${k} predictions from each run, got ${expected.length} and ${actual.length}`,
    );
  }
  let sameTopK = true;
  let maxDiff = 0;
  for (let i = 0; i < k; i++) {
    if (expected[i].index !== actual[i].index) sameTopK = false;
    maxDiff = Math.max(maxDiff, Math.abs(expected[i].probability - actual[i].probability));
  }
  return { sameTopK, maxDiff, ok: sameTopK && maxDiff <= tolerance };
}

/** The indices of the first `k` predictions, space-separated. */
export function topIndices(predictions: readonly Prediction[], k = 5): string {
  return predictions.slice(0, k).map((p) => p.index).join(" ");
}

/** A Markdown table with the first column left-aligned and the others right-aligned. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: readonly string[]) =>
    `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ")} |`;
  return [line(headers), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)]
    .join("\n");
}
