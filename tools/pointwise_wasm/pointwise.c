/*
 * Pointwise (1x1) convolution for mobilenet-edge (and, at the end, depthwise 3x3):
 * C = act(A x B + bias), row-major, where
 *   A = the NHWC input seen as [M = N*H*W rows, K = Cin] (read in place),
 *   B = the filter [K, Cout] packed by pw_pack into column panels of NR floats (zero-padded),
 *   C = the NHWC output [M, Cout] (written in place).
 *
 * WebAssembly SIMD (simd128), with the multiply-add either relaxed SIMD's fused f32x4.relaxed_madd
 * (-DPW_FMA=1) or f32x4.mul + f32x4.add (-DPW_FMA=0). An MR x NR register tile: MR rows of A, each
 * k broadcast with v128.load32_splat, times one NR-column panel of B, accumulated in MR * NR / 4
 * f32x4 values; bias and the [lo, hi] clamp in the epilogue.
 *
 * No libc, no static data and no linear-memory stack: every value lives in WebAssembly locals,
 * the memory is imported (the tfjs-backend-wasm module's own), and the caller passes every
 * pointer. Built by tools/pointwise_wasm/build.sh.
 */
#include <wasm_simd128.h>

#include "simd_util.h"

#ifndef PW_MR
#define PW_MR 6
#endif
#ifndef PW_NR
#define PW_NR 8
#endif
#ifndef PW_FMA
#define PW_FMA 1
#endif

#define NV (PW_NR / 4)

#if PW_FMA
#define MADD(a, b, c) wasm_f32x4_relaxed_madd((a), (b), (c))
#else
#define MADD(a, b, c) wasm_f32x4_add(wasm_f32x4_mul((a), (b)), (c))
#endif

#define EXPORT(name) __attribute__((export_name(#name), visibility("default")))

/* The tile shape of this build (the packing depends on NR). */
EXPORT(pw_mr) int pw_mr(void) { return PW_MR; }
EXPORT(pw_nr) int pw_nr(void) { return PW_NR; }

/* Floats that pw_pack writes for a [K, N] filter. */
EXPORT(pw_packed_floats) int pw_packed_floats(int K, int N) {
  return (N + PW_NR - 1) / PW_NR * PW_NR * K;
}

/* Packs the row-major [K, N] filter b into panels: panel p holds, for each k, columns
 * p*NR .. p*NR+NR-1 of row k (zeros past N). */
EXPORT(pw_pack) void pw_pack(const float *b, float *packed, int K, int N) {
  for (int n0 = 0; n0 < N; n0 += PW_NR) {
    for (int k = 0; k < K; k++) {
      const float *row = b + (long)k * N + n0;
      for (int j = 0; j < PW_NR; j++) *packed++ = n0 + j < N ? row[j] : 0.0f;
    }
  }
}


/* Clamps one row of a tile's accumulators to [lo, hi] and stores its `cols` columns at c. */
static inline __attribute__((always_inline)) void store_row(float *c, const v128_t acc[NV],
                                                            int cols, v128_t lo, v128_t hi) {
#pragma clang loop unroll(full)
  for (int j = 0; j < NV; j++) {
    v128_t v = wasm_f32x4_pmin(hi, wasm_f32x4_pmax(lo, acc[j]));
    if (cols == PW_NR) {
      wasm_v128_store(c + 4 * j, v);
    } else {
      store_part(c + 4 * j, v, cols - 4 * j);
    }
  }
}

/*
 * One mr x NR tile (mr <= PW_MR, a constant after inlining): rows a[i] (pointers) times panel
 * bp, into c[i] columns n .. n+NR-1 (only `cols` of them stored). The K = segs * len values of
 * row i are `segs` runs of `len` contiguous floats, run s at a[i] + s * seg_stride: one run for a
 * 1x1 convolution (segs 1 after inlining), one per filter row for a 3x3 convolution of few
 * channels (each run is three pixels' channels).
 */
