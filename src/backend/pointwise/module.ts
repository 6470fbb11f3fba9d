/**
 * The embedded pointwise-kernel WebAssembly modules (`pointwise_wasm.ts`, built by
 * `tools/pointwise_wasm/build.sh`): decoding and compiling them lazily (each is about 11 KB, so
 * synchronously), instantiating them on the tfjs-backend-wasm module's own memory, and the
 * relaxed-SIMD probe.
 *
 * @module
 */
import {
  POINTWISE_MULADD_SHARED_WASM_BASE64,
  POINTWISE_MULADD_WASM_BASE64,
  POINTWISE_RELAXED_SHARED_WASM_BASE64,
  POINTWISE_RELAXED_WASM_BASE64,
} from "./pointwise_wasm.ts";
import { decodeBase64, errorMessage } from "../../_util.ts";

/** Which multiply-add the kernel uses: relaxed SIMD's fused one, or SIMD mul then add. */
export type KernelVariant = "relaxed" | "muladd";

/** The depthwise 3x3 kernels' arguments: the range `[from, to)` is rows or pixels. */
export type DepthwiseRange = (
  x: number,
  w: number,
  bias: number,
  y: number,
  h: number,
  width: number,
  channels: number,
  oh: number,
  ow: number,
  stride: number,
  padTop: number,
  padLeft: number,
  from: number,
  to: number,
  lo: number,
  hi: number,
) => void;

/** The exports of a pointwise-kernel instance (see tools/pointwise_wasm/pointwise.c). */
export interface KernelExports {
  /** Rows of the register tile. */
  pw_mr(): number;
  /** Columns of the register tile (the width of a packed panel). */
  pw_nr(): number;
  /** Floats that {@linkcode KernelExports.pw_pack} writes for a `[k, n]` filter. */
  pw_packed_floats(k: number, n: number): number;
  /** Packs the row-major `[k, n]` filter at `b` into panels at `packed`. */
  pw_pack(b: number, packed: number, k: number, n: number): void;
  /**
   * Rows `[m0, m1)` and panels `[p0, p1)` of `c = clamp(a x packed + bias, lo, hi)`; `bias` 0 =
   * none; rows in blocks of `mc`.
   */
  pw_run(
    a: number,
    packed: number,
    bias: number,
    c: number,
    m0: number,
    m1: number,
    p0: number,
    p1: number,
    k: number,
    n: number,
    lo: number,
    hi: number,
    mc: number,
  ): void;
  /**
   * Depthwise 3x3 convolution (channel multiplier 1, NHWC, channels a multiple of 4): output
   * rows `[from, to)` of the batch, with bias (0: none) and clamp.
   */
  dw_run: DepthwiseRange;
  /**
   * {@linkcode KernelExports.dw_run} on output pixels `[from, to)` of the batch, counted row
   * after row (pixel `q` is row `q / ow`, column `q % ow`), written from `y` on (`y` holds pixel
   * `from`): a separable chunk, into its thread's own middle, which may start or end inside a
   * row. Any cut gives the same values.
   */
  dw_px: DepthwiseRange;
  /**
   * 3x3 convolution of few input channels (NHWC, filter packed by
   * {@linkcode KernelExports.pw_pack} as `[9 * cin, n]`): output rows `[r0, r1)` of the batch,
   * with bias (0: none) and clamp.
   */
  cv_run(
    x: number,
    packed: number,
    bias: number,
    y: number,
    h: number,
    width: number,
    cin: number,
    n: number,
    oh: number,
    ow: number,
    stride: number,
    padTop: number,
    padLeft: number,
    r0: number,
    r1: number,
    lo: number,
    hi: number,
  ): void;
  /** Mean over the `pixels` pixels of images `[r0, r1)` (NHWC, `channels` a multiple of 4). */
  gap_run(x: number, y: number, pixels: number, channels: number, r0: number, r1: number): void;
  /** Rows of the int8 GEMM's register tile (tools/pointwise_wasm/int8.c). */
  q8_mr(): number;
  /** Columns of the int8 GEMM's register tile (the width of a packed panel). */
  q8_nr(): number;
  /** Input channels per step of the int8 inner product: 4 (relaxed dot) or 2 (16-bit dot). */
  q8_group(): number;
  /** Bytes that {@linkcode KernelExports.q8_pack} writes for a `[k, n]` filter. */
  q8_packed_bytes(k: number, n: number): number;
  /** Where the bias starts in {@linkcode KernelExports.q8_pack}'s block (bytes). */
  q8_bias_offset(k: number, n: number): number;
  /**
   * Quantizes the row-major float32 `[k, n]` filter at `w` per output channel (symmetric,
   * -127..127) and packs it at `packed`, with each column's scale times `aScale` (the input's
   * scale) and its bias (`bias`, 0: none) corrected by the input channels' means (`mean`, 0:
   * no correction). `wide` (1): for 8-bit activations, the `[2 kp, n]` packing of the split
   * input (`q8_packed_bytes(2 kp, n)` bytes, kp = k rounded up to 4).
   */
  q8_pack(
    w: number,
    packed: number,
    k: number,
    n: number,
    aScale: number,
    mean: number,
    bias: number,
    wide: number,
  ): void;
  /**
   * Quantizes rows `[r0, r1)` of the float32 `[m, k]` activations at `x` into bytes 0..127 at `q`
   * (rows of `k` rounded up to 4 bytes): `min(127, max(0, nearest(x * inv)))`; with `levels`
   * 254, `min(254, ...)` split into two bytes 0..127 (rows of twice as many bytes).
   */
  q8_quant(
    x: number,
    q: number,
    k: number,
    r0: number,
    r1: number,
    inv: number,
    levels: number,
  ): void;
  /**
   * The int8 GEMM: rows `[m0, m1)` and panels `[p0, p1)` of `c = clamp(scale * (q x packed) +
   * bias, lo, hi)`, the arguments of {@linkcode KernelExports.pw_run} with `a` the quantized rows
   * and `k` their length in bytes (a multiple of 4).
   */
  q8_run: KernelExports["pw_run"];
}

