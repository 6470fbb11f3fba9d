/*
 * jsimd_wasm.c: WebAssembly SIMD (simd128) versions of libjpeg-turbo's reduced-size inverse
 * DCTs (jpeg_idct_2x2 and jpeg_idct_4x4 of jidctred.c) and of its YCbCr -> RGB colour
 * conversion (ycc_rgb_convert of jdcolor.c / jdcolext.c), for mobilenet-edge's build of
 * libjpeg-turbo (tools/jpeg_wasm/build.sh). Compiled in place of jsimd_none.c when SIMD=1.
 *
 * Copyright (C) 2026, the mobilenet-edge authors.
 * Derived from libjpeg-turbo 2.1.5, IJG licence (README.ijg of libjpeg-turbo):
 *   the arithmetic of jidctred.c (part of the Independent JPEG Group's software: Copyright (C)
 *   1994-1998, Thomas G. Lane; libjpeg-turbo Modifications: Copyright (C) 2015,
 *   D. R. Commander) and of jdcolor.c / jdcolext.c (Copyright (C) 1991-1997, Thomas G. Lane;
 *   Modified 2011 by Guido Vollbeding; libjpeg-turbo Modifications: Copyright 2009 Pierre
 *   Ossman for Cendio AB; Copyright (C) 2009, 2011-2012, 2014-2015, D. R. Commander;
 *   Copyright (C) 2013, Linaro Limited).
 * It includes jsimd_none.c (Copyright 2009 Pierre Ossman for Cendio AB; Copyright (C)
 * 2009-2011, 2014, 2022, D. R. Commander; Copyright (C) 2015-2016, 2018, 2022, Matthieu
 * Darbois; Copyright (C) 2020, Arm Limited), zlib licence.
 * This is an altered version, not the original software. Licence texts:
 * src/image/jpeg/NOTICE.md.
 *
 * The output is bit-identical to the C functions as compiled for wasm32 (where JLONG is
 * 32 bits): the same fixed-point constants, the same 32-bit wrapping products, the same
 * DESCALE rounding, the same "AC terms all zero" short cuts (kept lane by lane with a
 * select, so that even overflowing garbage input gives what the C code gives), and the same
 * post-IDCT range limiting (range_limit[x & RANGE_MASK], computed without the table).
 * Only the order of evaluation differs: pass 1 works on 4 columns at a time, pass 2 on 4 rows
 * at a time (a 4x4 transpose in between). The colour conversion computes the same fixed-point
 * expressions as jdcolor.c's tables (build_ycc_rgb_table), 16 pixels at a time.
 *
 * Every other jsimd_* entry point is jsimd_none.c's "not available" stub.
 */

/* jsimd_none.c with the two entry points replaced here renamed out of the way */
#define jsimd_can_idct_2x2  jsimd_none_can_idct_2x2
#define jsimd_can_idct_4x4  jsimd_none_can_idct_4x4
#define jsimd_idct_2x2  jsimd_none_idct_2x2
#define jsimd_idct_4x4  jsimd_none_idct_4x4
#define jsimd_can_ycc_rgb  jsimd_none_can_ycc_rgb
#define jsimd_ycc_rgb_convert  jsimd_none_ycc_rgb_convert
#include "jsimd_none.c"
#undef jsimd_can_ycc_rgb
#undef jsimd_ycc_rgb_convert
#undef jsimd_can_idct_2x2
#undef jsimd_can_idct_4x4
#undef jsimd_idct_2x2
#undef jsimd_idct_4x4

#ifndef __wasm_simd128__
#error "jsimd_wasm.c needs -msimd128"
#endif
#if BITS_IN_JSAMPLE != 8 || DCTSIZE != 8
#error "jsimd_wasm.c supports 8-bit samples and 8x8 DCT blocks only"
#endif

#include <wasm_simd128.h>

/* jidctred.c's constants (CONST_BITS 13, PASS1_BITS 2) */
#define CONST_BITS  13
#define PASS1_BITS  2
#define FIX_0_211164243  1730
#define FIX_0_509795579  4176
#define FIX_0_601344887  4926
#define FIX_0_720959822  5906
#define FIX_0_765366865  6270
#define FIX_0_850430095  6967
#define FIX_0_899976223  7373
#define FIX_1_061594337  8697
#define FIX_1_272758580  10426
#define FIX_1_451774981  11893
#define FIX_1_847759065  15137
#define FIX_2_172734803  17799
#define FIX_2_562915447  20995
#define FIX_3_624509785  29692

