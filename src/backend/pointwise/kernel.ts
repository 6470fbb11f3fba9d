/**
 * The kernels we register for tfjs' `wasm` backend. `FusedConv2D` and `Conv2D`: a 1x1, stride 1,
 * dilation 1, unpadded NHWC float32 convolution with an optional rank-1 bias and a linear, relu
 * or relu6 activation runs as one GEMM in our WebAssembly kernel, reading the input and writing
 * the output in the backend's memory; a 3x3 convolution of few input channels (a network's
 * first layer, see {@linkcode planConv3x3}) runs as the same GEMM with its inputs read in place.
 * `FusedDepthwiseConv2D` and `DepthwiseConv2dNative`: a 3x3 depthwise convolution (see
 * {@linkcode planDepthwise}). `_FusedMatMul`: a matrix product with a constant right operand (see
 * {@linkcode planMatMul}). `Mean` over the pixels of NHWC images (see {@linkcode planMean}). And
 * our own {@linkcode SEPARABLE_KERNEL}: a depthwise 3x3 and a 1x1 convolution as one call.
 * Every other call goes to the kernel registered before.
 *
 * @module
 */
import * as tf from "../../vendor/tfjs.js";
import { backend_util, util } from "../../vendor/tfjs.js";
import type {
  KernelConfig,
  KernelFunc,
  NamedAttrMap,
  NamedTensorInfoMap,
  TensorInfo,
} from "npm:@tensorflow/tfjs-core@4.22.0";
import type { WasmHeap } from "./weights.ts";

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

/**
 * What a 3x3 convolution job (depthwise or of few channels) holds besides its filter: input `x`
 * (`h` x `width` pixels), bias (0: none), output `y` (`oh` x `ow`), stride, top and left padding,
 * `rows` = batch x output height (the unit of its chunks), clamp `[lo, hi]`.
 */
export interface SpatialJob {
  x: number;
  bias: number;
  y: number;
  h: number;
  width: number;
  oh: number;
  ow: number;
  stride: number;
  padTop: number;
  padLeft: number;
  rows: number;
  lo: number;
  hi: number;
}

/** A depthwise 3x3 convolution (`dw_run`), the filter `w` as tfjs holds it. */
export interface DepthwiseJob extends SpatialJob {
  w: number;
  channels: number;
}

/**
 * A 3x3 convolution of few input channels (`cv_run`), `packed` the filter packed as a
 * `[9 * cin, n]` GEMM operand.
 */
export interface ConvJob extends SpatialJob {
  packed: number;
  cin: number;
  n: number;
}

/** What a pointwise kernel needs from the rest of the package. */
export interface GemmRunner {
  /** Packs the `[k, n]` filter with data `dataId` at `filter`, once; returns the panels. */
  pack(dataId: object, filter: number, k: number, n: number): number;
  /** Runs one GEMM (on as many threads as are active). */
  run(job: GemmJob): void;
  /** Runs one depthwise 3x3 convolution (on as many threads as are active). */
  depthwise(job: DepthwiseJob): void;
  /**
   * Runs a depthwise 3x3 convolution (`dw`) and the 1x1 convolution of its output (`pw`), in
   * row bands and column groups on as many threads as are active, or one after the other; the
   * runner allocates the middle activation for the call.
   */
  separable(dw: Omit<DepthwiseJob, "y">, pw: Omit<GemmJob, "a">): void;
  /** Runs one 3x3 convolution of few input channels (on as many threads as are active). */
  conv(job: ConvJob): void;
  /** Means over the `pixels` pixels of `images` NHWC images at `x` into `[images, channels]`. */
  mean(x: number, y: number, images: number, pixels: number, channels: number): void;
  /** Called before a call goes to the original kernel (our workers stop spinning). */
  delegate(): void;
}

