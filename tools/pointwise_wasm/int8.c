/*
 * Int8 pointwise (1x1) convolution for mobilenet-edge: C = clamp(scale * (A x B) + bias), where
 *   A = the input [M rows, Kp] as unsigned bytes 0..127 (q8_quant writes it from float32 ReLU6
 *       activations: q = min(127, max(0, nearest(x / s_a))), Kp = K rounded up to 4, zeros past K),
 *       or, for a wide layer (8-bit activations, `levels` 254), q = min(254, ...) split into two
 *       bytes 0..127, t1 = min(q, 127) and t2 = q - t1, as rows of 2 Kp bytes: each group of 4 k
 *       as t1's 4 bytes then t2's. The filter is then packed as a [2 Kp, N] one whose rows repeat
 *       the same pattern (group g's 4 rows twice), so the unchanged GEMM sums w (t1 + t2) = w q:
 *       two dot products where one is used, each with its second operand in 0..127, so exact on
 *       every lowering,
 *   B = the filter [K, N] quantized per output channel, symmetric (q8_pack: w = q * s_w[n],
 *       q in -127..127), packed into column panels of NR,
 *   C = the float32 output [M, N], scale[n] = s_a * s_w[n] (float32), bias float32.
 * The products are summed exactly in int32; the epilogue converts the sum to float32, multiplies
 * by scale[n], adds bias[n] and clamps to [lo, hi], each step rounded in float32 (no fused
 * multiply-add), so every output is the same on every machine.
 *
 * Two inner products, chosen at build time:
 *   Q8_RELAXED=1  i32x4.relaxed_dot_i8x16_i7x16_add_s on groups of 4 k (weights as the i8
 *                 operand, activations as the 7-bit one). V8 lowers it to vpdpbusd (AVX-VNNI),
 *                 sdot (arm64 dot product) or pmaddubsw + pmaddwd (SSSE3) / smull + addp (older
 *                 arm64): exact on every one of them because the second operand is in 0..127
 *                 (pmaddubsw's 16-bit pair sums stay below 2 * 127 * 127).
 *   Q8_RELAXED=0  plain SIMD: i32x4.dot_i16x8_s on groups of 2 k (bytes widened to 16 bits).
 * Both compute the same integers, so both give bit-identical outputs.
 *
 * Packed block of a [K, N] filter (q8_packed_bytes): panels of NR columns; panel p holds, for
 * each group g of G consecutive k (G = 4 or 2), the G bytes of column 0, then column 1, ...
 * (zeros past K and past N); then scale[n] for every column of every panel (float32, 0 past N);
 * then the bias the epilogue adds (float32, 0 past N): the layer's, corrected for the mean error
 * that quantizing the weights makes (bias correction, see q8_pack).
 *
 * Same rules as pointwise.c: no libc, no data, no stack; the memory is imported.
 */
#include <wasm_simd128.h>

#include "simd_util.h"

/* Every float32 operation rounded on its own (no contraction to a fused multiply-add, relaxed or
 * not): the same results on every machine. */
#pragma clang fp contract(off)

#ifndef Q8_MR
#define Q8_MR 6
#endif
#ifndef Q8_NR
#define Q8_NR 8
#endif
#ifndef Q8_RELAXED
#define Q8_RELAXED 1
#endif

#if Q8_RELAXED
#define Q8_G 4
#else
#define Q8_G 2
#if Q8_NR % 8
#error "the 16-bit build needs Q8_NR a multiple of 8"
#endif
#endif
#define QNV (Q8_NR / 4)

#define EXPORT(name) __attribute__((export_name(#name), visibility("default")))

typedef unsigned char u8;
typedef signed char i8;

/* The tile shape of this build, and the k group of its inner product. */
EXPORT(q8_mr) int q8_mr(void) { return Q8_MR; }
EXPORT(q8_nr) int q8_nr(void) { return Q8_NR; }
EXPORT(q8_group) int q8_group(void) { return Q8_G; }

static inline int round4(int k) { return (k + 3) & ~3; }

/* Bytes of the packed block of a [K, N] filter: int8 panels, then a float32 scale and a float32
 * bias a column. */