typedef v128_t v;

#define MUL(a, c)  wasm_i32x4_mul((a), wasm_i32x4_splat(c))
#define VDESCALE(x, n) \
  wasm_i32x4_shr(wasm_i32x4_add((x), wasm_i32x4_splat(1 << ((n) - 1))), (n))

/* The jidctred.c code needs ISLOW_MULT_TYPE = int (MULTIPLIER int, as without WITH_SIMD) */
typedef char check_mult_type[sizeof(ISLOW_MULT_TYPE) == 4 ? 1 : -1];

/* Dequantized coefficients of row `row`, columns 0-3 (lo) and 4-7 (hi). */
static inline void
dequant_row(JCOEFPTR coef, const ISLOW_MULT_TYPE *quant, int row, v *lo, v *hi)
{
  v c = wasm_v128_load(coef + row * DCTSIZE);
  *lo = wasm_i32x4_mul(wasm_i32x4_extend_low_i16x8(c),
                       wasm_v128_load(quant + row * DCTSIZE));
  *hi = wasm_i32x4_mul(wasm_i32x4_extend_high_i16x8(c),
                       wasm_v128_load(quant + row * DCTSIZE + 4));
}

/* Lanes of 16-bit row `c` (8 columns) that are zero, as two 32-bit masks (columns 0-3, 4-7). */
static inline void
zero_mask(v c, v *lo, v *hi)
{
  v zero = wasm_i16x8_eq(c, wasm_i16x8_splat(0));
  *lo = wasm_i32x4_extend_low_i16x8(zero);
  *hi = wasm_i32x4_extend_high_i16x8(zero);
}

/* 4x4 transpose of 32-bit lanes */
static inline void
transpose4(v *a, v *b, v *c, v *d)
{
  v t0 = wasm_i32x4_shuffle(*a, *b, 0, 4, 1, 5);
  v t1 = wasm_i32x4_shuffle(*a, *b, 2, 6, 3, 7);
  v t2 = wasm_i32x4_shuffle(*c, *d, 0, 4, 1, 5);
  v t3 = wasm_i32x4_shuffle(*c, *d, 2, 6, 3, 7);
  *a = wasm_i32x4_shuffle(t0, t2, 0, 1, 4, 5);
  *b = wasm_i32x4_shuffle(t0, t2, 2, 3, 6, 7);
  *c = wasm_i32x4_shuffle(t1, t3, 0, 1, 4, 5);
  *d = wasm_i32x4_shuffle(t1, t3, 2, 3, 6, 7);
}

/*
 * range_limit[x & RANGE_MASK] of the post-IDCT table (jdmaster.c), for 32-bit lanes:
 * the table maps the low 10 bits of x, read as a signed number y in [-512, 511], to
 * clamp(y + 128, 0, 255).
 */
static inline v
range_limit(v x)
{
  v y = wasm_i32x4_shr(wasm_i32x4_shl(x, 22), 22);
  return wasm_i32x4_add(y, wasm_i32x4_splat(CENTERJSAMPLE));
}

/* Narrows four vectors of range-limited 32-bit values to bytes 0-15 of one vector. */
static inline v
pack_bytes(v a, v b, v c, v d)
{
  return wasm_u8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(a, b),
                                 wasm_i16x8_narrow_i32x4(c, d));
}


GLOBAL(int)
jsimd_can_idct_4x4(void)
{
  return 1;
}

