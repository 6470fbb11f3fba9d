/**
 * The int8 pointwise kernel (`precision: "int8"`): a 1x1 convolution or a matrix product with a
 * constant float32 filter, computed in integers. tfjs has no such kernel, so it is registered
 * under its own name, {@linkcode INT8_KERNEL}, and the network calls it with
 * `tf.engine().runKernel`.
 *
 * The scheme (tools/pointwise_wasm/int8.c has the arithmetic):
 * - the filter is quantized once, at its first call, per output channel and symmetric
 *   (`w = q * s_w[n]`, q in -127..127), and packed (`q8_pack`) with its bias, corrected for the
 *   mean error of the quantized weights when the input channels' means (measured at calibration)
 *   come with the call; the block is freed with the filter tensor;
 * - the input, a ReLU6 (or average-pooled ReLU6) activation, so never negative, is quantized at
 *   each call with the layer's calibrated scale `s_a` to bytes 0..127 (`q8_quant`): the 7-bit
 *   operand of relaxed SIMD's dot product, exact on every lowering of it. With the attribute
 *   `levels: 254` (8-bit activations, for layers 7 bits hurt), to 0..254, each value split into
 *   two bytes 0..127 whose dot products add up (two dot products where one is used, still exact
 *   everywhere);
 * - products are summed in int32; bias, activation and the scale `s_a * s_w[n]` are applied in
 *   float32 in the GEMM's epilogue (`q8_run`). The output is float32.
 *
 * @module
 */
import type { KernelFunc, NamedAttrMap, TensorInfo } from "npm:@tensorflow/tfjs-core@4.22.0";
import type { GemmJob, WasmBackendLike } from "./kernel.ts";
import type { KernelExports } from "./module.ts";
import type { Packer } from "./weights.ts";
import { isInt8Scale } from "../../_util.ts";

/** The name of the int8 kernel for tfjs' `wasm` backend. */
export const INT8_KERNEL = "MobileNetEdgeInt8Pointwise";

/**
 * Which int8 kernels run: relaxed SIMD's dot product (`i32x4.relaxed_dot_i8x16_i7x16_add_s`),
 * plain SIMD's 16-bit one (`i32x4.dot_i16x8_s`), or none (a model asking for int8 runs float32).
 */
export type Int8Kernels = "relaxed-dot" | "simd-dot16" | "none";

/** Activations of the int8 kernel, as `[lo, hi]` clamps of its float32 output. */
const CLAMPS: Record<string, [number, number]> = {
  linear: [-Infinity, Infinity],
  relu: [0, Infinity],
  relu6: [0, 6],
};

/**
 * One int8 GEMM, as {@linkcode Int8Runner.int8} runs it: a float32 GEMM's fields (the bias the
 * packed block's), with the float32 input `x` `[m, k]` instead of `a`, and `inv`, `1 / s_a`
 * (float32), what the input is multiplied by before rounding.
 */
export interface Int8Job extends Omit<GemmJob, "a"> {
  x: number;
  inv: number;
  /** The largest quantized activation: 127, or 254 (wide: the input split in two). */
  levels: Int8Levels;
}

/**
 * The largest quantized activation of an int8 layer: 127 (7 bits, one dot product) or 254 (8 bits
 * split into two 0..127 bytes, two dot products).
 */
export type Int8Levels = 127 | 254;

/** Whether `levels` is an {@linkcode Int8Levels}. */
export function isInt8Levels(levels: unknown): levels is Int8Levels {
  return levels === 127 || levels === 254;
}

/**
 * The length of the GEMM's inner dimension for `k` input channels: `k` (7 bits), or the split
 * input's `2 * quantizedRow(k)` (254 levels).
 */
export function int8Depth(k: number, levels: Int8Levels): number {
  return levels === 254 ? 2 * quantizedRow(k) : k;
}

/** How a filter is packed for int8: its input scale, and its bias and input means (0: none). */
export interface Int8Packing {
  /** The input's scale. */
  scale: number;
  /** The largest quantized activation. */
  levels: Int8Levels;
  /** The bias `[n]` (memory offset), or 0. */
  bias: number;
  /** The input channels' means `[k]` (memory offset), or 0: no bias correction. */
  mean: number;
  /** Names the packing among those of one filter (scale, bias and means tensors). */
  key: string;
}

/** What the int8 kernel needs from the rest of the package. */
export interface Int8Runner {
  /**
   * Quantizes and packs the `[k, n]` filter `dataId` at `filter` as `packing` says, once;
   * returns the block and its bias.
   */
  packInt8(
    dataId: object,
    filter: number,
    k: number,
    n: number,
    packing: Int8Packing,
  ): { packed: number; bias: number };
  /** Quantizes the input and runs the GEMM (on as many threads as are active). */
  int8(job: Int8Job): void;
}

