/**
 * Export of a MobileNet v1 {@linkcode Architecture} with its Keras-named weights as an ONNX model
 * (opset 13) that computes the same network as `MobileNetNetwork`: BatchNorm folded into each
 * convolution's weights and bias (the project's {@linkcode foldBatchNorm}), `Clip(0, 6)` for
 * relu6, TF "same" padding as explicit `pads`, `GlobalAveragePool`, `Gemm` for `conv_preds` and
 * `Softmax`. Used to run the identical network in other runtimes (onnxruntime-web) for
 * comparison.
 *
 * The graph takes NHWC input by default — the layout `MobileNet.predict` takes — and transposes
 * it to NCHW as its first node, so a runtime fed the same bytes does the same work as ours
 * (layout conversion included). `inputLayout: "nchw"` drops that node.
 *
 * @module
 */
import type { Architecture, ConvStep } from "../../src/model/architecture.ts";
import { foldBatchNorm } from "../../src/model/batch_norm.ts";
import { WeightsError } from "../../src/errors.ts";
import {
  encodeOnnxModel,
  OnnxDataType,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
} from "./onnx_proto.ts";

/** The ONNX opset the exporter writes. */
export const ONNX_OPSET = 13;

/** The ONNX IR version written with {@linkcode ONNX_OPSET}. */
export const ONNX_IR_VERSION = 7;

/** Name of the graph input. */
export const ONNX_INPUT_NAME = "input";

/** Options of {@linkcode exportOnnx}. */
export interface OnnxExportOptions {
  /**
   * Layout of the graph input: `"nhwc"` (`[n, h, w, 3]`, what `MobileNet.predict` takes; the
   * graph transposes to NCHW first) or `"nchw"` (`[n, 3, h, w]`, no transpose in the graph).
   * @default {"nhwc"}
   */
  inputLayout?: "nhwc" | "nchw";
  /**
   * Batch dimension of the input: a fixed size, or `"dynamic"` for a symbolic `batch`.
   * @default {"dynamic"}
   */
  batch?: number | "dynamic";
  /**
   * What the graph returns with the top: `"probabilities"` (softmax) or `"logits"`
   * (`conv_preds` output). A headless architecture always returns `"features"`.
   * @default {"probabilities"}
   */
  output?: "probabilities" | "logits";
}

/** Keras name of a step's kernel tensor. */
function kernelName(step: ConvStep): string {
  return `${step.name}/${step.kind === "depthwise_conv2d" ? "depthwise_kernel" : "kernel"}`;
}

/**
 * Reorders a Keras kernel `[kh, kw, inPerGroup, out]` (a depthwise `[kh, kw, in, mult]` is
 * `[kh, kw, 1, in * mult]`) into ONNX Conv's `[out, inPerGroup, kh, kw]`.
 */
export function kerasToOnnxKernel(
  kernel: Float32Array,
  kh: number,
  kw: number,
  inPerGroup: number,
  out: number,
): Float32Array {
  if (kernel.length !== kh * kw * inPerGroup * out) {
    throw new RangeError(
      `kernel of ${kernel.length} values is not [${kh}, ${kw}, ${inPerGroup}, ${out}]`,
    );
  }
  const result = new Float32Array(kernel.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let i = 0; i < inPerGroup; i++) {
        const from = ((y * kw + x) * inPerGroup + i) * out;
        for (let o = 0; o < out; o++) {
          result[((o * inPerGroup + i) * kh + y) * kw + x] = kernel[from + o];
        }
      }
    }
  }
  return result;
}

/**
 * TensorFlow's "same" padding of one spatial axis as `[begin, end]`: the total
 * `max((ceil(size / stride) - 1) * stride + kernel - size, 0)`, the odd pixel at the end (for a
 * stride-2 3x3 on an even size: 0 before, 1 after).
 */
export function samePadding(size: number, kernel: number, stride: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  const begin = Math.floor(total / 2);
  return [begin, total - begin];
}

function takeWeight(
  weights: ReadonlyMap<string, Float32Array>,
  name: string,
  size: number,
): Float32Array {
  const data = weights.get(name);
  if (!data) throw new WeightsError("MISSING_TENSOR", `weights lack ${name}`);
  if (data.length !== size) {
    throw new WeightsError(
      "SHAPE_MISMATCH",
      `weight ${name} has ${data.length} values, the architecture needs ${size}`,
    );
  }
  return data;
}