static inline __attribute__((always_inline)) void
tile_rows(int mr, const float *const a[PW_MR], float *const c[PW_MR], const float *bp,
          const float *bias, int n, int cols, int len, int segs, long seg_stride, v128_t lo,
          v128_t hi) {
  v128_t acc[PW_MR][NV];
#pragma clang loop unroll(full)
  for (int j = 0; j < NV; j++) {
    v128_t b = load_bias(bias, n + 4 * j, n + cols);
#pragma clang loop unroll(full)
    for (int i = 0; i < mr; i++) acc[i][j] = b;
  }
  for (int s = 0; s < segs; s++) {
    const long off = s * seg_stride;
    for (int k = 0; k < len; k++) {
      v128_t b[NV];
#pragma clang loop unroll(full)
      for (int j = 0; j < NV; j++) b[j] = wasm_v128_load(bp + 4 * j);
      bp += PW_NR;
#pragma clang loop unroll(full)
      for (int i = 0; i < mr; i++) {
        v128_t x = wasm_v128_load32_splat(a[i] + off + k);
#pragma clang loop unroll(full)
        for (int j = 0; j < NV; j++) acc[i][j] = MADD(x, b[j], acc[i][j]);
      }
    }
  }
#pragma clang loop unroll(full)
  for (int i = 0; i < mr; i++) store_row(c[i] + n, acc[i], cols, lo, hi);
}

/* The last tile of a block of rows, with `left` rows (1 .. PW_MR - 1): a tile of exactly that
 * many rows (a constant in each case), so a band of few pixels wastes no work on repeated rows
 * and a GEMM of one row (the classifier head, batch 1) does none either. */
static inline __attribute__((always_inline)) void
tile_left(int left, const float *const a[PW_MR], float *const c[PW_MR], const float *bp,
          const float *bias, int n, int cols, int K, v128_t lo, v128_t hi) {
#define PW_LEFT(r) \
  case r: tile_rows(r, a, c, bp, bias, n, cols, K, 1, 0, lo, hi); break;
  switch (left) {
    PW_LEFT(1)
#if PW_MR > 2
    PW_LEFT(2)
#endif
#if PW_MR > 3
    PW_LEFT(3)
#endif
#if PW_MR > 4
    PW_LEFT(4)
#endif
#if PW_MR > 5
    PW_LEFT(5)
#endif
#if PW_MR > 6
    PW_LEFT(6)
#endif
#if PW_MR > 7
    PW_LEFT(7)
#endif
  default: break;
  }
#undef PW_LEFT
}

_Static_assert(PW_MR <= 8, "tile_left handles tiles of at most 8 rows");

/*
 * Computes rows [m0, m1) and column panels [p0, p1) of C = clamp(A x B + bias, lo, hi).
 * Rows go in blocks of mc (a multiple of MR, so that a block of A stays in cache while every
 * panel of the range passes over it); within a block, panel by panel, tile by tile, the last
 * tile of a block as many rows as are left (tile_left). Each row's sums are the same, in the
 * same order, whatever its tile. bias may be 0 (no bias).
 */
EXPORT(pw_run)
void pw_run(const float *A, const float *packed, const float *bias, float *C, int m0, int m1,
            int p0, int p1, int K, int N, float lo_f, float hi_f, int mc) {
  const v128_t lo = wasm_f32x4_splat(lo_f);
  const v128_t hi = wasm_f32x4_splat(hi_f);
  if (mc < PW_MR) mc = PW_MR;
  for (int mb = m0; mb < m1; mb += mc) {
    const int me = mb + mc < m1 ? mb + mc : m1;
    for (int p = p0; p < p1; p++) {
      const int n = p * PW_NR;
      const int cols = N - n < PW_NR ? N - n : PW_NR;
      const float *bp = packed + (long)p * PW_NR * K;
      for (int m = mb; m < me; m += PW_MR) {
        const float *a[PW_MR];
        float *c[PW_MR];
        const int rows = me - m < PW_MR ? me - m : PW_MR;
#pragma clang loop unroll(full)
        for (int i = 0; i < PW_MR; i++) {
          const int r = m + (i < rows ? i : rows - 1);
          a[i] = A + (long)r * K;
          c[i] = C + (long)r * N;
        }
        if (rows < PW_MR) tile_left(rows, a, c, bp, bias, n, cols, K, lo, hi);
        else tile_rows(PW_MR, a, c, bp, bias, n, cols, K, 1, 0, lo, hi);
      }
    }
  }
}

/* One output pixel of cv_run next to the border: the taps inside the image only (a tap outside
 * adds nothing, as a zero would). Same sums in the same order as a tile: bias, then tap by tap
 * (ky, kx, channel). */
