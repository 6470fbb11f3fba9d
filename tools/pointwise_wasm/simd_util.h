/*
 * Helpers shared by pointwise.c and int8.c: the four lanes of a float32 vector that exist.
 */
#ifndef PW_SIMD_UTIL_H
#define PW_SIMD_UTIL_H

#include <wasm_simd128.h>

/* Four floats of `bias` from index n: those at N and beyond (all four for a null bias) zero. */
static inline v128_t load_bias(const float *bias, int n, int N) {
  if (!bias) return wasm_f32x4_splat(0.0f);
  if (n + 4 <= N) return wasm_v128_load(bias + n);
  return wasm_f32x4_make(n < N ? bias[n] : 0.0f, n + 1 < N ? bias[n + 1] : 0.0f,
                         n + 2 < N ? bias[n + 2] : 0.0f, 0.0f);
}

/* Stores the first `count` (up to 4) lanes of v at c. */
static inline void store_part(float *c, v128_t v, int count) {
  if (count > 0) c[0] = wasm_f32x4_extract_lane(v, 0);
  if (count > 1) c[1] = wasm_f32x4_extract_lane(v, 1);
  if (count > 2) c[2] = wasm_f32x4_extract_lane(v, 2);
  if (count > 3) c[3] = wasm_f32x4_extract_lane(v, 3);
}

#endif