GLOBAL(void)
jsimd_idct_4x4(j_decompress_ptr cinfo, jpeg_component_info *compptr,
               JCOEFPTR coef_block, JSAMPARRAY output_buf,
               JDIMENSION output_col)
{
  const ISLOW_MULT_TYPE *quant = (const ISLOW_MULT_TYPE *)compptr->dct_table;
  v z0[2], z1[2], z2[2], z3[2], z5[2], z6[2], z7[2], m[2], ac;
  v ws[4][2];                   /* ws[row][columns 0-3 / 4-7], as jidctred.c's workspace */
  v w0, w1, w2, w3, w5, w6, w7, tmp0, tmp2, tmp10, tmp12, o0, o1, o2, o3, dc, zero;
  v acrows;
  int h;

  (void)cinfo;

  /* Pass 1: columns (4 at a time); column 4 is computed but, as in C, never used. */
  dequant_row(coef_block, quant, 0, &z0[0], &z0[1]);
  dequant_row(coef_block, quant, 1, &z1[0], &z1[1]);
  dequant_row(coef_block, quant, 2, &z2[0], &z2[1]);
  dequant_row(coef_block, quant, 3, &z3[0], &z3[1]);
  dequant_row(coef_block, quant, 5, &z5[0], &z5[1]);
  dequant_row(coef_block, quant, 6, &z6[0], &z6[1]);
  dequant_row(coef_block, quant, 7, &z7[0], &z7[1]);
  /* C tests inptr[DCTSIZE * k] == 0 on the coefficients, k = 1, 2, 3, 5, 6, 7 */
  acrows = wasm_v128_or(
    wasm_v128_or(wasm_v128_load(coef_block + DCTSIZE * 1),
                 wasm_v128_load(coef_block + DCTSIZE * 2)),
    wasm_v128_or(wasm_v128_or(wasm_v128_load(coef_block + DCTSIZE * 3),
                              wasm_v128_load(coef_block + DCTSIZE * 5)),
                 wasm_v128_or(wasm_v128_load(coef_block + DCTSIZE * 6),
                              wasm_v128_load(coef_block + DCTSIZE * 7))));
  zero_mask(acrows, &m[0], &m[1]);
  for (h = 0; h < 2; h++) {
    tmp0 = wasm_i32x4_shl(z0[h], CONST_BITS + 1);
    tmp2 = wasm_i32x4_add(MUL(z2[h], FIX_1_847759065), MUL(z6[h], -FIX_0_765366865));
    tmp10 = wasm_i32x4_add(tmp0, tmp2);
    tmp12 = wasm_i32x4_sub(tmp0, tmp2);

    tmp0 = wasm_i32x4_add(
      wasm_i32x4_add(MUL(z7[h], -FIX_0_211164243), MUL(z5[h], FIX_1_451774981)),
      wasm_i32x4_add(MUL(z3[h], -FIX_2_172734803), MUL(z1[h], FIX_1_061594337)));
    tmp2 = wasm_i32x4_add(
      wasm_i32x4_add(MUL(z7[h], -FIX_0_509795579), MUL(z5[h], -FIX_0_601344887)),
      wasm_i32x4_add(MUL(z3[h], FIX_0_899976223), MUL(z1[h], FIX_2_562915447)));

    dc = wasm_i32x4_shl(z0[h], PASS1_BITS);
    ws[0][h] = wasm_v128_bitselect(dc, VDESCALE(wasm_i32x4_add(tmp10, tmp2),
                                               CONST_BITS - PASS1_BITS + 1), m[h]);
    ws[3][h] = wasm_v128_bitselect(dc, VDESCALE(wasm_i32x4_sub(tmp10, tmp2),
                                               CONST_BITS - PASS1_BITS + 1), m[h]);
    ws[1][h] = wasm_v128_bitselect(dc, VDESCALE(wasm_i32x4_add(tmp12, tmp0),
                                               CONST_BITS - PASS1_BITS + 1), m[h]);
    ws[2][h] = wasm_v128_bitselect(dc, VDESCALE(wasm_i32x4_sub(tmp12, tmp0),
                                               CONST_BITS - PASS1_BITS + 1), m[h]);
  }

  /* Pass 2: rows (all 4 at once, one per lane): transpose the workspace. */
  w0 = ws[0][0];  w1 = ws[1][0];  w2 = ws[2][0];  w3 = ws[3][0];
  transpose4(&w0, &w1, &w2, &w3);       /* wk = column k of rows 0-3 */
  {
    v w4 = ws[0][1];
    w5 = ws[1][1];  w6 = ws[2][1];  w7 = ws[3][1];
    transpose4(&w4, &w5, &w6, &w7);     /* w4 (column 4) is not used */
  }
  zero = wasm_i32x4_splat(0);
  ac = wasm_v128_or(wasm_v128_or(w1, w2), wasm_v128_or(w3, wasm_v128_or(w5, wasm_v128_or(w6, w7))));
  m[0] = wasm_i32x4_eq(ac, zero);

  tmp0 = wasm_i32x4_shl(w0, CONST_BITS + 1);
  tmp2 = wasm_i32x4_add(MUL(w2, FIX_1_847759065), MUL(w6, -FIX_0_765366865));
  tmp10 = wasm_i32x4_add(tmp0, tmp2);
  tmp12 = wasm_i32x4_sub(tmp0, tmp2);

  tmp0 = wasm_i32x4_add(
    wasm_i32x4_add(MUL(w7, -FIX_0_211164243), MUL(w5, FIX_1_451774981)),
    wasm_i32x4_add(MUL(w3, -FIX_2_172734803), MUL(w1, FIX_1_061594337)));
  tmp2 = wasm_i32x4_add(
    wasm_i32x4_add(MUL(w7, -FIX_0_509795579), MUL(w5, -FIX_0_601344887)),
    wasm_i32x4_add(MUL(w3, FIX_0_899976223), MUL(w1, FIX_2_562915447)));

  dc = VDESCALE(w0, PASS1_BITS + 3);
  o0 = range_limit(wasm_v128_bitselect(dc, VDESCALE(wasm_i32x4_add(tmp10, tmp2),
                                       CONST_BITS + PASS1_BITS + 3 + 1), m[0]));
  o3 = range_limit(wasm_v128_bitselect(dc, VDESCALE(wasm_i32x4_sub(tmp10, tmp2),
                                       CONST_BITS + PASS1_BITS + 3 + 1), m[0]));
  o1 = range_limit(wasm_v128_bitselect(dc, VDESCALE(wasm_i32x4_add(tmp12, tmp0),
                                       CONST_BITS + PASS1_BITS + 3 + 1), m[0]));
  o2 = range_limit(wasm_v128_bitselect(dc, VDESCALE(wasm_i32x4_sub(tmp12, tmp0),
                                       CONST_BITS + PASS1_BITS + 3 + 1), m[0]));
  /* ok = output column k of rows 0-3: back to rows, then to bytes */
  transpose4(&o0, &o1, &o2, &o3);
  {
    v bytes = pack_bytes(o0, o1, o2, o3);
    wasm_v128_store32_lane(output_buf[0] + output_col, bytes, 0);
    wasm_v128_store32_lane(output_buf[1] + output_col, bytes, 1);
    wasm_v128_store32_lane(output_buf[2] + output_col, bytes, 2);
    wasm_v128_store32_lane(output_buf[3] + output_col, bytes, 3);
  }
}


