/**
 * The panel order of the backend's float32 GEMM (`pw_pack` in `tools/pointwise_wasm/pointwise.c`):
 * a row-major `[k, n]` matrix cut into panels of `panel` columns, panel after panel, each holding
 * its columns row by row. A 1x1 filter (or the classifier's matrix) uploaded in this order is the
 * backend's packed copy itself (`FilterPacking` in `src/backend/pointwise/install.ts`), so a load
 * writes its bytes once.
 *
 * @module
 */

/**
 * Writes the row-major `[k, n]` matrix `values`, each column times `scale[column]` when given,
 * into `out` in panel order for panels of `panel` columns. Returns the view of `out` written.
 *
 * @example
 * ```ts
 * import { panelOrder } from "./panels.ts";
 * // [2, 4] in panels of 2 columns: columns 0-1 of both rows, then columns 2-3
 * const out = panelOrder(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]), 2, 4, 2, new Float32Array(8));
 * console.log([...out]); // [1, 2, 5, 6, 3, 4, 7, 8]
 * ```
 *
 * @throws {RangeError} when `n` is not a multiple of `panel`, `values` is not `k * n` long or
 * `out` is shorter.
 */
export function panelOrder(
  values: Float32Array,
  k: number,
  n: number,
  panel: number,
  out: Float32Array,
  scale?: Float64Array,
): Float32Array {
  if (!(panel > 0) || n % panel !== 0) {
    throw new RangeError(`${n} columns do not split into panels of ${panel}`);
  }
  if (values.length !== k * n || out.length < k * n) {
    throw new RangeError(`a [${k}, ${n}] matrix needs ${k * n} values (and room for them)`);
  }
  if (scale && scale.length !== n) throw new RangeError(`${scale.length} scales for ${n} columns`);
  // Row by row, so `values` is read in order; each row's panels land `k * panel` apart.
  for (let row = 0; row < k; row++) {
    const from = row * n;
    for (let p = 0; p < n; p += panel) {
      const to = p * k + row * panel;
      if (scale) {
        for (let j = 0; j < panel; j++) out[to + j] = values[from + p + j] * scale[p + j];
      } else {
        for (let j = 0; j < panel; j++) out[to + j] = values[from + p + j];
      }
    }
  }
  return out.subarray(0, k * n);
}
