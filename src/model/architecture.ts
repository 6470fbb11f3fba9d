/**
 * The MobileNet v1 architecture as a pure specification: from the options (width multiplier
 * alpha, depth multiplier, resolution, classes, top or headless) to the list of layers with their
 * Keras names, output shapes, weight shapes, parameter counts and multiply-adds. It knows no
 * tensors and imports no backend, so every count here is testable on its own.
 *
 * The layer sequence follows Keras' `MobileNet` (and the project's seed): a 3x3/2 convolution,
 * thirteen depthwise-separable blocks, global pooling and a 1x1 convolution `conv_preds`.
 *
 * @module
 */

/** Options that define a MobileNet v1 network. */
export interface ArchitectureOptions {
  /**
   * Width multiplier: every layer's filter count is `floor(filters * alpha)`, as in Keras.
   * Any positive number; the published ImageNet weights exist for 0.25, 0.5, 0.75 and 1.0.
   * @default {1}
   */
  alpha?: number;
  /**
   * Depth multiplier of the depthwise convolutions (output channels per input channel).
   * @default {1}
   */
  depthMultiplier?: number;
  /**
   * Input height and width in pixels. With the top, one of 128, 160, 192, 224; without the top,
   * any size from 32 up.
   * @default {224}
   */
  resolution?: number;
  /**
   * Number of output classes of the top.
   * @default {1000}
   */
  classes?: number;
  /**
   * Whether the network ends in the `conv_preds` classifier and softmax. Without it the network
   * ends in global pooling and returns the embedding.
   * @default {true}
   */
  includeTop?: boolean;
  /**
   * Global pooling of the headless network: "avg" or "max". The top always uses "avg".
   * @default {"avg"}
   */
  pooling?: "avg" | "max";
}

/** Fully resolved architecture options, every field present. */
export type ArchitectureConfig = Required<ArchitectureOptions>;

/** The resolutions the published MobileNet v1 ImageNet weights were trained at. */
export const STANDARD_RESOLUTIONS: readonly number[] = [128, 160, 192, 224];

/** Keras' BatchNormalization epsilon in MobileNet. */
export const BATCH_NORM_EPSILON = 0.001;

/** Smallest input side Keras accepts for MobileNet. */
export const MIN_RESOLUTION = 32;

/** Pointwise widths (before alpha) and strides of the 13 depthwise-separable blocks. */
export const BLOCKS: readonly { filters: number; stride: number }[] = [
  { filters: 64, stride: 1 },
  { filters: 128, stride: 2 },
  { filters: 128, stride: 1 },
  { filters: 256, stride: 2 },
  { filters: 256, stride: 1 },
  { filters: 512, stride: 2 },
  { filters: 512, stride: 1 },
  { filters: 512, stride: 1 },
  { filters: 512, stride: 1 },
  { filters: 512, stride: 1 },
  { filters: 512, stride: 1 },
  { filters: 1024, stride: 2 },
  { filters: 1024, stride: 1 },
];

/** Filters of the first, full convolution (before alpha). */
export const STEM_FILTERS = 32;

/** The kind of computation a layer does. */
export type LayerKind =
  | "input"
  | "conv2d"
  | "depthwise_conv2d"
  | "batch_norm"
  | "relu6"
  | "global_pool"
  | "reshape"
  | "dropout"
  | "softmax";

/** One weight tensor of a layer, by its Keras name (e.g. `conv1/kernel`). */
export interface WeightSpec {
  /** Keras weight name, `layer/kind`, e.g. `conv_dw_1/depthwise_kernel`, `conv1_bn/gamma`. */
  name: string;
  /** Shape in Keras order: conv `[kh, kw, in, out]`, depthwise `[kh, kw, in, multiplier]`. */
  shape: number[];
  /** Whether training updates it (BatchNorm's moving statistics are not trainable). */
  trainable: boolean;
}