GLOBAL(int)
jsimd_can_idct_2x2(void)
{
  return 1;
}

GLOBAL(void)
jsimd_idct_2x2(j_decompress_ptr cinfo, jpeg_component_info *compptr,
               JCOEFPTR coef_block, JSAMPARRAY output_buf,
               JDIMENSION output_col)
{
  const ISLOW_MULT_TYPE *quant = (const ISLOW_MULT_TYPE *)compptr->dct_table;
  v z0[2], z1[2], z3[2], z5[2], z7[2], m[2];
  v ws[2][2];                   /* ws[row][columns 0-3 / 4-7] */
  v a, b, c, w0, w1, w3, w5, w7, tmp0, tmp10, dc, o0, o1, ac, mask, bytes;
  int h;

  (void)cinfo;

  /* Pass 1: columns (4 at a time); columns 2, 4, 6 are computed but never used. */
  dequant_row(coef_block, quant, 0, &z0[0], &z0[1]);
  dequant_row(coef_block, quant, 1, &z1[0], &z1[1]);
  dequant_row(coef_block, quant, 3, &z3[0], &z3[1]);
  dequant_row(coef_block, quant, 5, &z5[0], &z5[1]);
  dequant_row(coef_block, quant, 7, &z7[0], &z7[1]);
  zero_mask(wasm_v128_or(wasm_v128_or(wasm_v128_load(coef_block + DCTSIZE * 1),
                                      wasm_v128_load(coef_block + DCTSIZE * 3)),
                         wasm_v128_or(wasm_v128_load(coef_block + DCTSIZE * 5),
                                      wasm_v128_load(coef_block + DCTSIZE * 7))),
            &m[0], &m[1]);
  for (h = 0; h < 2; h++) {
    tmp10 = wasm_i32x4_shl(z0[h], CONST_BITS + 2);
    tmp0 = wasm_i32x4_add(
      wasm_i32x4_add(MUL(z7[h], -FIX_0_720959822), MUL(z5[h], FIX_0_850430095)),
      wasm_i32x4_add(MUL(z3[h], -FIX_1_272758580), MUL(z1[h], FIX_3_624509785)));
    dc = wasm_i32x4_shl(z0[h], PASS1_BITS);
    ws[0][h] = wasm_v128_bitselect(dc, VDESCALE(wasm_i32x4_add(tmp10, tmp0),
                                               CONST_BITS - PASS1_BITS + 2), m[h]);
    ws[1][h] = wasm_v128_bitselect(dc, VDESCALE(wasm_i32x4_sub(tmp10, tmp0),
                                               CONST_BITS - PASS1_BITS + 2), m[h]);
  }

  /* Pass 2: the 2 rows in lanes 0 and 1 (lanes 2 and 3 are don't-cares). */
  a = wasm_i32x4_shuffle(ws[0][0], ws[1][0], 0, 4, 1, 5);  /* col 0 r0 r1, col 1 r0 r1 */
  b = wasm_i32x4_shuffle(ws[0][0], ws[1][0], 3, 7, 3, 7);  /* col 3 */
  c = wasm_i32x4_shuffle(ws[0][1], ws[1][1], 1, 5, 3, 7);  /* col 5, col 7 */
  w0 = a;
  w1 = wasm_i32x4_shuffle(a, a, 2, 3, 2, 3);
  w3 = b;
  w5 = c;
  w7 = wasm_i32x4_shuffle(c, c, 2, 3, 2, 3);
  ac = wasm_v128_or(wasm_v128_or(w1, w3), wasm_v128_or(w5, w7));
  mask = wasm_i32x4_eq(ac, wasm_i32x4_splat(0));

  tmp10 = wasm_i32x4_shl(w0, CONST_BITS + 2);
  tmp0 = wasm_i32x4_add(
    wasm_i32x4_add(MUL(w7, -FIX_0_720959822), MUL(w5, FIX_0_850430095)),
    wasm_i32x4_add(MUL(w3, -FIX_1_272758580), MUL(w1, FIX_3_624509785)));
  dc = VDESCALE(w0, PASS1_BITS + 3);
  o0 = range_limit(wasm_v128_bitselect(dc, VDESCALE(wasm_i32x4_add(tmp10, tmp0),
                                       CONST_BITS + PASS1_BITS + 3 + 2), mask));
  o1 = range_limit(wasm_v128_bitselect(dc, VDESCALE(wasm_i32x4_sub(tmp10, tmp0),
                                       CONST_BITS + PASS1_BITS + 3 + 2), mask));
  /* o0 = [r0 c0, r1 c0, -, -], o1 = [r0 c1, r1 c1, -, -] -> bytes r0c0 r0c1 r1c0 r1c1 */
  bytes = pack_bytes(wasm_i32x4_shuffle(o0, o1, 0, 4, 1, 5), o0, o0, o0);
  wasm_v128_store16_lane(output_buf[0] + output_col, bytes, 0);
  wasm_v128_store16_lane(output_buf[1] + output_col, bytes, 1);
}


