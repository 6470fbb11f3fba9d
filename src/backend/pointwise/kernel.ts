/**
 * The kernels we register for tfjs' `wasm` backend. `FusedConv2D` and `Conv2D`: a 1x1, stride 1,
 * dilation 1, unpadded NHWC float32 convolution with an optional rank-1 bias and a linear, relu
 * or relu6 activation runs as one GEMM in our WebAssembly kernel, reading the input and writing
 * the output in the backend's memory. `FusedDepthwiseConv2D` and `DepthwiseConv2dNative`: a 3x3
 * depthwise convolution (see {@linkcode planDepthwise}). Every other call goes to the kernel
 * registered before.
 *
 * @module
 */
import { backend_util } from "npm:@tensorflow/tfjs-core@4.22.0";
import type {
  KernelConfig,
  KernelFunc,
  NamedAttrMap,
  TensorInfo,
} from "npm:@tensorflow/tfjs-core@4.22.0";
import type { WasmHeap } from "./weights.ts";
import type { DepthwiseJob } from "./pool.ts";

/** One GEMM: `c[m, n] = clamp(sum_k a[m, k] * panels(k, n) + bias[n], lo, hi)`. */
export interface GemmJob {
  /** The input `[m, k]` (NHWC pixels by input channels). */
  a: number;
  /** The filter, packed. */
  packed: number;
  /** The bias `[n]`, or 0. */
  bias: number;
  /** The output `[m, n]`. */
  c: number;
  /** Rows (pixels of the batch). */
  m: number;
  /** Input channels. */
  k: number;
  /** Output channels. */
  n: number;
  /** Lower clamp (-Infinity: none). */
  lo: number;
  /** Upper clamp (Infinity: none). */
  hi: number;
}

/** What a pointwise kernel needs from the rest of the package. */
export interface GemmRunner {
  /** Packs the `[k, n]` filter with data `dataId` at `filter`, once; returns the panels. */
  pack(dataId: object, filter: number, k: number, n: number): number;
  /** Runs one GEMM (on as many threads as are active). */
  run(job: GemmJob): void;
  /** Runs one depthwise 3x3 convolution (on as many threads as are active). */
  depthwise(job: DepthwiseJob): void;
  /** Called before a call goes to the original kernel (our workers stop spinning). */
  delegate(): void;
}

/** The part of tfjs' `BackendWasm` a kernel uses. */
export interface WasmBackendLike extends WasmHeap {
  /** Tensor data by dataId: the memory offset in the backend's heap. */
  dataIdMap: { get(dataId: object): { memoryOffset: number; shape: number[]; dtype: string } };
  /** Allocates an output tensor in the backend's heap. */
  makeOutput(shape: number[], dtype: "float32"): TensorInfo;
}

const CLAMPS: Record<string, [number, number]> = {
  linear: [-Infinity, Infinity],
  relu: [0, Infinity],
  relu6: [0, 6],
};

const allOnes = (value: unknown) =>
  value === undefined || value === 1 ||
  (Array.isArray(value) && value.every((v) => v === 1));

function unpadded(pad: unknown): boolean {
  if (pad === "same" || pad === "valid" || pad === 0) return true; // 1x1, stride 1: no padding
  return Array.isArray(pad) &&
    pad.every((p) => (Array.isArray(p) ? p.every((v) => v === 0) : p === 0));
}

/**
 * The GEMM of a convolution call, or undefined when it is not one we run (then the original
 * kernel runs it, or throws its own error).
 */
export function planPointwise(
  inputs: { x?: TensorInfo; filter?: TensorInfo; bias?: TensorInfo | null; [k: string]: unknown },
  attrs: NamedAttrMap,
): { m: number; k: number; n: number; lo: number; hi: number; outShape: number[] } | undefined {
  const { x, filter, bias } = inputs;
  if (!x || !filter || x.dtype !== "float32" || filter.dtype !== "float32") return undefined;
  if (inputs.preluActivationWeights != null) return undefined;
  const clamp = CLAMPS[(attrs.activation as string | undefined) ?? "linear"];
  if (!clamp) return undefined;
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== "NHWC") return undefined;
  if (!allOnes(attrs.strides) || !allOnes(attrs.dilations) || !unpadded(attrs.pad)) {
    return undefined;
  }
  const [fh, fw, cin, cout] = filter.shape;
  if (filter.shape.length !== 4 || fh !== 1 || fw !== 1) return undefined;
  if (x.shape.length !== 4 || x.shape[3] !== cin) return undefined;
  if (
    bias != null && (bias.dtype !== "float32" || bias.shape.length !== 1 || bias.shape[0] !== cout)
  ) {
    return undefined;
  }
  const [batch, h, w] = x.shape;
  const m = batch * h * w;
  if (m === 0 || cin === 0 || cout === 0) return undefined;
  return { m, k: cin, n: cout, lo: clamp[0], hi: clamp[1], outShape: [batch, h, w, cout] };
}