EXPORT(q8_packed_bytes) int q8_packed_bytes(int K, int N) {
  const int cols = (N + Q8_NR - 1) / Q8_NR * Q8_NR;
  return cols * round4(K) + cols * 8;
}

/* Byte offset of the bias in the packed block of a [K, N] filter. */
EXPORT(q8_bias_offset) int q8_bias_offset(int K, int N) {
  const int cols = (N + Q8_NR - 1) / Q8_NR * Q8_NR;
  return cols * round4(K) + cols * 4;
}

static inline float absf(float x) { return x < 0.0f ? -x : x; }

/* The row of the [K, N] filter that row kv of a wide layer's [2 Kp, N] packing repeats. */
static inline int wide_row(int kv) { return (kv >> 3) * 4 + (kv & 3); }

/*
 * Quantizes the row-major float32 [K, N] filter w per output channel and packs it at `packed`:
 * s_w[n] = max_k |w[k, n]| / 127, q = nearest(w * (127 / max)) (ties to even; 0 for a column of
 * zeros), scale[n] = a_scale * s_w[n]. The block's bias is bias[n] (0 when bias is 0) minus, when
 * `mean` (the mean of each input channel, measured at calibration) is given, the mean error of
 * the quantized column: sum over k of mean[k] * (q[k, n] * s_w[n] - w[k, n]), in k order.
 * `wide` (8-bit activations): packs the [2 Kp, N] filter of the split input (see the top), whose
 * block is q8_packed_bytes(2 Kp, N) bytes; its scales and biases are the same.
 */
EXPORT(q8_pack)
void q8_pack(const float *w, i8 *packed, int K, int N, float a_scale, const float *mean,
             const float *bias, int wide) {
  const int Kv = wide ? 2 * round4(K) : K;
  const int Kp = round4(Kv);
  const int panels = (N + Q8_NR - 1) / Q8_NR;
  float *scales = (float *)(packed + (long)panels * Q8_NR * Kp);
  float *biases = scales + panels * Q8_NR;
  for (int p = 0; p < panels; p++) {
    for (int j = 0; j < Q8_NR; j++) {
      const int n = p * Q8_NR + j;
      float max = 0.0f;
      if (n < N) {
        for (int k = 0; k < K; k++) {
          const float a = absf(w[(long)k * N + n]);
          if (a > max) max = a;
        }
      }
      const float inv = max > 0.0f ? 127.0f / max : 0.0f;
      const float s_w = max / 127.0f;
      scales[n] = n < N ? a_scale * s_w : 0.0f;
      float correction = 0.0f;
      i8 *col = packed + (long)p * Q8_NR * Kp + j * Q8_G;
      for (int kv = 0; kv < Kp; kv++) {
        const int k = wide ? wide_row(kv) : kv;
        float q = 0.0f;
        if (n < N && k < K && kv < Kv) {
          const float v = w[(long)k * N + n];
          q = __builtin_rintf(v * inv);
          if (q > 127.0f) q = 127.0f;
          if (q < -127.0f) q = -127.0f;
          /* each k once, in k order (a wide packing's second copy is skipped) */
          if (mean && !(wide && (kv & 4))) correction += mean[k] * (q * s_w - v);
        }
        col[(long)(kv / Q8_G) * Q8_NR * Q8_G + kv % Q8_G] = (i8)(int)q;
      }
      biases[n] = n < N ? (bias ? bias[n] : 0.0f) - correction : 0.0f;
    }
  }
}

/* Bytes 0..`top` of 16 floats: min(top, max(0, nearest(x * inv))) (NaN: 0), top <= 254. */
static inline v128_t quant16(const float *x, v128_t inv, int top) {
  const v128_t q0 = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_mul(wasm_v128_load(x), inv)));
  const v128_t q1 = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_mul(wasm_v128_load(x + 4), inv)));
  const v128_t q2 = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_mul(wasm_v128_load(x + 8), inv)));
  const v128_t q3 = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_mul(wasm_v128_load(x + 12), inv)));
  const v128_t h = wasm_u8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(q0, q1), wasm_i16x8_narrow_i32x4(q2, q3));
  return wasm_u8x16_min(h, wasm_u8x16_splat(top));
}