/*
 * YCbCr -> RGB (jdcolor.c). With x = Cb - 128 or Cr - 128 and SCALEBITS 16, jdcolor.c's tables
 * hold Cr_r_tab = (FIX(1.40200) x + ONE_HALF) >> 16, Cb_b_tab = (FIX(1.77200) x + ONE_HALF) >> 16,
 * Cr_g_tab = -FIX(0.71414) x, Cb_g_tab = -FIX(0.34414) x + ONE_HALF, and
 *   R = range_limit[y + Cr_r_tab[cr]]
 *   G = range_limit[y + ((Cb_g_tab[cb] + Cr_g_tab[cr]) >> 16)]
 *   B = range_limit[y + Cb_b_tab[cb]]
 * where range_limit clamps to 0..255 (all these sums lie in -179..434, inside the table).
 * FIX(1.40200) = 91881 = 65536 + 26345, FIX(1.77200) = 116130 = 131072 - 14942 and
 * -FIX(0.71414) = -46802 = -65536 + 18734, so with 16-bit multipliers (exact: the multiples
 * of 65536 pass through the >> 16 unchanged):
 *   Cr_r_tab = x + ((26345 x + 32768) >> 16)
 *   Cb_b_tab = 2 x + ((-14942 x + 32768) >> 16)
 *   (Cb_g_tab + Cr_g_tab) >> 16 = -xr + ((-22554 xb + 18734 xr + 32768) >> 16)
 */
#define SCALE_FIX_1_40200_LOW  26345
#define SCALE_FIX_1_77200_LOW  (-14942)
#define SCALE_FIX_0_71414_LOW  18734
#define SCALE_FIX_0_34414  22554

