/**
 * Multinomial logistic regression with an L2 penalty, trained through the examples' Gram matrix
 * (`K = X Xᵀ`, N x N) rather than the features (N x D): with few examples and long feature
 * vectors this is D/N times less work, cross-validation reuses blocks of one matrix, and weighted
 * sums of several feature blocks' matrices try block weightings for free. The weights are
 * `W = Xᵀ A`: every minimiser of an L2-penalised loss lies in the span of the examples, and
 * L-BFGS started at zero stays there, so this is exactly the primal problem.
 *
 * Deterministic bit for bit: plain loops in a fixed order, float64, no randomness.
 *
 * @module
 */

/** A problem: the Gram matrix of the examples, their classes and weights. */
export interface Problem {
  /** N x N, row-major: `K[i * n + j] = <x_i, x_j>`. */
  gram: Float64Array;
  /** N class indices, 0..classes-1. */
  labels: Int32Array;
  /** Number of classes. */
  classes: number;
  /** N example weights (summing to N for a mean loss); all 1 when absent. */
  weights?: Float64Array;
}

/** A trained model in the span of the examples: logits `z = K_row · A + b`. */
export interface DualModel {
  /** N x C coefficients, row-major. */
  alpha: Float64Array;
  /** C biases. */
  bias: Float64Array;
}

/** Options of {@linkcode fitDual}. */
export interface FitOptions {
  /** L2 strength on the weights (the loss is the weighted mean cross-entropy). */
  lambda: number;
  /** Most L-BFGS iterations. @default {300} */
  maxIterations?: number;
  /** Stop when the gradient's norm is under this. @default {1e-7} */
  tolerance?: number;
}

const MEMORY = 8;

/** `out = K · M` for `K` R x N and `M` N x C (both row-major), in a fixed order. */
function gramTimes(gram: Float64Array, m: Float64Array, r: number, c: number): Float64Array {
  const n = m.length / c;
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) {
    const row = i * n;
    const o = i * c;
    for (let j = 0; j < n; j++) {
      const k = gram[row + j];
      if (k === 0) continue;
      const mj = j * c;
      for (let q = 0; q < c; q++) out[o + q] += k * m[mj + q];
    }
  }
  return out;
}

/** Softmax of each row of `z` (N x C) into `p`; returns the weighted mean cross-entropy. */
function softmaxLoss(
  z: Float64Array,
  p: Float64Array,
  problem: Problem,
  n: number,
  c: number,
): number {
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const o = i * c;
    let max = -Infinity;
    for (let q = 0; q < c; q++) max = Math.max(max, z[o + q]);
    let sum = 0;
    for (let q = 0; q < c; q++) {
      p[o + q] = Math.exp(z[o + q] - max);
      sum += p[o + q];
    }
    for (let q = 0; q < c; q++) p[o + q] /= sum;
    const w = problem.weights?.[i] ?? 1;
    loss += w * (Math.log(sum) + max - z[o + problem.labels[i]]);
  }
  return loss / n;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** `a + t * b`, new array. */
function axpy(a: Float64Array, t: number, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] + t * b[i];
  return out;
}

/**
 * A point of the search with what the gradient and the metric need: coefficients `a` (A then
 * b, flattened), `ka` (K·A then b: the metric's image of `a`), logits, probabilities, loss.
 */
interface Point {
  a: Float64Array;
  ka: Float64Array;
  z: Float64Array;
  p: Float64Array;
  value: number;
}

/** Logits of all examples for coefficients whose metric image is `ka`. */
function logits(ka: Float64Array, n: number, c: number): Float64Array {
  const z = new Float64Array(n * c);
  const bias = n * c;
  for (let i = 0; i < n; i++) {
    for (let q = 0; q < c; q++) z[i * c + q] = ka[i * c + q] + ka[bias + q];
  }
  return z;
}

function makePoint(a: Float64Array, ka: Float64Array, problem: Problem, lambda: number): Point {
  const n = problem.labels.length;
  const c = problem.classes;
  const z = logits(ka, n, c);
  const p = new Float64Array(n * c);
  const loss = softmaxLoss(z, p, problem, n, c);
  // penalty: tr(Aᵀ K A) / 2 (the bias is not penalised)
  let penalty = 0;
  for (let i = 0; i < n * c; i++) penalty += a[i] * ka[i];
  return { a, ka, z, p, value: loss + lambda * penalty / 2 };
}

/** The gradient in coefficient coordinates: `(P - Y) w / N + λA`, then the bias part. */
function gradient(point: Point, problem: Problem, lambda: number): Float64Array {
  const n = problem.labels.length;
  const c = problem.classes;
  const g = new Float64Array(n * c + c);
  for (let i = 0; i < n; i++) {
    const w = (problem.weights?.[i] ?? 1) / n;
    for (let q = 0; q < c; q++) {
      const r = w * (point.p[i * c + q] - (problem.labels[i] === q ? 1 : 0));
      g[i * c + q] = r + lambda * point.a[i * c + q];
      g[n * c + q] += r;
    }
  }
  return g;
}