/** The nodes and initializers of the graph being built. */
interface Graph {
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
}

/**
 * Checks the export options and fills in their defaults.
 *
 * @throws {RangeError} for an unknown layout or output, or a bad batch size.
 */
function checkExportOptions(options: OnnxExportOptions) {
  const layout = options.inputLayout ?? "nhwc";
  if (layout !== "nhwc" && layout !== "nchw") {
    throw new RangeError(`inputLayout must be "nhwc" or "nchw", got ${JSON.stringify(layout)}`);
  }
  const batch = options.batch ?? "dynamic";
  if (batch !== "dynamic" && !(Number.isInteger(batch) && batch > 0)) {
    throw new RangeError(`batch must be a positive integer or "dynamic", got ${String(batch)}`);
  }
  const output = options.output ?? "probabilities";
  if (output !== "probabilities" && output !== "logits") {
    throw new RangeError(`output must be "probabilities" or "logits", got ${String(output)}`);
  }
  return { layout, batch, output };
}

/** The NHWC -> NCHW transpose (for NHWC input) and relu6's bounds; returns the first tensor. */
function addInput(graph: Graph, layout: "nhwc" | "nchw"): string {
  graph.initializers.push(
    { name: "relu6_min", dims: [], data: new Float32Array([0]) },
    { name: "relu6_max", dims: [], data: new Float32Array([6]) },
  );
  if (layout === "nchw") return ONNX_INPUT_NAME;
  graph.nodes.push({
    opType: "Transpose",
    name: "input_nchw",
    inputs: [ONNX_INPUT_NAME],
    outputs: ["input_nchw"],
    attributes: { perm: { ints: [0, 3, 1, 2] } },
  });
  return "input_nchw";
}

/**
 * One convolution step with its BatchNorm folded into the kernel and bias, then relu6, on `x`
 * of spatial size `size`; returns the output tensor's name.
 */
function addConvStep(
  graph: Graph,
  step: ConvStep,
  x: string,
  size: number,
  weights: ReadonlyMap<string, Float32Array>,
): string {
  const k = step.kernel;
  const depthwise = step.kind === "depthwise_conv2d";
  const inPerGroup = depthwise ? 1 : step.inChannels;
  const kernel = takeWeight(weights, kernelName(step), k * k * inPerGroup * step.outChannels);
  const [gamma, beta, mean, variance] = ["gamma", "beta", "moving_mean", "moving_variance"]
    .map((kind) => takeWeight(weights, `${step.bn}/${kind}`, step.outChannels));
  const folded = foldBatchNorm(kernel, { gamma, beta, mean, variance });
  const w = `${step.name}/kernel_folded`;
  const b = `${step.name}/bias_folded`;
  graph.initializers.push(
    {
      name: w,
      dims: [step.outChannels, inPerGroup, k, k],
      data: kerasToOnnxKernel(folded.kernel, k, k, inPerGroup, step.outChannels),
    },
    { name: b, dims: [step.outChannels], data: folded.bias },
  );
  const [top, bottom] = samePadding(size, k, step.stride);
  graph.nodes.push(
    {
      opType: "Conv",
      name: step.name,
      inputs: [x, w, b],
      outputs: [`${step.name}_bn`],
      attributes: {
        kernel_shape: { ints: [k, k] },
        strides: { ints: [step.stride, step.stride] },
        pads: { ints: [top, top, bottom, bottom] },
        dilations: { ints: [1, 1] },
        group: { int: depthwise ? step.inChannels : 1 },
      },
    },
    {
      opType: "Clip",
      name: `${step.name}_relu`,
      inputs: [`${step.name}_bn`, "relu6_min", "relu6_max"],
      outputs: [`${step.name}_relu`],
    },
  );
  return `${step.name}_relu`;
}

/**
 * Global pooling and flatten, then with the top `conv_preds` as a Gemm and (for probabilities)
 * the softmax; returns the graph output.
 */
