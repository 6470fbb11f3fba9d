/** The logistic regression behind taught heads: it solves the primal problem, deterministically. */
import { assert, assertEquals } from "../_assert.ts";
import { dualLogits, fitDual } from "../../src/head/train.ts";
import { mulberry32 } from "../../src/_util.ts";

/** Three noisy clusters in 6 dimensions, 8 points each. */
function problem() {
  const random = mulberry32(3);
  const x: number[][] = [];
  const labels: number[] = [];
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < 8; i++) {
      x.push(Array.from({ length: 6 }, (_, d) => (d === c ? 1 : 0) + (random() - 0.5) * 1.2));
      labels.push(c);
    }
  }
  const n = x.length;
  const gram = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) gram[i * n + j] = x[i].reduce((s, v, d) => s + v * x[j][d], 0);
  }
  return { x, gram, labels: Int32Array.from(labels), classes: 3 };
}

Deno.test("fitDual: the primal gradient is zero at its solution, and a refit is identical", () => {
  const p = problem();
  const lambda = 0.01;
  const model = fitDual(p, { lambda });
  const n = p.x.length, c = 3;
  // W = Xᵀ A; the primal gradient (1/N) Σ xᵢ (pᵢ - yᵢ)ᵀ + λW must vanish, and so must the bias's
  const z = dualLogits(model, p.gram, n);
  const w = Array.from(
    { length: 6 },
    (_, d) =>
      Array.from(
        { length: c },
        (_, q) => p.x.reduce((s, xi, i) => s + xi[d] * model.alpha[i * c + q], 0),
      ),
  );
  const grad = Array.from({ length: 6 }, () => new Array(c).fill(0));
  const biasGrad = new Array(c).fill(0);
  for (let i = 0; i < n; i++) {
    const row = Array.from({ length: c }, (_, q) => z[i * c + q]);
    const max = Math.max(...row);
    const e = row.map((v) => Math.exp(v - max));
    const sum = e.reduce((a, b) => a + b);
    for (let q = 0; q < c; q++) {
      const r = (e[q] / sum - (p.labels[i] === q ? 1 : 0)) / n;
      biasGrad[q] += r;
      for (let d = 0; d < 6; d++) grad[d][q] += p.x[i][d] * r;
    }
  }
  const worst = Math.max(
    ...grad.flatMap((row, d) => row.map((g, q) => Math.abs(g + lambda * w[d][q]))),
    ...biasGrad.map(Math.abs),
  );
  assert(worst < 1e-6, `gradient ${worst}`);
  // it separates the clusters it was fitted on
  let right = 0;
  for (let i = 0; i < n; i++) {
    const row = [0, 1, 2].map((q) => z[i * c + q]);
    if (row.indexOf(Math.max(...row)) === p.labels[i]) right++;
  }
  assert(right >= n - 2, `${right}/${n} right`);
  const again = fitDual(problem(), { lambda });
  assertEquals([...again.alpha], [...model.alpha]);
  assertEquals([...again.bias], [...model.bias]);
});

Deno.test("fitDual: a stronger penalty shrinks the weights", () => {
  const p = problem();
  const norm = (lambda: number) => {
    const { alpha } = fitDual(p, { lambda });
    const n = p.x.length;
    let s = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        for (let q = 0; q < 3; q++) s += alpha[i * 3 + q] * p.gram[i * n + j] * alpha[j * 3 + q];
      }
    }
    return s;
  };
  assert(norm(1) < norm(0.1) && norm(0.1) < norm(0.001));
});