/** One layer of the network, as Keras' `model.summary()` would list it. */
export interface LayerSpec {
  /** Keras layer name: `conv1`, `conv1_bn`, `conv_dw_1`, `conv_pw_1_relu`, `conv_preds`, ... */
  name: string;
  /** What the layer computes. */
  kind: LayerKind;
  /** Output shape without the batch dimension, e.g. `[112, 112, 32]` or `[1000]`. */
  outputShape: number[];
  /** The layer's weights (empty for parameter-free layers). */
  weights: WeightSpec[];
  /** Parameter count as Keras reports it (BatchNorm counts all four vectors). */
  params: number;
  /** Multiply-adds per image (convolutions and the classifier only, as in the paper). */
  macs: number;
  /** Convolution stride, for convolutions. */
  stride?: number;
  /** Kernel size, for convolutions. */
  kernel?: number;
}

/** One fused step of the network as the runner executes it: convolution + BatchNorm + relu6. */
export interface ConvStep {
  /** Keras name of the convolution layer (`conv1`, `conv_dw_3`, `conv_pw_3`). */
  name: string;
  /** Keras name of the BatchNorm layer that follows (`conv1_bn`, ...). */
  bn: string;
  /** Full convolution or depthwise convolution. */
  kind: "conv2d" | "depthwise_conv2d";
  /** Kernel size (3 or 1). */
  kernel: number;
  /** Stride (1 or 2). */
  stride: number;
  /** Input channels. */
  inChannels: number;
  /** Output channels. */
  outChannels: number;
}

/** The complete specification of one MobileNet v1 configuration. */
export interface Architecture {
  /** The resolved options. */
  config: ArchitectureConfig;
  /** Keras-style layer list, input first. */
  layers: LayerSpec[];
  /** The convolution steps the runner fuses with BatchNorm and relu6, in order. */
  steps: ConvStep[];
  /** Channels of the pooled feature vector (`floor(1024 * alpha)`). */
  featureSize: number;
  /** Every weight tensor, in network order. */
  weights: WeightSpec[];
  /** Total parameters as Keras counts them. */
  totalParams: number;
  /** Trainable parameters (total minus BatchNorm moving statistics). */
  trainableParams: number;
  /** Total multiply-adds per image. */
  totalMacs: number;
}

/** Parameters of a plain `k x k` convolution without bias: `k * k * in * out`. */
export function convParams(kernel: number, inChannels: number, outChannels: number): number {
  return kernel * kernel * inChannels * outChannels;
}

/** Parameters of a `k x k` depthwise convolution without bias: `k * k * in * multiplier`. */
export function depthwiseParams(kernel: number, inChannels: number, multiplier = 1): number {
  return kernel * kernel * inChannels * multiplier;
}

/**
 * Weights of a depthwise-separable `k x k` layer (no bias, no BatchNorm): the depthwise kernels
 * plus the 1x1 pointwise convolution. For 16 -> 32 channels and k = 3: 16*9 + 16*32 = 656,
 * against {@linkcode convParams}(3, 16, 32) = 4,608 for a plain convolution.
 */
export function separableParams(
  kernel: number,
  inChannels: number,
  outChannels: number,
  multiplier = 1,
): number {
  return depthwiseParams(kernel, inChannels, multiplier) +
    convParams(1, inChannels * multiplier, outChannels);
}

/** Output side of a "same"-padded convolution: `ceil(size / stride)`. */
export function sameOutputSize(size: number, stride: number): number {
  return Math.ceil(size / stride);
}