/** The part of tfjs' `BackendWasm` a kernel uses. */
export interface WasmBackendLike extends WasmHeap {
  /** Tensor data by dataId: the memory offset in the backend's heap. */
  dataIdMap: {
    get(dataId: object): { memoryOffset: number; shape: number[]; dtype: string };
    has(dataId: object): boolean;
  };
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

/** The inputs of a convolution or matrix product call. */
type ConvInputs = {
  x?: TensorInfo;
  filter?: TensorInfo;
  bias?: TensorInfo | null;
  [k: string]: unknown;
};

/**
 * The clamp of a float32 call in NHWC without PReLU weights whose `x` and `filter` are float32, or
 * undefined when we do not run it.
 */
function clampOf(
  x: TensorInfo | undefined,
  filter: TensorInfo | undefined,
  inputs: { [k: string]: unknown },
  attrs: NamedAttrMap,
): [number, number] | undefined {
  if (!x || !filter || x.dtype !== "float32" || filter.dtype !== "float32") return undefined;
  if (inputs.preluActivationWeights != null) return undefined;
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== "NHWC") return undefined;
  return CLAMPS[(attrs.activation as string | undefined) ?? "linear"];
}

/** Whether `bias` is absent or a float32 vector of `n` values. */
function biasFits(bias: TensorInfo | null | undefined, n: number): boolean {
  return bias == null ||
    (bias.dtype === "float32" && bias.shape.length === 1 && bias.shape[0] === n);
}

/** The stride of a call with equal strides of 1 or 2 and dilation 1, else undefined. */
function strideOf(attrs: NamedAttrMap): 1 | 2 | undefined {
  const strides = attrs.strides as number | [number, number];
  const [sh, sw] = typeof strides === "number" ? [strides, strides] : strides ?? [1, 1];
  if (sh !== sw || (sh !== 1 && sh !== 2) || !allOnes(attrs.dilations)) return undefined;
  return sh;
}

/**
 * The GEMM of a convolution call, or undefined when it is not one we run (then the original
 * kernel runs it, or throws its own error).
 */
export function planPointwise(
  inputs: ConvInputs,
  attrs: NamedAttrMap,
): { m: number; k: number; n: number; lo: number; hi: number; outShape: number[] } | undefined {
  const { x, filter, bias } = inputs;
  const clamp = clampOf(x, filter, inputs, attrs);
  if (!x || !filter || !clamp) return undefined;
  if (!allOnes(attrs.strides) || !allOnes(attrs.dilations) || !unpadded(attrs.pad)) {
    return undefined;
  }
  const [fh, fw, cin, cout] = filter.shape;
  if (filter.shape.length !== 4 || fh !== 1 || fw !== 1) return undefined;
  if (x.shape.length !== 4 || x.shape[3] !== cin || !biasFits(bias, cout)) return undefined;
  const [batch, h, w] = x.shape;
  const m = batch * h * w;
  if (m === 0 || cin === 0 || cout === 0) return undefined;
  return { m, k: cin, n: cout, lo: clamp[0], hi: clamp[1], outShape: [batch, h, w, cout] };
}

/** Most input channels of a 3x3 convolution we run ({@linkcode planConv3x3}). */
export const CONV3X3_MAX_CHANNELS = 8;

/**
 * The convolution of a `Conv2D` / `FusedConv2D` call with a 3x3 filter over at most
 * {@linkcode CONV3X3_MAX_CHANNELS} input channels (an image: a network's first layer), equal
 * strides of 1 or 2, dilation 1, "same" or "valid" padding, NHWC float32, optional rank-1 bias,
 * linear, relu or relu6; else undefined.
 */