/** The metric's image of coefficients `v`: K·(A part), bias part unchanged. */
function metric(gram: Float64Array, v: Float64Array, n: number, c: number): Float64Array {
  const out = new Float64Array(v.length);
  out.set(gramTimes(gram, v.subarray(0, n * c), n, c));
  out.set(v.subarray(n * c), n * c);
  return out;
}

/** L-BFGS' two-loop recursion, carrying the metric images along; returns `-H g` and its image. */
function direction(
  g: Float64Array,
  kg: Float64Array,
  history: { s: Float64Array; ks: Float64Array; y: Float64Array; ky: Float64Array }[],
) {
  let q: Float64Array = g.slice();
  let kq: Float64Array = kg.slice();
  const alphas: number[] = [];
  for (let i = history.length - 1; i >= 0; i--) {
    const h = history[i];
    const rho = 1 / dot(h.y, h.ks);
    const alpha = rho * dot(h.ks, q);
    alphas[i] = alpha;
    q = axpy(q, -alpha, h.y);
    kq = axpy(kq, -alpha, h.ky);
  }
  const last = history[history.length - 1];
  const gamma = last ? dot(last.ks, last.y) / dot(last.y, last.ky) : 1;
  let r: Float64Array = q.map((x) => x * gamma);
  let kr: Float64Array = kq.map((x) => x * gamma);
  for (let i = 0; i < history.length; i++) {
    const h = history[i];
    const rho = 1 / dot(h.y, h.ks);
    const beta = rho * dot(h.ky, r);
    r = axpy(r, alphas[i] - beta, h.s);
    kr = axpy(kr, alphas[i] - beta, h.ks);
  }
  return { d: r.map((x) => -x), kd: kr.map((x) => -x) };
}

/**
 * Fits the model: minimises the weighted mean cross-entropy plus `λ/2 ‖W‖²` by L-BFGS with a
 * backtracking (Armijo) line search; the logits are linear along a search line, so each trial
 * step costs N·C, not N²·C.
 */
export function fitDual(problem: Problem, options: FitOptions): DualModel {
  const n = problem.labels.length;
  const c = problem.classes;
  const lambda = options.lambda;
  const maxIterations = options.maxIterations ?? 300;
  const tolerance = options.tolerance ?? 1e-7;
  let point = makePoint(new Float64Array(n * c + c), new Float64Array(n * c + c), problem, lambda);
  let g = gradient(point, problem, lambda);
  let kg = metric(problem.gram, g, n, c);
  const history: { s: Float64Array; ks: Float64Array; y: Float64Array; ky: Float64Array }[] = [];
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    const norm = Math.sqrt(dot(g, kg));
    if (!(norm > tolerance)) break;
    let { d, kd } = direction(g, kg, history);
    let slope = dot(kg, d);
    if (!(slope < 0)) { // not a descent direction: restart from the gradient
      history.length = 0;
      d = g.map((x) => -x);
      kd = kg.map((x) => -x);
      slope = -norm * norm;
    }
    let step = history.length === 0 ? Math.min(1, 1 / norm) : 1;
    let next: Point | undefined;
    for (let trial = 0; trial < 40; trial++) {
      const candidate = makePoint(
        axpy(point.a, step, d),
        axpy(point.ka, step, kd),
        problem,
        lambda,
      );
      if (candidate.value <= point.value + 1e-4 * step * slope) {
        next = candidate;
        break;
      }
      step /= 2;
    }
    if (!next) break; // no decrease possible: at the minimum within float precision
    const g2 = gradient(next, problem, lambda);
    const kg2 = metric(problem.gram, g2, n, c);
    const s = axpy(next.a, -1, point.a);
    const ks = axpy(next.ka, -1, point.ka);
    const y = axpy(g2, -1, g);
    const ky = axpy(kg2, -1, kg);
    if (dot(y, ks) > 1e-12) {
      history.push({ s, ks, y, ky });
      if (history.length > MEMORY) history.shift();
    }
    const improvement = point.value - next.value;
    point = next;
    g = g2;
    kg = kg2;
    if (improvement <= 1e-12 * Math.max(1, Math.abs(point.value))) break;
  }
  return { alpha: point.a.slice(0, n * c), bias: point.a.slice(n * c) };
}

/**
 * Logits for new examples: `cross` holds their inner products with the training examples
 * (M x N, row-major).
 */
export function dualLogits(model: DualModel, cross: Float64Array, m: number): Float64Array {
  const c = model.bias.length;
  const z = gramTimes(cross, model.alpha, m, c);
  for (let i = 0; i < m; i++) for (let q = 0; q < c; q++) z[i * c + q] += model.bias[q];
  return z;
}