function checkPositive(name: string, value: number, integer: boolean): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive number, got ${String(value)}`);
  }
  if (integer && !Number.isInteger(value)) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
}

/**
 * Resolves and validates architecture options, filling in Keras' defaults.
 *
 * @throws {RangeError} when a value is out of range (alpha <= 0, resolution < 32, a non-standard
 * resolution with the top, a pooling other than "avg"/"max", ...).
 */
export function resolveConfig(options: ArchitectureOptions = {}): ArchitectureConfig {
  const config: ArchitectureConfig = {
    alpha: options.alpha ?? 1,
    depthMultiplier: options.depthMultiplier ?? 1,
    resolution: options.resolution ?? 224,
    classes: options.classes ?? 1000,
    includeTop: options.includeTop ?? true,
    pooling: options.pooling ?? "avg",
  };
  checkPositive("alpha", config.alpha, false);
  checkPositive("depthMultiplier", config.depthMultiplier, true);
  checkPositive("resolution", config.resolution, true);
  checkPositive("classes", config.classes, true);
  if (Math.floor(STEM_FILTERS * config.alpha) < 1) {
    throw new RangeError(
      `alpha ${config.alpha} is too small: the first layer would have no filters (need alpha >= ${
        1 / STEM_FILTERS
      })`,
    );
  }
  if (config.resolution < MIN_RESOLUTION) {
    throw new RangeError(
      `resolution must be at least ${MIN_RESOLUTION}, got ${config.resolution}`,
    );
  }
  if (config.includeTop && !STANDARD_RESOLUTIONS.includes(config.resolution)) {
    throw new RangeError(
      `with the top, resolution must be one of ${
        STANDARD_RESOLUTIONS.join(", ")
      }, got ${config.resolution} (set includeTop: false for other sizes)`,
    );
  }
  if (config.pooling !== "avg" && config.pooling !== "max") {
    throw new RangeError(`pooling must be "avg" or "max", got ${JSON.stringify(config.pooling)}`);
  }
  return config;
}

function batchNormLayer(name: string, shape: number[]): LayerSpec {
  const channels = shape[shape.length - 1];
  const weights = ["gamma", "beta", "moving_mean", "moving_variance"].map((kind) => ({
    name: `${name}/${kind}`,
    shape: [channels],
    trainable: kind === "gamma" || kind === "beta",
  }));
  return { name, kind: "batch_norm", outputShape: shape, weights, params: 4 * channels, macs: 0 };
}

function convLayers(step: ConvStep, inSize: number): { layers: LayerSpec[]; outSize: number } {
  const outSize = sameOutputSize(inSize, step.stride);
  const shape = [outSize, outSize, step.outChannels];
  const depthwise = step.kind === "depthwise_conv2d";
  const multiplier = step.outChannels / step.inChannels;
  const kernelShape = depthwise
    ? [step.kernel, step.kernel, step.inChannels, multiplier]
    : [step.kernel, step.kernel, step.inChannels, step.outChannels];
  const params = depthwise
    ? depthwiseParams(step.kernel, step.inChannels, multiplier)
    : convParams(step.kernel, step.inChannels, step.outChannels);
  const conv: LayerSpec = {
    name: step.name,
    kind: step.kind,
    outputShape: shape,
    weights: [{
      name: `${step.name}/${depthwise ? "depthwise_kernel" : "kernel"}`,
      shape: kernelShape,
      trainable: true,
    }],
    params,
    macs: params * outSize * outSize,
    stride: step.stride,
    kernel: step.kernel,
  };
  const relu: LayerSpec = {
    name: `${step.name}_relu`,
    kind: "relu6",
    outputShape: shape,
    weights: [],
    params: 0,
    macs: 0,
  };
  return { layers: [conv, batchNormLayer(step.bn, shape), relu], outSize };
}

/** The convolution steps of a configuration, without shapes: the stem and 13 blocks. */
export function convSteps(config: ArchitectureConfig): ConvStep[] {
  const stem = Math.floor(STEM_FILTERS * config.alpha);
  const steps: ConvStep[] = [{
    name: "conv1",
    bn: "conv1_bn",
    kind: "conv2d",
    kernel: 3,
    stride: 2,
    inChannels: 3,
    outChannels: stem,
  }];
  let channels = stem;
  BLOCKS.forEach((block, i) => {
    const id = i + 1;
    const dwOut = channels * config.depthMultiplier;
    const pwOut = Math.floor(block.filters * config.alpha);
    steps.push({
      name: `conv_dw_${id}`,
      bn: `conv_dw_${id}_bn`,
      kind: "depthwise_conv2d",
      kernel: 3,
      stride: block.stride,
      inChannels: channels,
      outChannels: dwOut,
    });
    steps.push({
      name: `conv_pw_${id}`,
      bn: `conv_pw_${id}_bn`,
      kind: "conv2d",
      kernel: 1,
      stride: 1,
      inChannels: dwOut,
      outChannels: pwOut,
    });
    channels = pwOut;
  });
  return steps;
}

/** A layer without weights or multiply-adds (input, pooling, reshape, dropout, softmax). */
function weightless(name: string, kind: LayerKind, outputShape: number[]): LayerSpec {
  return { name, kind, outputShape, weights: [], params: 0, macs: 0 };
}

/** Keras' classification top: pooling, reshape, dropout, the 1x1 `conv_preds`, softmax. */
function topLayers(featureSize: number, classes: number): LayerSpec[] {
  return [
    weightless("global_average_pooling2d_1", "global_pool", [featureSize]),
    weightless("reshape_1", "reshape", [1, 1, featureSize]),
    weightless("dropout", "dropout", [1, 1, featureSize]),
    {
      name: "conv_preds",
      kind: "conv2d",
      outputShape: [1, 1, classes],
      weights: [
        { name: "conv_preds/kernel", shape: [1, 1, featureSize, classes], trainable: true },
        { name: "conv_preds/bias", shape: [classes], trainable: true },
      ],
      params: featureSize * classes + classes,
      macs: featureSize * classes,
      stride: 1,
      kernel: 1,
    },
    weightless("act_softmax", "softmax", [1, 1, classes]),
    weightless("reshape_2", "reshape", [classes]),
  ];
}

/**
 * Builds the full specification of a MobileNet v1 configuration.
 *
 * @example Keras' counts for MobileNet 1.0/224
 * ```ts
 * import { buildArchitecture } from "./architecture.ts";
 * const arch = buildArchitecture({ alpha: 1, resolution: 224 });
 * console.log(arch.totalParams); // 4253864
 * console.log((arch.totalMacs / 1e6).toFixed(1)); // "568.7"
 * ```
 */
export function buildArchitecture(options: ArchitectureOptions = {}): Architecture {
  const config = resolveConfig(options);
  const steps = convSteps(config);
  const layers: LayerSpec[] = [
    weightless("input_1", "input", [config.resolution, config.resolution, 3]),
  ];
  let size = config.resolution;
  for (const step of steps) {
    const built = convLayers(step, size);
    layers.push(...built.layers);
    size = built.outSize;
  }
  const featureSize = steps[steps.length - 1].outChannels;
  if (config.includeTop) {
    layers.push(...topLayers(featureSize, config.classes));
  } else {
    const name = config.pooling === "avg" ? "global_average_pooling2d" : "global_max_pooling2d";
    layers.push(weightless(name, "global_pool", [featureSize]));
  }
  const weights = layers.flatMap((layer) => layer.weights);
  const totalParams = layers.reduce((sum, layer) => sum + layer.params, 0);
  const frozen = weights.filter((w) => !w.trainable).reduce((sum, w) => sum + w.shape[0], 0);
  return {
    config,
    layers,
    steps,
    featureSize,
    weights,
    totalParams,
    trainableParams: totalParams - frozen,
    totalMacs: layers.reduce((sum, layer) => sum + layer.macs, 0),
  };
}

/**
 * Formats an architecture as a table like Keras' `model.summary()`, with multiply-adds.
 */
export function formatSummary(arch: Architecture): string {
  const rows = arch.layers.map((layer) => [
    `${layer.name} (${layer.kind})`,
    `(${["None", ...layer.outputShape].join(", ")})`,
    layer.params.toLocaleString("en-US"),
    layer.macs ? layer.macs.toLocaleString("en-US") : "0",
  ]);
  const header = ["Layer (type)", "Output Shape", "Param #", "Mult-Adds"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  const { alpha, depthMultiplier, resolution, classes, includeTop } = arch.config;
  const rule = "=".repeat(widths.reduce((a, b) => a + b + 2, -2));
  return [
    `MobileNet v1 alpha=${alpha} depth_multiplier=${depthMultiplier} resolution=${resolution}` +
    (includeTop ? ` classes=${classes}` : ` headless (${arch.config.pooling} pooling)`),
    rule,
    line(header),
    rule,
    ...rows.map(line),
    rule,
    `Total params: ${arch.totalParams.toLocaleString("en-US")}`,
    `Trainable params: ${arch.trainableParams.toLocaleString("en-US")}`,
    `Non-trainable params: ${(arch.totalParams - arch.trainableParams).toLocaleString("en-US")}`,
    `Multiply-adds: ${arch.totalMacs.toLocaleString("en-US")} (${
      (arch.totalMacs / 1e6).toFixed(1)
    }M)`,
  ].join("\n");
}