export function planConv3x3(
  inputs: ConvInputs,
  attrs: NamedAttrMap,
): Omit<ConvJob, "x" | "packed" | "bias" | "y"> & { outShape: number[] } | undefined {
  const { x, filter, bias } = inputs;
  const clamp = clampOf(x, filter, inputs, attrs);
  const stride = strideOf(attrs);
  if (!x || !filter || !clamp || !stride || typeof attrs.pad !== "string") return undefined;
  const [fh, fw, cin, n] = filter.shape;
  if (filter.shape.length !== 4 || fh !== 3 || fw !== 3) return undefined;
  if (cin > CONV3X3_MAX_CHANNELS || x.shape.length !== 4 || x.shape[3] !== cin) return undefined;
  if (!biasFits(bias, n) || n === 0) return undefined;
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    stride,
    1,
    attrs.pad as "same" | "valid",
    attrs.dimRoundingMode as "floor" | "round" | "ceil" | undefined,
  );
  const [batch, h, width] = x.shape;
  const { outHeight: oh, outWidth: ow } = info;
  if (batch * oh * ow === 0) return undefined;
  return {
    h,
    width,
    cin,
    n,
    oh,
    ow,
    stride,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
    rows: batch * oh,
    lo: clamp[0],
    hi: clamp[1],
    outShape: [batch, oh, ow, n],
  };
}

/** The plan of a convolution call: a 1x1 GEMM, a 3x3 convolution of few channels, or neither. */
function planConvolution(inputs: ConvInputs, attrs: NamedAttrMap) {
  const gemm = planPointwise(inputs, attrs);
  if (gemm) return { gemm };
  const conv = planConv3x3(inputs, attrs);
  return conv ? { conv } : undefined;
}

/**
 * Our kernel function for `FusedConv2D` or `Conv2D` (same inputs: `Conv2D` has no bias and no
 * activation), delegating to `original` whatever {@linkcode planPointwise} and
 * {@linkcode planConv3x3} refuse.
 */
export function pointwiseKernel(original: KernelConfig, runner: GemmRunner): KernelFunc {
  return planned(original, runner, planConvolution, (plan, inputs, backend) => {
    const data = backend.dataIdMap;
    const filter = inputs.filter!;
    const offset = data.get(filter.dataId).memoryOffset;
    const bias = inputs.bias ? data.get(inputs.bias.dataId).memoryOffset : 0;
    if (plan.conv) {
      const { outShape, ...job } = plan.conv;
      const out = backend.makeOutput(outShape, "float32");
      runner.conv({
        ...job,
        x: data.get(inputs.x!.dataId).memoryOffset,
        packed: runner.pack(filter.dataId, offset, 9 * job.cin, job.n),
        bias,
        y: data.get(out.dataId).memoryOffset,
      });
      return out;
    }
    const { m, k, n, lo, hi, outShape } = plan.gemm!;
    const out = backend.makeOutput(outShape, "float32");
    const packed = runner.pack(filter.dataId, offset, k, n);
    const a = data.get(inputs.x!.dataId).memoryOffset;
    runner.run({ a, packed, bias, c: data.get(out.dataId).memoryOffset, m, k, n, lo, hi });
    return out;
  });
}

/**
 * The GEMM of a `_FusedMatMul` call `a x b`: `a` float32 `[batch, m, k]`, `b` float32
 * `[1, k, n]` (a weight matrix, packed once like a filter), neither transposed, optional rank-1
 * bias, linear, relu or relu6; else undefined.
 */
export function planMatMul(
  inputs: { a?: TensorInfo; b?: TensorInfo; bias?: TensorInfo | null; [k: string]: unknown },
  attrs: NamedAttrMap,
): { m: number; k: number; n: number; lo: number; hi: number; outShape: number[] } | undefined {
  const { a, b, bias } = inputs;
  const clamp = clampOf(a, b, inputs, attrs);
  if (!a || !b || !clamp || attrs.transposeA || attrs.transposeB) return undefined;
  if (a.shape.length !== 3 || b.shape.length !== 3 || b.shape[0] !== 1) return undefined;
  const [batch, rows, k] = a.shape;
  const n = b.shape[2];
  if (b.shape[1] !== k || !biasFits(bias, n) || batch * rows * k * n === 0) return undefined;
  return { m: batch * rows, k, n, lo: clamp[0], hi: clamp[1], outShape: [batch, rows, n] };
}