static void cv_border_pixel(const float *xi, const float *bp, const float *bias, float *out,
                            int n, int cols, int H, int W, int Cin, int iy0, int ix0, v128_t lo,
                            v128_t hi) {
  v128_t acc[NV];
#pragma clang loop unroll(full)
  for (int j = 0; j < NV; j++) acc[j] = load_bias(bias, n + 4 * j, n + cols);
  for (int ky = 0; ky < 3; ky++) {
    const int iy = iy0 + ky;
    for (int kx = 0; kx < 3; kx++) {
      const int ix = ix0 + kx;
      if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
      const float *px = xi + ((long)iy * W + ix) * Cin;
      const float *bk = bp + (long)(ky * 3 + kx) * Cin * PW_NR;
      for (int c = 0; c < Cin; c++) {
        const v128_t x = wasm_v128_load32_splat(px + c);
#pragma clang loop unroll(full)
        for (int j = 0; j < NV; j++) acc[j] = MADD(x, wasm_v128_load(bk + c * PW_NR + 4 * j), acc[j]);
      }
    }
  }
  store_row(out + n, acc, cols, lo, hi);
}

/*
 * 3x3 convolution of an NHWC image with few input channels (a network's first layer): output
 * rows [r0, r1) of the batch (row r = image r / OH, output row r % OH), every column and output
 * channel. x is [batch, H, W, Cin], packed the [3, 3, Cin, N] filter packed by pw_pack as a
 * [9 * Cin, N] matrix, y [batch, OH, OW, N]. Input pixel of output (oy, ox), tap (ky, kx):
 * (oy * stride - padT + ky, ox * stride - padL + kx), zero outside the image. Inside the image
 * this is the GEMM of pw_run with each output pixel's 9 * Cin inputs read in place as three runs
 * of 3 * Cin floats (one per filter row), MR pixels of a row at a time.
 */
EXPORT(cv_run)
void cv_run(const float *x, const float *packed, const float *bias, float *y, int H, int W,
            int Cin, int N, int OH, int OW, int stride, int padT, int padL, int r0, int r1,
            float lo_f, float hi_f) {
  const v128_t lo = wasm_f32x4_splat(lo_f);
  const v128_t hi = wasm_f32x4_splat(hi_f);
  const int K = 9 * Cin;
  int oxa = (padL + stride - 1) / stride; /* columns whose taps are all inside: [oxa, oxb) */
  int oxb = W - 3 + padL < 0 ? 0 : (W - 3 + padL) / stride + 1;
  if (oxa > OW) oxa = OW;
  if (oxb > OW) oxb = OW;
  if (oxb < oxa) oxb = oxa;
  const int panels = (N + PW_NR - 1) / PW_NR;
  for (int r = r0; r < r1; r++) {
    const int img = r / OH, oy = r - img * OH;
    const float *xi = x + (long)img * H * W * Cin;
    const int iy0 = oy * stride - padT;
    const int rows_in = iy0 >= 0 && iy0 + 3 <= H;
    float *yr = y + (long)r * OW * N;
    for (int p = 0; p < panels; p++) {
      const int n = p * PW_NR;
      const int cols = N - n < PW_NR ? N - n : PW_NR;
      const float *bp = packed + (long)p * PW_NR * K;
      int ox = 0;
      if (rows_in) {
        for (; ox < oxa; ox++) {
          cv_border_pixel(xi, bp, bias, yr + (long)ox * N, n, cols, H, W, Cin, iy0,
                          ox * stride - padL, lo, hi);
        }
        for (; ox < oxb; ox += PW_MR) {
          const float *a[PW_MR];
          float *c[PW_MR];
#pragma clang loop unroll(full)
          for (int i = 0; i < PW_MR; i++) {
            const int o = ox + i < oxb ? ox + i : oxb - 1;
            a[i] = xi + ((long)iy0 * W + o * stride - padL) * Cin;
            c[i] = yr + (long)o * N;
          }
          tile_rows(PW_MR, a, c, bp, bias, n, cols, 3 * Cin, 3, (long)W * Cin, lo, hi);
        }
        ox = oxb;
      }
      for (; ox < OW; ox++) {
        cv_border_pixel(xi, bp, bias, yr + (long)ox * N, n, cols, H, W, Cin, iy0,
                        ox * stride - padL, lo, hi);
      }
    }
  }
}