/* One value as quant16 computes it. */
static inline u8 quant1(float x, float inv, int top) {
  const float r = __builtin_rintf(x * inv);
  if (!(r > 0.0f)) return 0; /* also NaN */
  return r >= (float)top ? (u8)top : (u8)(int)r;
}

/* Row r of a wide layer's split input (see the top): 2 Kp bytes. */
static void quant_wide_row(const float *xr, u8 *qr, int K, float inv_f, v128_t inv) {
  const int Kp = round4(K);
  int k = 0;
  for (; k + 16 <= K; k += 16) {
    const v128_t q = quant16(xr + k, inv, 254);
    const v128_t t1 = wasm_u8x16_min(q, wasm_u8x16_splat(127));
    const v128_t t2 = wasm_i8x16_sub(q, t1);
    wasm_v128_store(qr + 2 * k, wasm_i8x16_shuffle(t1, t2, 0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7,
                                                   20, 21, 22, 23));
    wasm_v128_store(qr + 2 * k + 16, wasm_i8x16_shuffle(t1, t2, 8, 9, 10, 11, 24, 25, 26, 27, 12,
                                                        13, 14, 15, 28, 29, 30, 31));
  }
  for (; k < Kp; k++) {
    const u8 q = k < K ? quant1(xr[k], inv_f, 254) : 0;
    const u8 t1 = q < 127 ? q : 127;
    u8 *at = qr + (k >> 2) * 8 + (k & 3);
    at[0] = t1;
    at[4] = (u8)(q - t1);
  }
}

/*
 * Quantizes rows [r0, r1) of the float32 [M, K] activations x into the bytes q [M, Kp]
 * (Kp = K rounded up to 4, zeros past K): q = min(127, max(0, nearest(x * inv))). With
 * `levels` 254 (a wide layer), q = min(254, ...) split into rows of 2 Kp bytes (see the top).
 * (`levels` is a float to keep the pool's row-kernel signature: leading arguments, rows, two
 * floats.)
 */
EXPORT(q8_quant)
void q8_quant(const float *x, u8 *q, int K, int r0, int r1, float inv_f, float levels) {
  const int Kp = round4(K);
  const v128_t inv = wasm_f32x4_splat(inv_f);
  if (levels > 127.0f) {
    for (int r = r0; r < r1; r++) quant_wide_row(x + (long)r * K, q + (long)r * 2 * Kp, K, inv_f, inv);
    return;
  }
  for (int r = r0; r < r1; r++) {
    const float *xr = x + (long)r * K;
    u8 *qr = q + (long)r * Kp;
    int k = 0;
    for (; k + 16 <= K; k += 16) wasm_v128_store(qr + k, quant16(xr + k, inv, 127));
    for (; k < K; k++) qr[k] = quant1(xr[k], inv_f, 127);
    for (; k < Kp; k++) qr[k] = 0;
  }
}

/*
 * One mr x NR tile: rows a[i] (byte pointers) times panel bp, sums in int32, then the epilogue
 * into c[i] columns n .. n+NR-1 (only `cols` of them stored).
 */