/** Our kernel function for `_FusedMatMul`, delegating what {@linkcode planMatMul} refuses. */
export function matMulKernel(original: KernelConfig, runner: GemmRunner): KernelFunc {
  return planned(original, runner, planMatMul, (plan, inputs, backend) => {
    const data = backend.dataIdMap;
    const { m, k, n, lo, hi, outShape } = plan;
    const b = inputs.b!;
    const out = backend.makeOutput(outShape, "float32");
    runner.run({
      a: data.get(inputs.a!.dataId).memoryOffset,
      packed: runner.pack(b.dataId, data.get(b.dataId).memoryOffset, k, n),
      bias: inputs.bias ? data.get(inputs.bias.dataId).memoryOffset : 0,
      c: data.get(out.dataId).memoryOffset,
      m,
      k,
      n,
      lo,
      hi,
    });
    return out;
  });
}

/**
 * The global average pooling of a `Mean` call: float32 NHWC `x` averaged over axes 1 and 2
 * (height and width, in that order), channels a multiple of 4; else undefined. The result is
 * identical to tfjs' own `Mean` (the same sums in the same order, divided the same way).
 */
export function planMean(
  inputs: { x?: TensorInfo; [k: string]: unknown },
  attrs: NamedAttrMap,
): { images: number; pixels: number; channels: number; outShape: number[] } | undefined {
  const { x } = inputs;
  if (!x || x.dtype !== "float32" || x.shape.length !== 4) return undefined;
  const axes = util.parseAxisParam(attrs.axis as number | number[], x.shape);
  // [2, 1] sums the pixels column by column in tfjs' Mean: left to it, so results stay identical
  if (axes.join() !== "1,2") return undefined;
  const [images, h, w, channels] = x.shape;
  if (channels % 4 !== 0 || images * h * w * channels === 0) return undefined;
  const outShape = attrs.keepDims ? [images, 1, 1, channels] : [images, channels];
  return { images, pixels: h * w, channels, outShape };
}

/** Our kernel function for `Mean`, delegating what {@linkcode planMean} refuses. */
export function meanKernel(original: KernelConfig, runner: GemmRunner): KernelFunc {
  return planned(original, runner, planMean, (plan, inputs, backend) => {
    const data = backend.dataIdMap;
    const out = backend.makeOutput(plan.outShape, "float32");
    const x = data.get(inputs.x!.dataId).memoryOffset;
    runner.mean(x, data.get(out.dataId).memoryOffset, plan.images, plan.pixels, plan.channels);
    return out;
  });
}

/**
 * The depthwise convolution of a `DepthwiseConv2dNative` / `FusedDepthwiseConv2D` call, or
 * undefined when it is not one we run: 3x3 filter, channel multiplier 1, equal strides of 1 or 2,
 * dilation 1, NHWC float32, channels a multiple of 4, optional rank-1 bias, linear, relu or relu6.
 */