/** The packing of `q8_pack`: a filter packed with two scales, biases or means keeps two blocks. */
export function int8Packer(kernel: KernelExports, packing: Int8Packing): Packer {
  const s = Math.fround(packing.scale);
  return {
    key: `int8/${packing.key}`,
    bytes: (k, n) => kernel.q8_packed_bytes(int8Depth(k, packing.levels), n),
    pack: (filter, packed, k, n) =>
      kernel.q8_pack(filter, packed, k, n, s, packing.mean, packing.bias, +(packing.levels > 127)),
  };
}

const ids = new WeakMap<object, number>();
let nextId = 1;
/** A number for a tensor's data, the same for the same data (0: none). */
function idOf(dataId: object | undefined): number {
  if (!dataId) return 0;
  let id = ids.get(dataId);
  if (id === undefined) ids.set(dataId, id = nextId++);
  return id;
}

/** `k` rounded up to 4: the length in bytes of a quantized row. */
export function quantizedRow(k: number): number {
  return (k + 3) & ~3;
}

/** The inputs of an int8 kernel call. */
type Int8Inputs = {
  x?: TensorInfo;
  filter?: TensorInfo;
  bias?: TensorInfo | null;
  mean?: TensorInfo | null;
};

/**
 * The GEMM of an int8 kernel call, or undefined for a call it cannot run: `x` float32 `[..., k]`,
 * `filter` float32 `[1, ..., 1, k, n]` (a 1x1 convolution's or a matrix), optional float32 bias
 * `[n]` and input means `mean` `[k]`; attributes `scale` (the input's, see `isInt8Scale`),
 * `activation` (`linear`, `relu`, `relu6`; default `linear`) and `levels`
 * ({@linkcode Int8Levels}; default 127).
 */
export function planInt8(
  inputs: Int8Inputs,
  attrs: NamedAttrMap,
):
  | {
    m: number;
    k: number;
    n: number;
    scale: number;
    levels: Int8Levels;
    lo: number;
    hi: number;
    outShape: number[];
  }
  | undefined {
  const { x, filter, bias, mean } = inputs;
  const clamp = CLAMPS[(attrs.activation as string | undefined) ?? "linear"];
  const scale = attrs.scale;
  if (!x || !filter || !clamp || x.dtype !== "float32" || filter.dtype !== "float32") return;
  const levels = attrs.levels ?? 127;
  if (!isInt8Scale(scale) || !isInt8Levels(levels)) return;
  const fs = filter.shape;
  if (fs.length < 2 || fs.slice(0, -2).some((d) => d !== 1) || x.shape.length < 1) return;
  const [k, n] = fs.slice(-2);
  if (x.shape.at(-1) !== k || k === 0 || n === 0) return;
  const vector = (t: TensorInfo | null | undefined, length: number) =>
    !t || (t.dtype === "float32" && t.shape.length === 1 && t.shape[0] === length);
  if (!vector(bias, n) || !vector(mean, k)) return;
  const m = x.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  if (m === 0) return;
  const outShape = [...x.shape.slice(0, -1), n];
  return { m, k, n, scale, levels, lo: clamp[0], hi: clamp[1], outShape };
}

/**
 * Our kernel function for {@linkcode INT8_KERNEL}.
 *
 * @throws {Error} for a call {@linkcode planInt8} refuses (there is no other kernel to run it).
 */
export function int8Kernel(runner: Int8Runner): KernelFunc {
  return (args) => {
    const inputs = args.inputs as Int8Inputs;
    const plan = planInt8(inputs, args.attrs ?? {});
    if (!plan) {
      const shapes = [inputs.x?.shape, inputs.filter?.shape].map((s) => `[${s}]`).join(" x ");
      throw new Error(`${INT8_KERNEL} cannot run ${shapes} with ${JSON.stringify(args.attrs)}`);
    }
    const backend = args.backend as WasmBackendLike;
    const data = backend.dataIdMap;
    const { m, k, n, scale, levels, lo, hi, outShape } = plan;
    const filter = inputs.filter!;
    const out = backend.makeOutput(outShape, "float32");
    const { bias, mean } = inputs;
    const packing = {
      scale,
      levels,
      bias: bias ? data.get(bias.dataId).memoryOffset : 0,
      mean: mean ? data.get(mean.dataId).memoryOffset : 0,
      key: `${Math.fround(scale)}/${levels}/${idOf(bias?.dataId)}/${idOf(mean?.dataId)}`,
    };
    const filterAt = data.get(filter.dataId).memoryOffset;
    const block = runner.packInt8(filter.dataId, filterAt, k, n, packing);
    runner.int8({
      x: data.get(inputs.x!.dataId).memoryOffset,
      packed: block.packed,
      bias: block.bias,
      c: data.get(out.dataId).memoryOffset,
      m,
      k,
      n,
      inv: Math.fround(1 / Math.fround(scale)),
      levels,
      lo,
      hi,
    });
    return out;
  };
}