const BASE64: Record<KernelVariant, { plain: string; shared: string }> = {
  relaxed: { plain: POINTWISE_RELAXED_WASM_BASE64, shared: POINTWISE_RELAXED_SHARED_WASM_BASE64 },
  muladd: { plain: POINTWISE_MULADD_WASM_BASE64, shared: POINTWISE_MULADD_SHARED_WASM_BASE64 },
};

const compiled = new Map<string, WebAssembly.Module>();

/** The bytes of one embedded module. */
export function kernelBytes(variant: KernelVariant, shared: boolean): Uint8Array {
  return decodeBase64(BASE64[variant][shared ? "shared" : "plain"]);
}

/**
 * The compiled module of one variant, for a shared (threaded binary) or plain memory; compiled
 * on first use, once per process.
 *
 * @throws {WebAssembly.CompileError} when the runtime cannot compile it (no relaxed SIMD).
 */
export function kernelModule(variant: KernelVariant, shared: boolean): WebAssembly.Module {
  const key = `${variant}/${shared}`;
  let module = compiled.get(key);
  if (!module) {
    module = new WebAssembly.Module(kernelBytes(variant, shared) as BufferSource);
    compiled.set(key, module);
  }
  return module;
}

/** Instantiates a compiled kernel module on `memory` (the backend's). */
export function instantiateKernel(
  module: WebAssembly.Module,
  memory: WebAssembly.Memory,
): KernelExports {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return instance.exports as unknown as KernelExports;
}

// (v128, v128, v128) -> v128 { f32x4.relaxed_madd(local 0, local 1, local 2) }
// deno-fmt-ignore
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type (v128 x3) -> v128
  0x03, 0x02, 0x01, 0x00, // one function of that type
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b, // code
]);

/** Whether the runtime validates relaxed SIMD (`f32x4.relaxed_madd`), and what was found. */
export function probeRelaxedSimd(): { ok: boolean; detail: string } {
  try {
    return WebAssembly.validate(RELAXED_PROBE)
      ? { ok: true, detail: "relaxed SIMD validates" }
      : { ok: false, detail: "relaxed SIMD does not validate" };
  } catch (error) {
    return { ok: false, detail: `relaxed SIMD probe threw: ${errorMessage(error)}` };
  }
}