/*
 * Mean over the pixels of each image (global average pooling), NHWC: y[r, c] = (sum over p of
 * x[r, p, c]) / P for images [r0, r1), P pixels, C channels (a multiple of 4). Pixels are added
 * in order, then divided by P: the sums and the division of tfjs' own Mean.
 */
EXPORT(gap_run)
void gap_run(const float *x, float *y, int P, int C, int r0, int r1) {
  const v128_t count = wasm_f32x4_splat((float)P);
  for (int r = r0; r < r1; r++) {
    const float *xi = x + (long)r * P * C;
    float *yr = y + (long)r * C;
    for (int c = 0; c < C; c += 4) wasm_v128_store(yr + c, wasm_f32x4_splat(0.0f));
    for (int p = 0; p < P; p++) {
      const float *px = xi + (long)p * C;
      for (int c = 0; c < C; c += 4) {
        wasm_v128_store(yr + c, wasm_f32x4_add(wasm_v128_load(yr + c), wasm_v128_load(px + c)));
      }
    }
    for (int c = 0; c < C; c += 4) wasm_v128_store(yr + c, wasm_f32x4_div(wasm_v128_load(yr + c), count));
  }
}

/*
 * Depthwise 3x3 convolution, channel multiplier 1, NHWC: output rows [r0, r1) of the batch
 * (row r = image r / OH, output row r % OH), every column and channel, with bias (0: none) and
 * the [lo, hi] clamp. x is [batch, H, W, C], w the tfjs filter [3, 3, C, 1], y [batch, OH, OW, C];
 * input pixel of output (oy, ox), tap (ky, kx): (oy * stride - padT + ky, ox * stride - padL + kx),
 * zero outside the image. C must be a multiple of 4. Four channels at a time, the nine taps'
 * weights held in registers across the row; the taps are summed in the order ky, kx.
 */
#define TAP(row, kx, wv)                                                                     \
  {                                                                                          \
    const int ix = ix0 + (kx);                                                               \
    if (check == 0 || (ix >= 0 && ix < W)) acc = MADD(wasm_v128_load((row) + ix * C), wv, acc); \
  }

/* Outputs [ox0, ox1) of one row and four channels. Rows outside the image come as a row that
 * is inside with zero weights, so the interior (check 0) has no branch per tap. */
static inline __attribute__((always_inline)) void dw_span(
    const float *r0p, const float *r1p, const float *r2p, float *out, int ox0, int ox1, int check,
    int W, int C, int stride, int padL, v128_t b, const v128_t wv[9], v128_t lo, v128_t hi) {
  for (int ox = ox0; ox < ox1; ox++) {
    const int ix0 = ox * stride - padL;
    v128_t acc = b;
    TAP(r0p, 0, wv[0]) TAP(r0p, 1, wv[1]) TAP(r0p, 2, wv[2])
    TAP(r1p, 0, wv[3]) TAP(r1p, 1, wv[4]) TAP(r1p, 2, wv[5])
    TAP(r2p, 0, wv[6]) TAP(r2p, 1, wv[7]) TAP(r2p, 2, wv[8])
    wasm_v128_store(out + (long)ox * C, wasm_f32x4_pmin(hi, wasm_f32x4_pmax(lo, acc)));
  }
}

/* Stride 1, interior outputs [ox0, ox1) (every tap inside): PW_DW_OX outputs at a time, each
 * input vector loaded once for the outputs that use it (3 + PW_DW_OX - 1 loads per row instead of
 * 3 * PW_DW_OX). Every output still sums its taps in the order ky, kx: the same values as dw_span. */