/* (a * ca + b * cb + 32768) >> 16 for 8 lanes of 16 bits (the result fits in 16 bits) */
static inline v
mul_descale16(v a, int16_t ca, v b, int16_t cb)
{
  v half = wasm_i32x4_splat(32768);
  v lo = wasm_i32x4_add(wasm_i32x4_extmul_low_i16x8(a, wasm_i16x8_splat(ca)), half);
  v hi = wasm_i32x4_add(wasm_i32x4_extmul_high_i16x8(a, wasm_i16x8_splat(ca)), half);
  if (cb != 0) {
    lo = wasm_i32x4_add(lo, wasm_i32x4_extmul_low_i16x8(b, wasm_i16x8_splat(cb)));
    hi = wasm_i32x4_add(hi, wasm_i32x4_extmul_high_i16x8(b, wasm_i16x8_splat(cb)));
  }
  return wasm_i16x8_narrow_i32x4(wasm_i32x4_shr(lo, 16), wasm_i32x4_shr(hi, 16));
}

/* R, G, B of 8 pixels as 16-bit lanes (not yet range-limited) */
static inline void
ycc_rgb8(v y, v cb, v cr, v *r, v *g, v *b)
{
  v xb = wasm_i16x8_sub(cb, wasm_i16x8_splat(CENTERJSAMPLE));
  v xr = wasm_i16x8_sub(cr, wasm_i16x8_splat(CENTERJSAMPLE));
  *r = wasm_i16x8_add(wasm_i16x8_add(y, xr), mul_descale16(xr, SCALE_FIX_1_40200_LOW, xr, 0));
  *b = wasm_i16x8_add(wasm_i16x8_add(y, wasm_i16x8_add(xb, xb)),
                      mul_descale16(xb, SCALE_FIX_1_77200_LOW, xb, 0));
  *g = wasm_i16x8_add(wasm_i16x8_sub(y, xr),
                      mul_descale16(xb, -SCALE_FIX_0_34414, xr, SCALE_FIX_0_71414_LOW));
}

/* R, G, B of 16 pixels as bytes (range-limited: saturating narrowing to 0..255) */
static inline void
ycc_rgb16(const JSAMPLE *yp, const JSAMPLE *cbp, const JSAMPLE *crp, v *r, v *g, v *b)
{
  v y = wasm_v128_load(yp), cb = wasm_v128_load(cbp), cr = wasm_v128_load(crp);
  v r0, g0, b0, r1, g1, b1;
  ycc_rgb8(wasm_u16x8_extend_low_u8x16(y), wasm_u16x8_extend_low_u8x16(cb),
           wasm_u16x8_extend_low_u8x16(cr), &r0, &g0, &b0);
  ycc_rgb8(wasm_u16x8_extend_high_u8x16(y), wasm_u16x8_extend_high_u8x16(cb),
           wasm_u16x8_extend_high_u8x16(cr), &r1, &g1, &b1);
  *r = wasm_u8x16_narrow_i16x8(r0, r1);
  *g = wasm_u8x16_narrow_i16x8(g0, g1);
  *b = wasm_u8x16_narrow_i16x8(b0, b1);
}

static inline JSAMPLE
clamp_sample(int x)
{
  return (JSAMPLE)(x < 0 ? 0 : x > MAXJSAMPLE ? MAXJSAMPLE : x);
}

GLOBAL(int)
jsimd_can_ycc_rgb(void)
{
  return 1;
}

