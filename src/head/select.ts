/**
 * Choosing a head by cross-validation: which feature blocks and which L2 strength, scored on
 * examples held out (all augmented views of an example stay in its fold, and only its plain
 * view is scored); then the held-out accuracy, confusion matrix and the `unknown` threshold of
 * the choice. Deterministic: folds come from a seeded shuffle, candidates are tried in a fixed
 * order, and ties keep the earlier candidate.
 *
 * @module
 */
import { mulberry32 } from "../_util.ts";
import { dualLogits, type DualModel, fitDual } from "./train.ts";
import { FEATURE_NAMES, type FeatureName } from "./features.ts";

/** One candidate: a weight per feature block (0 leaves it out) and the L2 strength. */
export interface Candidate {
  /** Weight of each block in the combined inner product. */
  blocks: Readonly<Record<FeatureName, number>>;
  /** L2 strength. */
  lambda: number;
}

/** The examples as the selection sees them. */
export interface Rows {
  /** Per block, the N x N Gram matrix of all rows (augmented views included). */
  grams: Readonly<Record<FeatureName, Float64Array>>;
  /** N class indices. */
  labels: Int32Array;
  /** N example ids: the views of one example share it. */
  examples: Int32Array;
  /** N flags: the example's plain view (the one scored when held out). */
  plain: Uint8Array;
  /** Number of classes. */
  classes: number;
}

/** What cross-validation says about the chosen candidate. */
export interface Validation {
  /** The candidate chosen. */
  candidate: Candidate;
  /** Folds used (0 when some class has a single example: no cross-validation). */
  folds: number;
  /** Held-out accuracy, 0..1 (`null` without cross-validation). */
  accuracy: number | null;
  /** Held-out mean log-loss (`null` without cross-validation). */
  logLoss: number | null;
  /** `confusion[true][predicted]` counts of held-out examples. */
  confusion: number[][];
  /** The held-out top probability of each example scored, in example order. */
  topProbabilities: number[];
}

/** Most folds used. */
export const MAX_FOLDS = 5;

/** The default grid: every non-empty set of blocks, each with these strengths. */
export const LAMBDAS = [1e-4, 1e-3, 1e-2, 1e-1];

/** The candidates tried, in order. */
export function candidates(names: readonly FeatureName[] = FEATURE_NAMES): Candidate[] {
  const out: Candidate[] = [];
  for (let mask = 1; mask < 1 << names.length; mask++) {
    const blocks = Object.fromEntries(
      FEATURE_NAMES.map((n) => [n, names.includes(n) && mask & (1 << names.indexOf(n)) ? 1 : 0]),
    ) as Record<FeatureName, number>;
    for (const lambda of LAMBDAS) out.push({ blocks, lambda });
  }
  return out;
}

/** Each example's fold: a seeded shuffle within each class, dealt round-robin. */
export function assignFolds(rows: Rows, folds: number, seed = 1): Map<number, number> {
  const random = mulberry32(seed);
  const byClass: number[][] = Array.from({ length: rows.classes }, () => []);
  rows.examples.forEach((id, i) => {
    if (rows.plain[i]) byClass[rows.labels[i]].push(id);
  });
  const fold = new Map<number, number>();
  let dealt = 0;
  for (const ids of byClass) {
    for (let i = ids.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [ids[i], ids[j]] = [ids[j], ids[i]];
    }
    // continue the deal where the last class stopped, so folds stay even in size
    for (const id of ids) fold.set(id, dealt++ % folds);
  }
  return fold;
}

/** The combined inner products of rows `a` with rows `b`, as a |a| x |b| matrix. */
export function combine(
  rows: Rows,
  blocks: Readonly<Record<FeatureName, number>>,
  a: readonly number[],
  b: readonly number[],
): Float64Array {
  const n = rows.labels.length;
  const out = new Float64Array(a.length * b.length);
  for (const name of FEATURE_NAMES) {
    const w = blocks[name];
    if (!w) continue;
    const gram = rows.grams[name];
    for (let i = 0; i < a.length; i++) {
      const row = a[i] * n;
      for (let j = 0; j < b.length; j++) out[i * b.length + j] += w * gram[row + b[j]];
    }
  }
  return out;
}