#ifndef PW_DW_OX
#define PW_DW_OX 4
#endif
static inline __attribute__((always_inline)) void dw_span_s1(
    const float *r0p, const float *r1p, const float *r2p, float *out, int ox0, int ox1, int C,
    int padL, v128_t b, const v128_t wv[9], v128_t lo, v128_t hi) {
  int ox = ox0;
  for (; ox + PW_DW_OX <= ox1; ox += PW_DW_OX) {
    const long i0 = (long)(ox - padL) * C;
    v128_t acc[PW_DW_OX];
#pragma clang loop unroll(full)
    for (int i = 0; i < PW_DW_OX; i++) acc[i] = b;
    const float *rows[3] = {r0p + i0, r1p + i0, r2p + i0};
#pragma clang loop unroll(full)
    for (int ky = 0; ky < 3; ky++) {
      v128_t xv[PW_DW_OX + 2];
#pragma clang loop unroll(full)
      for (int j = 0; j < PW_DW_OX + 2; j++) xv[j] = wasm_v128_load(rows[ky] + (long)j * C);
#pragma clang loop unroll(full)
      for (int i = 0; i < PW_DW_OX; i++) {
        acc[i] = MADD(xv[i], wv[ky * 3], acc[i]);
        acc[i] = MADD(xv[i + 1], wv[ky * 3 + 1], acc[i]);
        acc[i] = MADD(xv[i + 2], wv[ky * 3 + 2], acc[i]);
      }
    }
#pragma clang loop unroll(full)
    for (int i = 0; i < PW_DW_OX; i++) {
      wasm_v128_store(out + (long)(ox + i) * C, wasm_f32x4_pmin(hi, wasm_f32x4_pmax(lo, acc[i])));
    }
  }
  dw_span(r0p, r1p, r2p, out, ox, ox1, 0, 0, C, 1, padL, b, wv, lo, hi);
}

/* One output pixel, all channels, pixel-major (for many channels: the taps and the weights are
 * read channel after channel, never C * 4 bytes apart in the inner loop, which on L1 caches of
 * 4 KiB ways would evict each other). Taps outside the image are skipped. */
static inline __attribute__((always_inline)) void dw_pixel(
    const float *xi, const float *w, const float *bias, float *out, int H, int W, int C, int iy0,
    int ix0, v128_t lo, v128_t hi) {
  const int ky0 = iy0 < 0 ? -iy0 : 0, ky1 = iy0 + 3 > H ? H - iy0 : 3;
  const int kx0 = ix0 < 0 ? -ix0 : 0, kx1 = ix0 + 3 > W ? W - ix0 : 3;
  if (ky0 == 0 && ky1 == 3 && kx0 == 0 && kx1 == 3) {
    const float *p0 = xi + ((long)iy0 * W + ix0) * C, *p1 = p0 + (long)W * C, *p2 = p1 + (long)W * C;
    for (int c = 0; c < C; c += 4) {
      v128_t acc = bias ? wasm_v128_load(bias + c) : wasm_f32x4_splat(0.0f);
      acc = MADD(wasm_v128_load(p0 + c), wasm_v128_load(w + c), acc);
      acc = MADD(wasm_v128_load(p0 + C + c), wasm_v128_load(w + C + c), acc);
      acc = MADD(wasm_v128_load(p0 + 2 * C + c), wasm_v128_load(w + 2 * C + c), acc);
      acc = MADD(wasm_v128_load(p1 + c), wasm_v128_load(w + 3 * C + c), acc);
      acc = MADD(wasm_v128_load(p1 + C + c), wasm_v128_load(w + 4 * C + c), acc);
      acc = MADD(wasm_v128_load(p1 + 2 * C + c), wasm_v128_load(w + 5 * C + c), acc);
      acc = MADD(wasm_v128_load(p2 + c), wasm_v128_load(w + 6 * C + c), acc);
      acc = MADD(wasm_v128_load(p2 + C + c), wasm_v128_load(w + 7 * C + c), acc);
      acc = MADD(wasm_v128_load(p2 + 2 * C + c), wasm_v128_load(w + 8 * C + c), acc);
      wasm_v128_store(out + c, wasm_f32x4_pmin(hi, wasm_f32x4_pmax(lo, acc)));
    }
    return;
  }
  for (int c = 0; c < C; c += 4) {
    v128_t acc = bias ? wasm_v128_load(bias + c) : wasm_f32x4_splat(0.0f);
    for (int ky = ky0; ky < ky1; ky++) {
      const float *row = xi + ((long)(iy0 + ky) * W + ix0) * C + c;
      for (int kx = kx0; kx < kx1; kx++) {
        acc = MADD(wasm_v128_load(row + kx * C), wasm_v128_load(w + (ky * 3 + kx) * C + c), acc);
      }
    }
    wasm_v128_store(out + c, wasm_f32x4_pmin(hi, wasm_f32x4_pmax(lo, acc)));
  }
}

/* Stride 1, PW_DW_OX adjacent output pixels whose taps are all inside the image, all channels,
 * pixel-major like dw_pixel: each input vector loaded once for the outputs that use it, each
 * weight vector once for all of them. Same sums in the same order as dw_pixel. */