static inline __attribute__((always_inline)) void
q8_tile(int mr, const u8 *const a[Q8_MR], float *const c[Q8_MR], const i8 *bp, const float *scale,
        const float *bias, int n, int cols, int Kp, v128_t lo, v128_t hi) {
  v128_t acc[Q8_MR][QNV];
#pragma clang loop unroll(full)
  for (int i = 0; i < mr; i++) {
#pragma clang loop unroll(full)
    for (int j = 0; j < QNV; j++) acc[i][j] = wasm_i32x4_splat(0);
  }
  for (int k = 0; k < Kp; k += Q8_G) {
#if Q8_RELAXED
    v128_t b[QNV];
#pragma clang loop unroll(full)
    for (int j = 0; j < QNV; j++) b[j] = wasm_v128_load(bp + 16 * j);
    bp += Q8_NR * 4;
#pragma clang loop unroll(full)
    for (int i = 0; i < mr; i++) {
      const v128_t x = wasm_v128_load32_splat(a[i] + k);
#pragma clang loop unroll(full)
      for (int j = 0; j < QNV; j++) acc[i][j] = wasm_i32x4_relaxed_dot_i8x16_i7x16_add(b[j], x, acc[i][j]);
    }
#else
    v128_t b[QNV];
#pragma clang loop unroll(full)
    for (int j = 0; j < QNV; j += 2) {
      const v128_t raw = wasm_v128_load(bp + 8 * j);
      b[j] = wasm_i16x8_extend_low_i8x16(raw);
      b[j + 1] = wasm_i16x8_extend_high_i8x16(raw);
    }
    bp += Q8_NR * 2;
#pragma clang loop unroll(full)
    for (int i = 0; i < mr; i++) {
      const v128_t x = wasm_u16x8_extend_low_u8x16(wasm_v128_load16_splat(a[i] + k));
#pragma clang loop unroll(full)
      for (int j = 0; j < QNV; j++) acc[i][j] = wasm_i32x4_add(acc[i][j], wasm_i32x4_dot_i16x8(x, b[j]));
    }
#endif
  }
  v128_t s[QNV], bv[QNV];
#pragma clang loop unroll(full)
  for (int j = 0; j < QNV; j++) {
    s[j] = wasm_v128_load(scale + n + 4 * j); /* the block has a scale for every column */
    bv[j] = load_bias(bias, n + 4 * j, n + cols);
  }
#pragma clang loop unroll(full)
  for (int i = 0; i < mr; i++) {
#pragma clang loop unroll(full)
    for (int j = 0; j < QNV; j++) {
      v128_t v = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_convert_i32x4(acc[i][j]), s[j]), bv[j]);
      v = wasm_f32x4_pmin(hi, wasm_f32x4_pmax(lo, v));
      if (cols == Q8_NR) {
        wasm_v128_store(c[i] + n + 4 * j, v);
      } else {
        store_part(c[i] + n + 4 * j, v, cols - 4 * j);
      }
    }
  }
}

#define Q8_SINGLE_ROWS (Q8_MR / 3)

/*
 * Rows [m0, m1) and column panels [p0, p1) of C = clamp(scale * (A x B) + bias, lo, hi): the
 * arguments of pointwise.c's pw_run, with A the quantized bytes, `packed` q8_pack's block and K a
 * multiple of 4 (the rows' length in bytes). Rows in blocks of mc, then panel by panel, tile by
 * tile; a range's last tile repeats its last row unless it has at most Q8_SINGLE_ROWS rows.
 */
EXPORT(q8_run)
void q8_run(const u8 *A, const i8 *packed, const float *bias, float *C, int m0, int m1, int p0,
            int p1, int K, int N, float lo_f, float hi_f, int mc) {
  const v128_t lo = wasm_f32x4_splat(lo_f);
  const v128_t hi = wasm_f32x4_splat(hi_f);
  const int panels = (N + Q8_NR - 1) / Q8_NR;
  const float *scale = (const float *)(packed + (long)panels * Q8_NR * K);
  if (mc < Q8_MR) mc = Q8_MR;
  for (int mb = m0; mb < m1; mb += mc) {
    const int me = mb + mc < m1 ? mb + mc : m1;
    for (int p = p0; p < p1; p++) {
      const int n = p * Q8_NR;
      const int cols = N - n < Q8_NR ? N - n : Q8_NR;
      const i8 *bp = packed + (long)p * Q8_NR * K;
      for (int m = mb; m < me; m += Q8_MR) {
        const u8 *a[Q8_MR];
        float *c[Q8_MR];
        if (me - m <= Q8_SINGLE_ROWS) {
          for (int r = m; r < me; r++) {
            a[0] = A + (long)r * K;
            c[0] = C + (long)r * N;
            q8_tile(1, a, c, bp, scale, bias, n, cols, K, lo, hi);
          }
          break;
        }
#pragma clang loop unroll(full)
        for (int i = 0; i < Q8_MR; i++) {
          const int r = m + i < me ? m + i : me - 1;
          a[i] = A + (long)r * K;
          c[i] = C + (long)r * N;
        }
        q8_tile(Q8_MR, a, c, bp, scale, bias, n, cols, K, lo, hi);
      }
    }
  }
}