function addHead(
  graph: Graph,
  arch: Architecture,
  x: string,
  weights: ReadonlyMap<string, Float32Array>,
  output: "probabilities" | "logits",
  n: number | string,
): OnnxValueInfo {
  const { includeTop, classes, pooling } = arch.config;
  const features = arch.featureSize;
  const maxPool = !includeTop && pooling === "max";
  graph.nodes.push(
    {
      opType: maxPool ? "GlobalMaxPool" : "GlobalAveragePool",
      name: maxPool ? "global_max_pooling2d" : "global_average_pooling2d",
      inputs: [x],
      outputs: ["pooled"],
    },
    {
      opType: "Flatten",
      name: "flatten",
      inputs: ["pooled"],
      outputs: [includeTop ? "pooled_flat" : "features"],
      attributes: { axis: { int: 1 } },
    },
  );
  if (!includeTop) return { name: "features", elemType: OnnxDataType.FLOAT, shape: [n, features] };
  // Keras' conv_preds kernel [1, 1, features, classes] is Gemm's B as it is.
  const kernel = takeWeight(weights, "conv_preds/kernel", features * classes);
  const bias = takeWeight(weights, "conv_preds/bias", classes);
  graph.initializers.push(
    { name: "conv_preds/kernel", dims: [features, classes], data: kernel },
    { name: "conv_preds/bias", dims: [classes], data: bias },
  );
  graph.nodes.push({
    opType: "Gemm",
    name: "conv_preds",
    inputs: ["pooled_flat", "conv_preds/kernel", "conv_preds/bias"],
    outputs: ["logits"],
  });
  if (output === "probabilities") {
    graph.nodes.push({
      opType: "Softmax",
      name: "act_softmax",
      inputs: ["logits"],
      outputs: ["probabilities"],
      attributes: { axis: { int: 1 } },
    });
  }
  return { name: output, elemType: OnnxDataType.FLOAT, shape: [n, classes] };
}

/**
 * Builds the ONNX model of `arch` with `weights` (Keras names to float32 values, as
 * `loadWeights(...).tensors` or `randomWeights(...)` give) and returns its bytes.
 *
 * The graph input is {@linkcode ONNX_INPUT_NAME} (float32, NHWC `[n, r, r, 3]` in [-1, 1] by
 * default); the output is `probabilities` `[n, classes]` (or `logits`, or `features`
 * `[n, featureSize]` for a headless architecture).
 *
 * @throws {WeightsError} `MISSING_TENSOR` or `SHAPE_MISMATCH` when the weights do not fit.
 * @throws {RangeError} for a bad option.
 *
 * @example Export the bundled 0.25/224 model
 * ```ts
 * import { buildArchitecture } from "../../src/model/architecture.ts";
 * import { loadWeights } from "../../src/weights/loader.ts";
 * import { exportOnnx } from "./onnx.ts";
 * const { tensors } = await loadWeights("weights/mobilenet_v1_0.25_224");
 * const bytes = exportOnnx(buildArchitecture({ alpha: 0.25 }), tensors);
 * await Deno.writeFile("mobilenet_v1_0.25_224.onnx", bytes);
 * ```
 */
export function exportOnnx(
  arch: Architecture,
  weights: ReadonlyMap<string, Float32Array>,
  options: OnnxExportOptions = {},
): Uint8Array {
  const { layout, batch, output } = checkExportOptions(options);
  const { resolution, includeTop, classes, pooling, alpha, depthMultiplier } = arch.config;
  const n = batch === "dynamic" ? "batch" : batch;
  const graph: Graph = { nodes: [], initializers: [] };
  let x = addInput(graph, layout);
  let size = resolution;
  for (const step of arch.steps) {
    x = addConvStep(graph, step, x, size, weights);
    size = Math.ceil(size / step.stride);
  }
  const out = addHead(graph, arch, x, weights, output, n);
  return encodeOnnxModel({
    irVersion: ONNX_IR_VERSION,
    opset: ONNX_OPSET,
    producerName: "mobilenet-edge",
    producerVersion: "0.1.0",
    graphName: `mobilenet_v1_${alpha}_${resolution}`,
    docString: `MobileNet v1 alpha=${alpha} depth_multiplier=${depthMultiplier} ` +
      `resolution=${resolution} ${
        includeTop ? `classes=${classes}` : `headless (${pooling} pooling)`
      }; BatchNorm folded; input ${layout.toUpperCase()} float32 in [-1, 1]`,
    nodes: graph.nodes,
    initializers: graph.initializers,
    inputs: [{
      name: ONNX_INPUT_NAME,
      elemType: OnnxDataType.FLOAT,
      shape: layout === "nhwc" ? [n, resolution, resolution, 3] : [n, 3, resolution, resolution],
    }],
    outputs: [out],
  });
}