/**
 * Our kernel function for `FusedConv2D` or `Conv2D` (same inputs: `Conv2D` has no bias and no
 * activation), delegating to `original` whatever {@linkcode planPointwise} refuses.
 */
export function pointwiseKernel(original: KernelConfig, runner: GemmRunner): KernelFunc {
  return planned(original, runner, planPointwise, (plan, inputs, backend) => {
    const data = backend.dataIdMap;
    const filter = inputs.filter!;
    const packed = runner.pack(filter.dataId, data.get(filter.dataId).memoryOffset, plan.k, plan.n);
    const out = backend.makeOutput(plan.outShape, "float32");
    runner.run({
      a: data.get(inputs.x!.dataId).memoryOffset,
      packed,
      bias: inputs.bias ? data.get(inputs.bias.dataId).memoryOffset : 0,
      c: data.get(out.dataId).memoryOffset,
      m: plan.m,
      k: plan.k,
      n: plan.n,
      lo: plan.lo,
      hi: plan.hi,
    });
    return out;
  });
}

/**
 * The depthwise convolution of a `DepthwiseConv2dNative` / `FusedDepthwiseConv2D` call, or
 * undefined when it is not one we run: 3x3 filter, channel multiplier 1, equal strides of 1 or 2,
 * dilation 1, NHWC float32, channels a multiple of 4, optional rank-1 bias, linear, relu or relu6.
 */
export function planDepthwise(
  inputs: { x?: TensorInfo; filter?: TensorInfo; bias?: TensorInfo | null; [k: string]: unknown },
  attrs: NamedAttrMap,
): Omit<DepthwiseJob, "x" | "w" | "bias" | "y"> & { outShape: number[] } | undefined {
  const { x, filter, bias } = inputs;
  if (!x || !filter || x.dtype !== "float32" || filter.dtype !== "float32") return undefined;
  if (inputs.preluActivationWeights != null) return undefined;
  const clamp = CLAMPS[(attrs.activation as string | undefined) ?? "linear"];
  if (!clamp) return undefined;
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== "NHWC") return undefined;
  const strides = attrs.strides as number | [number, number];
  const [sh, sw] = typeof strides === "number" ? [strides, strides] : strides ?? [1, 1];
  if (sh !== sw || (sh !== 1 && sh !== 2) || !allOnes(attrs.dilations)) return undefined;
  const [fh, fw, channels, multiplier] = filter.shape;
  if (filter.shape.length !== 4 || fh !== 3 || fw !== 3 || multiplier !== 1) return undefined;
  if (x.shape.length !== 4 || x.shape[3] !== channels || channels % 4 !== 0) return undefined;
  if (
    bias != null &&
    (bias.dtype !== "float32" || bias.shape.length !== 1 || bias.shape[0] !== channels)
  ) return undefined;
  if (typeof attrs.pad !== "string") return undefined; // explicit/numeric padding: XNNPACK's
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    sh,
    1,
    attrs.pad as "same" | "valid",
    attrs.dimRoundingMode as "floor" | "round" | "ceil" | undefined,
    true,
  );
  const [batch, h, width] = x.shape;
  const { outHeight: oh, outWidth: ow } = info;
  if (batch * oh * ow === 0) return undefined;
  return {
    h,
    width,
    channels,
    oh,
    ow,
    stride: sh,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
    rows: batch * oh,
    lo: clamp[0],
    hi: clamp[1],
    outShape: [batch, oh, ow, channels],
  };
}

/** Our kernel function for `FusedDepthwiseConv2D` or `DepthwiseConv2dNative`. */
export function depthwiseKernel(original: KernelConfig, runner: GemmRunner): KernelFunc {
  return planned(original, runner, planDepthwise, (plan, inputs, backend) => {
    const data = backend.dataIdMap;
    const { outShape, ...job } = plan;
    const out = backend.makeOutput(outShape, "float32");
    runner.depthwise({
      ...job,
      x: data.get(inputs.x!.dataId).memoryOffset,
      w: data.get(inputs.filter!.dataId).memoryOffset,
      bias: inputs.bias ? data.get(inputs.bias.dataId).memoryOffset : 0,
      y: data.get(out.dataId).memoryOffset,
    });
    return out;
  });
}

/**
 * A kernel function that runs `run` on what `plan` makes of a call, and hands every call `plan`
 * refuses to `original` (after telling the runner, so our workers stop spinning for XNNPACK).
 */
function planned<I, P>(
  original: KernelConfig,
  runner: GemmRunner,
  plan: (inputs: I, attrs: NamedAttrMap) => P | undefined,
  run: (plan: P, inputs: I, backend: WasmBackendLike) => ReturnType<KernelFunc>,
): KernelFunc {
  return (args) => {
    const inputs = args.inputs as I;
    const p = plan(inputs, args.attrs ?? {});
    if (!p) {
      runner.delegate();
      return original.kernelFunc(args);
    }
    return run(p, inputs, args.backend as WasmBackendLike);
  };
}