/** Class-balanced weights of rows `at`: each class weighs the same in total. */
function balance(rows: Rows, at: readonly number[]): Float64Array {
  const counts = new Array(rows.classes).fill(0);
  for (const i of at) counts[rows.labels[i]]++;
  const present = counts.filter((c) => c > 0).length;
  return Float64Array.from(at, (i) => at.length / (present * counts[rows.labels[i]]));
}

/** Fits `candidate` on rows `at`. */
export function fitRows(rows: Rows, candidate: Candidate, at: readonly number[]): DualModel {
  return fitDual({
    gram: combine(rows, candidate.blocks, at, at),
    labels: Int32Array.from(at, (i) => rows.labels[i]),
    classes: rows.classes,
    weights: balance(rows, at),
  }, { lambda: candidate.lambda });
}

/** Softmax of one row of logits. */
export function softmax(z: ArrayLike<number>, from: number, count: number): Float64Array {
  let max = -Infinity;
  for (let q = 0; q < count; q++) max = Math.max(max, z[from + q]);
  const p = new Float64Array(count);
  let sum = 0;
  for (let q = 0; q < count; q++) sum += p[q] = Math.exp(z[from + q] - max);
  for (let q = 0; q < count; q++) p[q] /= sum;
  return p;
}

interface Scored {
  right: number;
  logLoss: number;
  confusion: number[][];
  tops: number[];
}

/** Held-out scores of one candidate over the folds. */
function crossValidate(rows: Rows, candidate: Candidate, fold: Map<number, number>, folds: number) {
  const c = rows.classes;
  const scored: Scored = {
    right: 0,
    logLoss: 0,
    confusion: Array.from({ length: c }, () => new Array(c).fill(0)),
    tops: [],
  };
  const all = [...rows.labels.keys()];
  for (let f = 0; f < folds; f++) {
    const train = all.filter((i) => fold.get(rows.examples[i]) !== f);
    const test = all.filter((i) => rows.plain[i] && fold.get(rows.examples[i]) === f);
    const model = fitRows(rows, candidate, train);
    const z = dualLogits(model, combine(rows, candidate.blocks, test, train), test.length);
    test.forEach((row, t) => {
      const p = softmax(z, t * c, c);
      let best = 0;
      for (let q = 1; q < c; q++) if (p[q] > p[best]) best = q;
      const truth = rows.labels[row];
      scored.right += best === truth ? 1 : 0;
      scored.logLoss -= Math.log(Math.max(p[truth], 1e-12));
      scored.confusion[truth][best]++;
      scored.tops.push(p[best]);
    });
  }
  return scored;
}

/**
 * Cross-validates every candidate and keeps the best: the highest held-out accuracy, then the
 * lowest log-loss. With a class of a single example there is nothing to hold out: the first
 * candidate is kept, unscored.
 */
export function select(rows: Rows, tried: readonly Candidate[]): Validation {
  const perClass = new Array(rows.classes).fill(0);
  rows.labels.forEach((label, i) => perClass[label] += rows.plain[i]);
  const folds = Math.min(MAX_FOLDS, ...perClass);
  const empty = Array.from({ length: rows.classes }, () => new Array(rows.classes).fill(0));
  if (folds < 2) {
    const none = { accuracy: null, logLoss: null, confusion: empty, topProbabilities: [] };
    return { candidate: tried[0], folds: 0, ...none };
  }
  const fold = assignFolds(rows, folds);
  let best: { candidate: Candidate; scored: Scored } | undefined;
  for (const candidate of tried) {
    const scored = crossValidate(rows, candidate, fold, folds);
    if (
      !best || scored.right > best.scored.right ||
      (scored.right === best.scored.right && scored.logLoss < best.scored.logLoss)
    ) best = { candidate, scored };
  }
  const { candidate, scored } = best!;
  const n = scored.tops.length;
  return {
    candidate,
    folds,
    accuracy: scored.right / n,
    logLoss: scored.logLoss / n,
    confusion: scored.confusion,
    topProbabilities: scored.tops,
  };
}

/**
 * The threshold that `share` of the known examples pass: the top probability such that at least
 * `share` of the held-out tops are at or above it.
 */
export function passThreshold(tops: readonly number[], share = 0.95): number {
  if (tops.length === 0) return 0;
  const sorted = [...tops].sort((a, b) => a - b);
  return sorted[Math.floor((1 - share) * sorted.length + 1e-9)];
}