export function planDepthwise(
  inputs: ConvInputs,
  attrs: NamedAttrMap,
): Omit<DepthwiseJob, "x" | "w" | "bias" | "y"> & { outShape: number[] } | undefined {
  const { x, filter, bias } = inputs;
  const clamp = clampOf(x, filter, inputs, attrs);
  const sh = strideOf(attrs);
  if (!x || !filter || !clamp || !sh) return undefined;
  const [fh, fw, channels, multiplier] = filter.shape;
  if (filter.shape.length !== 4 || fh !== 3 || fw !== 3 || multiplier !== 1) return undefined;
  if (x.shape.length !== 4 || x.shape[3] !== channels || channels % 4 !== 0) return undefined;
  if (!biasFits(bias, channels)) return undefined;
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

/** The kernel of a depthwise-separable block: see {@linkcode separableKernel}. */
export const SEPARABLE_KERNEL = "MobileNetEdgeSeparable";

/** The inputs of {@linkcode SEPARABLE_KERNEL}. */
type SeparableInputs = {
  x?: TensorInfo;
  dwFilter?: TensorInfo;
  dwBias?: TensorInfo;
  pwFilter?: TensorInfo;
  pwBias?: TensorInfo;
};

/**
 * Our kernel {@linkcode SEPARABLE_KERNEL}: a depthwise 3x3 convolution (`dwFilter`, `dwBias`,
 * attributes `strides`, `pad`, `dwActivation`) and the 1x1 convolution of its output
 * (`pwFilter`, `pwBias`, `activation`), as one call: the same values as the two kernels one
 * after the other, with one hand-off to our workers instead of two, each thread making the rows
 * it then consumes. What our kernels do not take runs as those two kernels (whichever are
 * registered).
 */
export function separableKernel(runner: GemmRunner): KernelFunc {
  return (args) => {
    const { x, dwFilter, dwBias, pwFilter, pwBias } = args.inputs as SeparableInputs;
    const backend = args.backend as WasmBackendLike;
    const a = args.attrs ?? {};
    const dwAttrs = { strides: a.strides, pad: a.pad, dilations: 1, activation: a.dwActivation };
    const pwAttrs = { strides: 1, pad: "valid", dilations: 1, activation: a.activation };
    const dw = planDepthwise({ x, filter: dwFilter, bias: dwBias }, dwAttrs);
    const middle = dw && ({ dataId: {}, shape: dw.outShape, dtype: "float32" } as TensorInfo);
    const pw = middle && planPointwise({ x: middle, filter: pwFilter, bias: pwBias }, pwAttrs);
    if (!dw || !pw) return twoKernels(args.inputs as SeparableInputs, dwAttrs, pwAttrs, backend);
    const data = backend.dataIdMap;
    const { outShape: _, ...dwJob } = dw;
    const out = backend.makeOutput(pw.outShape, "float32");
    const offset = (t: TensorInfo | undefined) => (t ? data.get(t.dataId).memoryOffset : 0);
    runner.separable({ ...dwJob, x: offset(x), w: offset(dwFilter), bias: offset(dwBias) }, {
      packed: runner.pack(pwFilter!.dataId, offset(pwFilter), pw.k, pw.n),
      bias: offset(pwBias),
      c: offset(out),
      m: pw.m,
      k: pw.k,
      n: pw.n,
      lo: pw.lo,
      hi: pw.hi,
    });
    return out;
  };
}

/** The kernel of a classifier on a network's last activation: see {@linkcode headKernel}. */
export const HEAD_KERNEL = "MobileNetEdgeHead";

/** The inputs of {@linkcode HEAD_KERNEL}. */
type HeadInputs = { x?: TensorInfo; filter?: TensorInfo; bias?: TensorInfo };

/**
 * Our kernel {@linkcode HEAD_KERNEL}: the global average pooling of `x` (NHWC float32) and the
 * product of the pooled features with `filter` (`[channels, classes]`) plus `bias`, the logits
 * `[images, classes]`, and with the attribute `softmax` their softmax, as one call: the same
 * values as the registered `Mean`, `_FusedMatMul` and `Softmax` (ours: the same sums in the
 * same order), without the reshapes and op-level work of `tf.mean`, `tf.fused.matMul` and
 * `tf.softmax` between them, about 100 us of one thread an inference. What our kernels do not
 * take runs as those kernels.
 */
export function headKernel(runner: GemmRunner): KernelFunc {
  return (args) => {
    const { x, filter, bias } = args.inputs as HeadInputs;
    const backend = args.backend as WasmBackendLike;
    const logits = headLogits(runner, { x, filter, bias }, backend);
    if (!args.attrs?.softmax) return logits;
    try {
      return runKernelFunc("Softmax", { logits }, { dim: logits.shape.length - 1 }, backend);
    } finally {
      backend.disposeData(logits.dataId);
    }
  };
}

/** Runs the registered kernel `name` of the `wasm` backend on tensor infos. */
function runKernelFunc(
  name: string,
  inputs: Record<string, TensorInfo | undefined | null>,
  attrs: NamedAttrMap,
  backend: WasmBackendLike,
): TensorInfo {
  return tf.getKernel(name, "wasm")!.kernelFunc({
    inputs: inputs as NamedTensorInfoMap,
    attrs,
    backend: backend as unknown as tf.KernelBackend,
  }) as TensorInfo;
}

/** {@linkcode HEAD_KERNEL}'s logits. */
function headLogits(runner: GemmRunner, inputs: HeadInputs, backend: WasmBackendLike): TensorInfo {
  const { x, filter, bias } = inputs;
  const mean = planMean({ x }, { axis: [1, 2] });
  const a = mean && ({ dataId: {}, shape: [1, mean.images, mean.channels], dtype: "float32" });
  const b = filter && { ...filter, shape: [1, ...filter.shape] };
  const gemm = a && planMatMul({ a: a as TensorInfo, b, bias }, {});
  if (!mean || !gemm || filter!.shape.length !== 2) return headTwoKernels(inputs, backend);
  const data = backend.dataIdMap;
  const offset = (t: TensorInfo | undefined) => (t ? data.get(t.dataId).memoryOffset : 0);
  const out = backend.makeOutput([mean.images, gemm.n], "float32");
  const heap = backend.wasm;
  const pooled = heap._malloc(mean.images * mean.channels * 4) >>> 0;
  if (pooled === 0) throw new Error("cannot allocate the pooled features");
  try {
    runner.mean(offset(x), pooled, mean.images, mean.pixels, mean.channels);
    runner.run({
      a: pooled,
      packed: runner.pack(filter!.dataId, offset(filter), gemm.k, gemm.n),
      bias: offset(bias),
      c: offset(out),
      m: gemm.m,
      k: gemm.k,
      n: gemm.n,
      lo: gemm.lo,
      hi: gemm.hi,
    });
  } finally {
    heap._free(pooled);
  }
  return out;
}

/** {@linkcode HEAD_KERNEL}'s logits from the registered `Mean` and `_FusedMatMul`. */
function headTwoKernels(inputs: HeadInputs, backend: WasmBackendLike): TensorInfo {
  const { x, filter, bias } = inputs;
  const pooled = runKernelFunc("Mean", { x }, { axis: [1, 2], keepDims: false }, backend);
  try {
    const [images, channels] = pooled.shape;
    const a = { ...pooled, shape: [1, images, channels] };
    const b = { ...filter!, shape: [1, ...filter!.shape] };
    const attrs = { transposeA: false, transposeB: false, activation: "linear" };
    const logits = runKernelFunc("_FusedMatMul", { a, b, bias }, attrs, backend);
    return { ...logits, shape: logits.shape.slice(1) }; // [1, images, classes] as a reshape
  } finally {
    backend.disposeData(pooled.dataId);
  }
}

/** {@linkcode SEPARABLE_KERNEL}'s call as the two registered kernels, one after the other. */
function twoKernels(
  inputs: SeparableInputs,
  dwAttrs: NamedAttrMap,
  pwAttrs: NamedAttrMap,
  backend: WasmBackendLike,
): TensorInfo {
  const run = (name: string, i: Record<string, TensorInfo | undefined>, attrs: NamedAttrMap) =>
    runKernelFunc(name, i, { dataFormat: "NHWC", ...attrs }, backend);
  const middle = run("FusedDepthwiseConv2D", {
    x: inputs.x,
    filter: inputs.dwFilter,
    bias: inputs.dwBias,
  }, dwAttrs);
  try {
    return run("FusedConv2D", { x: middle, filter: inputs.pwFilter, bias: inputs.pwBias }, pwAttrs);
  } finally {
    backend.disposeData(middle.dataId);
  }
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