static inline __attribute__((always_inline)) void dw_pixels_s1(
    const float *xi, const float *w, const float *bias, float *out, int W, int C, int iy0, int ix0,
    v128_t lo, v128_t hi) {
  const float *p0 = xi + ((long)iy0 * W + ix0) * C;
  const long rs = (long)W * C;
  for (int c = 0; c < C; c += 4) {
    const v128_t b = bias ? wasm_v128_load(bias + c) : wasm_f32x4_splat(0.0f);
    v128_t acc[PW_DW_OX];
#pragma clang loop unroll(full)
    for (int i = 0; i < PW_DW_OX; i++) acc[i] = b;
#pragma clang loop unroll(full)
    for (int ky = 0; ky < 3; ky++) {
      const float *row = p0 + ky * rs + c;
      const v128_t w0 = wasm_v128_load(w + (ky * 3) * C + c);
      const v128_t w1 = wasm_v128_load(w + (ky * 3 + 1) * C + c);
      const v128_t w2 = wasm_v128_load(w + (ky * 3 + 2) * C + c);
      v128_t xv[PW_DW_OX + 2];
#pragma clang loop unroll(full)
      for (int j = 0; j < PW_DW_OX + 2; j++) xv[j] = wasm_v128_load(row + (long)j * C);
#pragma clang loop unroll(full)
      for (int i = 0; i < PW_DW_OX; i++) {
        acc[i] = MADD(xv[i], w0, acc[i]);
        acc[i] = MADD(xv[i + 1], w1, acc[i]);
        acc[i] = MADD(xv[i + 2], w2, acc[i]);
      }
    }
#pragma clang loop unroll(full)
    for (int i = 0; i < PW_DW_OX; i++) {
      wasm_v128_store(out + (long)i * C + c, wasm_f32x4_pmin(hi, wasm_f32x4_pmax(lo, acc[i])));
    }
  }
}

/* Output row r of the batch (image r / OH), its columns [ox0, ox1): all of them (dw_run), or
 * the part of it that a band holds (dw_px). Row r is at y + r * OW * C. */
static inline __attribute__((always_inline)) void dw_row(
    const float *x, const float *w, const float *bias, float *y, int H, int W, int C, int OH,
    int OW, int stride, int padT, int padL, int r, int ox0, int ox1, v128_t lo, v128_t hi) {
  const v128_t zero = wasm_f32x4_splat(0.0f);
  /* columns whose three taps are all inside the image: [oxa, oxb), within [ox0, ox1) */
  int oxa = (padL + stride - 1) / stride;
  int oxb = (W - 3 + padL) / stride + 1;
  if (W - 3 + padL < 0) oxb = 0;
  if (oxb < oxa) oxb = oxa;
  oxa = oxa < ox0 ? ox0 : oxa > ox1 ? ox1 : oxa;
  oxb = oxb < oxa ? oxa : oxb > ox1 ? ox1 : oxb;
  const int img = r / OH, oy = r - img * OH;
  const float *xi = x + (long)img * H * W * C;
  const int iy0 = oy * stride - padT;
  if (C >= 512) { /* 2 KiB or more between pixels: pixel-major (measured: faster from 512) */
    const int rows_in = stride == 1 && iy0 >= 0 && iy0 + 3 <= H;
    for (int ox = ox0; ox < ox1;) {
      if (rows_in && ox >= oxa && ox + PW_DW_OX <= oxb) {
        dw_pixels_s1(xi, w, bias, y + ((long)r * OW + ox) * C, W, C, iy0, ox - padL, lo, hi);
        ox += PW_DW_OX;
      } else {
        dw_pixel(xi, w, bias, y + ((long)r * OW + ox) * C, H, W, C, iy0, ox * stride - padL, lo,
                 hi);
        ox++;
      }
    }
    return;
  }
  const int in0 = iy0 >= 0 && iy0 < H, in1 = iy0 + 1 >= 0 && iy0 + 1 < H;
  const int in2 = iy0 + 2 >= 0 && iy0 + 2 < H;
  /* a row inside the image stands in for those outside (their weights are zero) */
  const int sub = in1 ? iy0 + 1 : in0 ? iy0 : iy0 + 2;
  float *out = y + (long)r * OW * C;
  if (!in0 && !in1 && !in2) { /* no tap inside: bias only (not for a real convolution) */
    for (int ox = ox0; ox < ox1; ox++) {
      for (int c = 0; c < C; c += 4) {
        const v128_t b = bias ? wasm_v128_load(bias + c) : zero;
        wasm_v128_store(out + (long)ox * C + c, wasm_f32x4_pmin(hi, wasm_f32x4_pmax(lo, b)));
      }
    }
    return;
  }
  const float *row0 = xi + (long)(in0 ? iy0 : sub) * W * C;
  const float *row1 = xi + (long)(in1 ? iy0 + 1 : sub) * W * C;
  const float *row2 = xi + (long)(in2 ? iy0 + 2 : sub) * W * C;
  for (int c = 0; c < C; c += 4) {
    v128_t wv[9];
#pragma clang loop unroll(full)
    for (int t = 0; t < 9; t++) wv[t] = wasm_v128_load(w + t * C + c);
    if (!in0) wv[0] = wv[1] = wv[2] = zero;
    if (!in1) wv[3] = wv[4] = wv[5] = zero;
    if (!in2) wv[6] = wv[7] = wv[8] = zero;
    const v128_t b = bias ? wasm_v128_load(bias + c) : zero;
    dw_span(row0 + c, row1 + c, row2 + c, out + c, ox0, oxa, 1, W, C, stride, padL, b, wv, lo, hi);
    if (stride == 1) {
      dw_span_s1(row0 + c, row1 + c, row2 + c, out + c, oxa, oxb, C, padL, b, wv, lo, hi);
    } else {
      dw_span(row0 + c, row1 + c, row2 + c, out + c, oxa, oxb, 0, W, C, stride, padL, b, wv, lo,
              hi);
    }
    dw_span(row0 + c, row1 + c, row2 + c, out + c, oxb, ox1, 1, W, C, stride, padL, b, wv, lo, hi);
  }
}