GLOBAL(void)
jsimd_ycc_rgb_convert(j_decompress_ptr cinfo, JSAMPIMAGE input_buf,
                      JDIMENSION input_row, JSAMPARRAY output_buf,
                      int num_rows)
{
  int cs = cinfo->out_color_space;
  int red = rgb_red[cs], green = rgb_green[cs], blue = rgb_blue[cs];
  int pixelsize = rgb_pixelsize[cs];
  /* 4-byte formats: the fourth byte (X or A) is MAXJSAMPLE, as in jdcolext.c */
  int alpha = pixelsize == 4 ? 6 - red - green - blue : -1;
  int rgb = red == 0 && green == 1 && blue == 2;
  JDIMENSION num_cols = cinfo->output_width;
  JDIMENSION simd_cols = (pixelsize == 3 || pixelsize == 4) && rgb ? num_cols & ~15U : 0;

  while (--num_rows >= 0) {
    JSAMPROW inptr0 = input_buf[0][input_row];
    JSAMPROW inptr1 = input_buf[1][input_row];
    JSAMPROW inptr2 = input_buf[2][input_row];
    JSAMPROW outptr = *output_buf++;
    JDIMENSION col = 0;

    input_row++;
    if (pixelsize == 3) {
      for (; col < simd_cols; col += 16, outptr += 48) {
        v r, g, b, t;
        ycc_rgb16(inptr0 + col, inptr1 + col, inptr2 + col, &r, &g, &b);
        t = wasm_i8x16_shuffle(r, g, 0, 16, 0, 1, 17, 0, 2, 18, 0, 3, 19, 0, 4, 20, 0, 5);
        wasm_v128_store(outptr, wasm_i8x16_shuffle(t, b, 0, 1, 16, 3, 4, 17, 6, 7, 18, 9, 10,
                                                   19, 12, 13, 20, 15));
        t = wasm_i8x16_shuffle(r, g, 21, 0, 6, 22, 0, 7, 23, 0, 8, 24, 0, 9, 25, 0, 10, 26);
        wasm_v128_store(outptr + 16, wasm_i8x16_shuffle(t, b, 0, 21, 2, 3, 22, 5, 6, 23, 8, 9,
                                                        24, 11, 12, 25, 14, 15));
        t = wasm_i8x16_shuffle(r, g, 0, 11, 27, 0, 12, 28, 0, 13, 29, 0, 14, 30, 0, 15, 31, 0);
        wasm_v128_store(outptr + 32, wasm_i8x16_shuffle(t, b, 26, 1, 2, 27, 4, 5, 28, 7, 8, 29,
                                                        10, 11, 30, 13, 14, 31));
      }
    } else if (pixelsize == 4) {
      v opaque = wasm_i32x4_splat((int32_t)0xFF000000);
      for (; col < simd_cols; col += 16, outptr += 64) {
        v r, g, b, t;
        ycc_rgb16(inptr0 + col, inptr1 + col, inptr2 + col, &r, &g, &b);
        t = wasm_i8x16_shuffle(r, g, 0, 16, 0, 0, 1, 17, 0, 0, 2, 18, 0, 0, 3, 19, 0, 0);
        wasm_v128_store(outptr, wasm_v128_or(opaque, wasm_i8x16_shuffle(
          t, b, 0, 1, 16, 3, 4, 5, 17, 7, 8, 9, 18, 11, 12, 13, 19, 15)));
        t = wasm_i8x16_shuffle(r, g, 4, 20, 0, 0, 5, 21, 0, 0, 6, 22, 0, 0, 7, 23, 0, 0);
        wasm_v128_store(outptr + 16, wasm_v128_or(opaque, wasm_i8x16_shuffle(
          t, b, 0, 1, 20, 3, 4, 5, 21, 7, 8, 9, 22, 11, 12, 13, 23, 15)));
        t = wasm_i8x16_shuffle(r, g, 8, 24, 0, 0, 9, 25, 0, 0, 10, 26, 0, 0, 11, 27, 0, 0);
        wasm_v128_store(outptr + 32, wasm_v128_or(opaque, wasm_i8x16_shuffle(
          t, b, 0, 1, 24, 3, 4, 5, 25, 7, 8, 9, 26, 11, 12, 13, 27, 15)));
        t = wasm_i8x16_shuffle(r, g, 12, 28, 0, 0, 13, 29, 0, 0, 14, 30, 0, 0, 15, 31, 0, 0);
        wasm_v128_store(outptr + 48, wasm_v128_or(opaque, wasm_i8x16_shuffle(
          t, b, 0, 1, 28, 3, 4, 5, 29, 7, 8, 9, 30, 11, 12, 13, 31, 15)));
      }
    }
    /* the rest of the row (and every other pixel layout): jdcolext.c's loop */
    for (; col < num_cols; col++, outptr += pixelsize) {
      int y = inptr0[col];
      int xb = inptr1[col] - CENTERJSAMPLE;
      int xr = inptr2[col] - CENTERJSAMPLE;
      outptr[red] = clamp_sample(y + ((91881 * xr + 32768) >> 16));
      outptr[green] = clamp_sample(y + ((-22554 * xb + 32768 + -46802 * xr) >> 16));
      outptr[blue] = clamp_sample(y + ((116130 * xb + 32768) >> 16));
      if (alpha >= 0)
        outptr[alpha] = MAXJSAMPLE;
    }
  }
}