/* The depthwise 3x3 convolution's output rows [r0, r1) (row r of the batch: image r / OH). */
static inline __attribute__((always_inline)) void dw_rows(
    const float *x, const float *w, const float *bias, float *y, int H, int W, int C, int OH,
    int OW, int stride, int padT, int padL, int r0, int r1, float lo_f, float hi_f) {
  const v128_t lo = wasm_f32x4_splat(lo_f);
  const v128_t hi = wasm_f32x4_splat(hi_f);
  for (int r = r0; r < r1; r++) {
    dw_row(x, w, bias, y, H, W, C, OH, OW, stride, padT, padL, r, 0, OW, lo, hi);
  }
}

EXPORT(dw_run)
void dw_run(const float *x, const float *w, const float *bias, float *y, int H, int W, int C,
            int OH, int OW, int stride, int padT, int padL, int r0, int r1, float lo_f,
            float hi_f) {
  dw_rows(x, w, bias, y, H, W, C, OH, OW, stride, padT, padL, r0, r1, lo_f, hi_f);
}

/* The depthwise 3x3 convolution's output pixels [q0, q1), counted row after row over the batch
 * (pixel q is row q / OW, column q % OW), written from y on (y holds pixel q0, y + C pixel
 * q0 + 1): a separable chunk, into its thread's own small middle. A row it holds only part of
 * runs as dw_run's rows do, on those columns only: the same sums in the same order. */
EXPORT(dw_px)
void dw_px(const float *x, const float *w, const float *bias, float *y, int H, int W, int C,
           int OH, int OW, int stride, int padT, int padL, int q0, int q1, float lo_f,
           float hi_f) {
  const v128_t lo = wasm_f32x4_splat(lo_f);
  const v128_t hi = wasm_f32x4_splat(hi_f);
  float *base = y - (long)q0 * C; /* row r at base + r * OW * C: rows from q0 / OW on */
  for (int q = q0; q < q1;) {
    const int r = q / OW, ox0 = q - r * OW;
    const int ox1 = q1 - q < OW - ox0 ? ox0 + (q1 - q) : OW;
    if (ox0 == 0 && ox1 == OW) { /* whole rows */
      const int rows = (q1 - q) / OW;
      dw_rows(x, w, bias, base, H, W, C, OH, OW, stride, padT, padL, r, r + rows, lo_f, hi_f);
      q += rows * OW;
    } else {
      dw_row(x, w, bias, base, H, W, C, OH, OW, stride, padT, padL, r, ox0, ox1, lo, hi);
      q += ox1 - ox0;
    }
  }
}
