/**
 * Runs a MobileNet v1 {@linkcode Architecture} on tfjs-core ops. Weights arrive by Keras name,
 * all at once or one by one as they stream in; as soon as a layer's convolution kernel and its
 * BatchNorm vectors are all present they are folded (conv + BN -> conv + bias) and uploaded to
 * the backend, so each step runs as one fused convolution + bias + relu6 kernel. The unfolded
 * path (conv, then BatchNorm, then relu6, as Keras computes it) stays available with
 * `fused: false` for testing equivalence.
 *
 * @module
 */
import * as tf from "../vendor/tfjs.js";
import type { NamedAttrMap } from "npm:@tensorflow/tfjs-core@4.22.0";
import {
  type Architecture,
  BATCH_NORM_EPSILON,
  type ConvStep,
  type WeightSpec,
} from "./architecture.ts";
import { foldBatchNorm, foldScale } from "./batch_norm.ts";
import { panelOrder } from "./panels.ts";
import { WeightsError } from "../errors.ts";
import { isInt8Scale, sizeOf } from "../_util.ts";

/** What a forward pass returns: class probabilities, pre-softmax logits, or pooled features. */
export type NetworkOutput = "probabilities" | "logits" | "features";

/** How the int8 layers run (see {@linkcode int8Layers}). */
export interface Int8Options {
  /** The name of the backend's int8 kernel (inputs `x`, `filter`, `bias`; attrs `scale`, `activation`). */
  kernel: string;
  /**
   * The input scale of each int8 layer, by Keras layer name (see `isInt8Scale`). A layer of
   * {@linkcode int8Layers} without one runs float32 (a calibration may leave sensitive layers
   * out).
   */
  scales: Readonly<Record<string, number>>;
  /**
   * The mean of each input channel of each int8 layer, by Keras layer name (measured at
   * calibration): the kernel corrects the layer's bias for the mean error of its quantized
   * weights. A layer without means gets no correction.
   */
  means?: Readonly<Record<string, ArrayLike<number>>>;
  /**
   * The largest quantized input of each int8 layer, by Keras layer name: 127 (7 bits, the
   * default) or 254 (8 bits, split into two 7-bit bytes: two integer dot products where one is
   * used, for the layers 7 bits hurt). A layer with 254 quantizes with half its scale's step
   * (`x ~ q * scale / 2`, q in 0..254): the same range, twice as finely.
   */
  levels?: Readonly<Record<string, number>>;
}

/** Options of {@linkcode MobileNetNetwork}. */
export interface NetworkOptions {
  /**
   * Fold BatchNorm into the convolutions and run fused conv + bias + relu6 kernels. With
   * `false`, convolution, BatchNorm and relu6 run as separate ops, as Keras computes them.
   * @default {true}
   */
  fused?: boolean;
  /**
   * Run the 1x1 convolutions and the classifier (those with a scale) in int8 (needs `fused`);
   * absent: float32.
   */
  int8?: Int8Options;
  /**
   * Upload the float32 1x1 filters and the classifier's matrix in the backend's panel order and
   * hand them to its kernels as their packed copies (the backend's `FilterPacking`; needs
   * `fused`). Absent: row-major uploads, packed by the kernels on first use.
   */
  packing?: FilterPacking;
  /**
   * The backend's kernel for a depthwise 3x3 and the 1x1 convolution after it as one call
   * (see `SEPARABLE_KERNEL` in `src/backend/pointwise/kernel.ts`): a float32 block runs through
   * it while it is registered (needs `fused`). Absent: two calls per block.
   */
  separable?: string;
  /**
   * The backend's kernel for the global average pooling, the classifier's product and its
   * softmax as one call (see `HEAD_KERNEL` in `src/backend/pointwise/kernel.ts`): a float32 top
   * runs through it while it is registered (needs `fused`). Absent: `tf.mean`,
   * `tf.fused.matMul` and `tf.softmax`.
   */
  head?: string;
}

/** How the backend takes filters uploaded in its panel order (see `src/model/panels.ts`). */
export interface FilterPacking {
  /** Columns per panel. */
  readonly panel: number;
  /** Hands the uploaded `[k, n]` filter `dataId` to the kernels as their panels. */
  adopt(dataId: object, k: number, n: number): void;
}

/**
 * The input scale of an int8 layer that has no calibrated one: ReLU6's whole range [0, 6] onto
 * 0..127.
 */
export const RELU6_SCALE = 6 / 127;

/**
 * Input channels of an int8 layer (see {@linkcode int8Layers}).
 *
 * @throws {RangeError} for a name that is not one.
 */
export function inputChannels(architecture: Architecture, layer: string): number {
  if (layer === "conv_preds" && architecture.config.includeTop) return architecture.featureSize;
  const step = architecture.steps.find((s) => s.name === layer);
  if (!step || step.kind !== "conv2d" || step.kernel !== 1) {
    throw new RangeError(`${layer} is not an int8 layer of this network`);
  }
  return step.inChannels;
}

/**
 * The layers that run in int8 with {@linkcode NetworkOptions.int8}, in network order: every 1x1
 * convolution (`conv_pw_1` ... `conv_pw_13`) and, with a top, the classifier (`conv_preds`). Each
 * one's input is a ReLU6 output (average-pooled for the classifier), never negative.
 */
export function int8Layers(architecture: Architecture): string[] {
  const names = architecture.steps.filter((s) => s.kind === "conv2d" && s.kernel === 1).map((s) =>
    s.name
  );
  return architecture.config.includeTop ? [...names, "conv_preds"] : names;
}

interface StepTensors {
  filter: tf.Tensor4D;
  bias?: tf.Tensor1D;
  bn?: { mean: tf.Tensor1D; variance: tf.Tensor1D; gamma: tf.Tensor1D; beta: tf.Tensor1D };
}

interface TopTensors {
  kernel: tf.Tensor2D;
  bias: tf.Tensor1D;
}

const BN_KINDS = ["gamma", "beta", "moving_mean", "moving_variance"] as const;

function kernelName(step: ConvStep): string {
  return `${step.name}/${step.kind === "depthwise_conv2d" ? "depthwise_kernel" : "kernel"}`;
}

/**
 * A MobileNet v1 network on the current tfjs backend. Create it, feed it weights with
 * {@linkcode MobileNetNetwork.addWeight}, then run batches with
 * {@linkcode MobileNetNetwork.run} (all weights present) or
 * {@linkcode MobileNetNetwork.runStreaming} (waits for each layer's weights as it reaches it).
 */
export class MobileNetNetwork {
  /** The architecture this network runs. */
  readonly architecture: Architecture;
  /** Whether BatchNorm is folded into fused kernels. */
  readonly fused: boolean;
  /** What the 1x1 convolutions and the classifier compute in. */
  readonly precision: "float32" | "int8";
  readonly #int8: Int8Options | undefined;
  readonly #packing: FilterPacking | undefined;
  readonly #separable: string | undefined;
  readonly #headKernel: string | undefined;
  readonly #means = new Map<string, tf.Tensor1D>();
  readonly #specs: Map<string, WeightSpec>;
  readonly #raw = new Map<string, Float32Array>();
  readonly #steps: (StepTensors | undefined)[];
  #top: TopTensors | undefined;
  readonly #waiters = new Map<number, (() => void)[]>();
  #failure: Error | undefined;
  #disposed = false;
  /** Where kernels are folded before their upload (the largest so far; freed once complete). */
  #scratch = new Float32Array(0);

  /**
   * Creates an empty network for `architecture`; no weight tensor exists until weights arrive
   * (only the int8 means, when given).
   *
   * @throws {RangeError} for `int8` without `fused`, with an invalid scale or levels, or with
   * means that do not fit their layer.
   */
  constructor(architecture: Architecture, options: NetworkOptions = {}) {
    this.architecture = architecture;
    this.fused = options.fused ?? true;
    if (options.int8) {
      if (!this.fused) throw new RangeError("int8 runs the fused network only (fused: true)");
      for (const layer of int8Layers(architecture)) {
        const scale = options.int8.scales[layer];
        if (scale !== undefined && !isInt8Scale(scale)) {
          throw new RangeError(`int8 scale of ${layer} must be a positive number, got ${scale}`);
        }
      }
      for (const [layer, levels] of Object.entries(options.int8.levels ?? {})) {
        inputChannels(architecture, layer); // an int8 layer
        if (levels !== 127 && levels !== 254) {
          throw new RangeError(`int8 levels of ${layer} must be 127 or 254, got ${levels}`);
        }
      }
    }
    this.#int8 = options.int8;
    this.#packing = this.fused ? options.packing : undefined;
    this.#separable = this.fused ? options.separable : undefined;
    this.#headKernel = this.fused ? options.head : undefined;
    const int8 = int8Layers(architecture).some((l) => options.int8?.scales[l] !== undefined);
    this.precision = int8 ? "int8" : "float32";
    for (const [layer, means] of Object.entries(options.int8?.means ?? {})) {
      const channels = inputChannels(architecture, layer);
      if (means.length !== channels || !Array.from(means).every(Number.isFinite)) {
        this.#means.forEach((t) => t.dispose());
        throw new RangeError(`int8 means of ${layer} must be ${channels} finite numbers`);
      }
      this.#means.set(layer, tf.tensor1d(Array.from(means)));
    }
    this.#specs = new Map(architecture.weights.map((w) => [w.name, w]));
    this.#steps = architecture.steps.map(() => undefined);
  }

  /** Whether every layer has its weights on the backend. */
  get isComplete(): boolean {
    return this.#steps.every((s) => s !== undefined) &&
      (!this.architecture.config.includeTop || this.#top !== undefined);
  }

  /** Names of the weights that have not arrived yet, network order. */
  missingWeights(): string[] {
    const present = new Set<string>(this.#raw.keys());
    this.architecture.steps.forEach((step, i) => {
      if (this.#steps[i]) {
        present.add(kernelName(step));
        for (const kind of BN_KINDS) present.add(`${step.bn}/${kind}`);
      }
    });
    if (this.#top) ["conv_preds/kernel", "conv_preds/bias"].forEach((n) => present.add(n));
    return [...this.#specs.keys()].filter((name) => !present.has(name));
  }

  /**
   * Hands one weight tensor (Keras name, float32 values) to the network. Tensors the
   * architecture does not use (for example `conv_preds` for a headless network) are ignored.
   *
   * @throws {WeightsError} `SHAPE_MISMATCH` when the values do not fit the layer.
   */
  addWeight(name: string, data: Float32Array): void {
    if (this.#disposed) throw this.#failure ?? new Error("the network has been disposed");
    const spec = this.#specs.get(name);
    if (!spec) return;
    const size = sizeOf(spec.shape);
    if (data.length !== size) {
      throw new WeightsError(
        "SHAPE_MISMATCH",
        `weight ${name} has ${data.length} values, but MobileNet alpha=${this.architecture.config.alpha} needs [${spec.shape}] = ${size}`,
      );
    }
    this.#raw.set(name, data);
    this.#upload();
  }

  /**
   * Throws unless every weight has arrived.
   *
   * @throws {WeightsError} `MISSING_TENSOR` naming `source` and the first missing weights.
   */
  checkComplete(source: string): void {
    if (this.isComplete) return;
    const missing = this.missingWeights();
    throw new WeightsError(
      "MISSING_TENSOR",
      `${source} lacks ${missing.length} weights: ${missing.slice(0, 5).join(", ")}${
        missing.length > 5 ? ", ..." : ""
      }`,
    );
  }

  /**
   * Marks the network as failed (for example when a weights stream broke): every pending and
   * later {@linkcode MobileNetNetwork.runStreaming} rejects with `error`.
   */
  fail(error: Error): void {
    this.#failure = error;
    for (const resolvers of this.#waiters.values()) resolvers.forEach((r) => r());
    this.#waiters.clear();
  }

  #upload(): void {
    const steps = this.architecture.steps;
    for (let i = 0; i < steps.length; i++) {
      if (this.#steps[i]) continue;
      const step = steps[i];
      const names = [kernelName(step), ...BN_KINDS.map((k) => `${step.bn}/${k}`)];
      if (!names.every((n) => this.#raw.has(n))) continue;
      const [kernel, gamma, beta, mean, variance] = names.map((n) => this.#raw.get(n)!);
      const shape = this.#specs.get(names[0])!.shape as [number, number, number, number];
      if (this.fused) {
        // tfjs copies the values into the backend at once: one scratch array, of the largest
        // kernel's size from the start, serves every layer, so a load touches no fresh memory
        // for the folded kernels but that array (growing it layer by layer touched twice that).
        if (this.#scratch.length < kernel.length) this.#scratch = new Float32Array(this.#largest());
        this.#steps[i] = this.#foldedStep(step, shape, kernel, { gamma, beta, mean, variance });
      } else {
        this.#steps[i] = {
          filter: tf.tensor4d(kernel, shape),
          bn: {
            gamma: tf.tensor1d(gamma),
            beta: tf.tensor1d(beta),
            mean: tf.tensor1d(mean),
            variance: tf.tensor1d(variance),
          },
        };
      }
      names.forEach((n) => this.#raw.delete(n));
      this.#wake(i);
    }
    const { includeTop, classes } = this.architecture.config;
    if (includeTop && !this.#top) {
      const kernel = this.#raw.get("conv_preds/kernel");
      const bias = this.#raw.get("conv_preds/bias");
      if (kernel && bias) {
        const k = this.architecture.featureSize;
        const packed = this.#packable("conv_preds", classes);
        if (packed && this.#scratch.length < kernel.length) {
          this.#scratch = new Float32Array(this.#largest());
        }
        const values = packed
          ? panelOrder(kernel, k, classes, packed.panel, this.#scratch)
          : kernel;
        const matrix = tf.tensor2d(values, [k, classes]);
        packed?.adopt(matrix.dataId, k, classes);
        this.#top = { kernel: matrix, bias: tf.tensor1d(bias) };
        this.#raw.delete("conv_preds/kernel");
        this.#raw.delete("conv_preds/bias");
        this.#wake(steps.length);
      }
    }
    if (this.isComplete) this.#scratch = new Float32Array(0);
  }

  /**
   * The folded filter and bias of a convolution step: in panel order and adopted by the
   * backend's kernels for a 1x1 convolution that runs float32 (see {@linkcode #packable}),
   * row-major otherwise. The values go through `#scratch`.
   */
  #foldedStep(
    step: ConvStep,
    shape: [number, number, number, number],
    kernel: Float32Array,
    bn: { gamma: Float32Array; beta: Float32Array; mean: Float32Array; variance: Float32Array },
  ): StepTensors {
    const [kh, kw, k, n] = shape;
    const packed = step.kind === "conv2d" && kh === 1 && kw === 1
      ? this.#packable(step.name, n)
      : undefined;
    if (!packed) {
      const folded = foldBatchNorm(kernel, bn, undefined, this.#scratch);
      return { filter: tf.tensor4d(folded.kernel, shape), bias: tf.tensor1d(folded.bias) };
    }
    const { scale, bias } = foldScale(bn);
    const filter = tf.tensor4d(panelOrder(kernel, k, n, packed.panel, this.#scratch, scale), shape);
    packed.adopt(filter.dataId, k, n);
    return { filter, bias: tf.tensor1d(bias) };
  }

  /** The packing for a float32 layer of `n` outputs, when the backend takes one. */
  #packable(layer: string, n: number): FilterPacking | undefined {
    const packing = this.#packing;
    if (!packing || n % packing.panel !== 0) return undefined;
    return this.#int8?.scales[layer] === undefined ? packing : undefined;
  }

  /** Values of the largest kernel that goes through `#scratch` (the classifier's, when packed). */
  #largest(): number {
    const { includeTop, classes } = this.architecture.config;
    const top = includeTop && this.#packable("conv_preds", classes)
      ? this.architecture.featureSize * classes
      : 0;
    return Math.max(
      top,
      ...this.architecture.steps.map((step) => sizeOf(this.#specs.get(kernelName(step))!.shape)),
    );
  }

  #wake(stage: number): void {
    const resolvers = this.#waiters.get(stage);
    this.#waiters.delete(stage);
    resolvers?.forEach((r) => r());
  }

  #stageReady(stage: number): boolean {
    return stage < this.#steps.length ? this.#steps[stage] !== undefined : this.#top !== undefined;
  }

  #whenReady(stage: number): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#stageReady(stage)) return Promise.resolve();
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const list = this.#waiters.get(stage) ?? [];
    list.push(() => (this.#failure ? reject(this.#failure) : resolve()));
    this.#waiters.set(stage, list);
    return promise;
  }

  #checkInput(input: tf.Tensor): void {
    const r = this.architecture.config.resolution;
    if (input.rank !== 4 || input.shape[1] !== r || input.shape[2] !== r || input.shape[3] !== 3) {
      throw new RangeError(
        `expected an NHWC input of shape [n, ${r}, ${r}, 3], got [${input.shape}]`,
      );
    }
    if (input.dtype !== "float32") {
      throw new TypeError(`expected a float32 input, got ${input.dtype}`);
    }
  }

  /** The attributes of an int8 layer's kernel. */
  #int8Attrs(layer: string, activation: string): NamedAttrMap {
    const int8 = this.#int8!;
    const scale = int8.scales[layer];
    return int8.levels?.[layer] === 254
      ? { scale: scale / 2, activation, levels: 254 }
      : { scale, activation };
  }

  /** The `mean` input of an int8 layer's kernel, if it has means. */
  #meanOf(layer: string): { mean?: tf.Tensor1D } {
    const mean = this.#means.get(layer);
    return mean ? { mean } : {};
  }

  #checkRunnable(input: tf.Tensor4D): void {
    this.#checkInput(input);
    if (!this.isComplete) {
      const missing = this.missingWeights();
      throw new Error(
        `the network is missing ${missing.length} weights (first: ${missing[0]}); ` +
          "await the load before running",
      );
    }
  }

  #step(i: number, x: tf.Tensor4D): tf.Tensor4D {
    const step = this.architecture.steps[i];
    const t = this.#steps[i]!;
    const strides = step.stride as 1 | 2;
    const int8 = this.#int8;
    if (int8?.scales[step.name] !== undefined && t.bias) {
      const inputs = { x, filter: t.filter, bias: t.bias, ...this.#meanOf(step.name) };
      const attrs = this.#int8Attrs(step.name, "relu6");
      return tf.engine().runKernel(int8.kernel, inputs, attrs) as tf.Tensor4D;
    }
    if (t.bias) {
      // the fused kernels themselves: tf.fused.conv2d's op-level work (checks, its gradient's
      // bookkeeping) took 36 us of the first layer's 40 before it, on the inference's path
      const kernel = step.kind === "depthwise_conv2d" ? "FusedDepthwiseConv2D" : "FusedConv2D";
      const attrs = { strides, pad: "same", dataFormat: "NHWC", dilations: 1, activation: "relu6" };
      const inputs = { x, filter: t.filter, bias: t.bias };
      return tf.engine().runKernel(kernel, inputs, attrs) as tf.Tensor4D;
    }
    const conv = step.kind === "depthwise_conv2d"
      ? tf.depthwiseConv2d(x, t.filter, strides, "same")
      : tf.conv2d(x, t.filter, strides, "same");
    const { mean, variance, beta, gamma } = t.bn!;
    const normed = tf.batchNorm(conv, mean, variance, beta, gamma, BATCH_NORM_EPSILON);
    return tf.clipByValue(normed, 0, 6);
  }

  /**
   * Steps `i` (a depthwise convolution) and `i + 1` (a 1x1 convolution in float32) as one call
   * of the backend's `kernel`, or undefined when they are not such a pair.
   */
  #block(kernel: string, i: number, x: tf.Tensor4D): tf.Tensor4D | undefined {
    const [dw, pw] = [this.architecture.steps[i], this.architecture.steps[i + 1]];
    const [d, p] = [this.#steps[i], this.#steps[i + 1]];
    if (dw?.kind !== "depthwise_conv2d" || pw?.kind !== "conv2d" || pw.kernel !== 1) return;
    if (!d?.bias || !p?.bias || this.#int8?.scales[pw.name] !== undefined) return;
    const inputs = { x, dwFilter: d.filter, dwBias: d.bias, pwFilter: p.filter, pwBias: p.bias };
    const attrs = { strides: dw.stride, pad: "same", dwActivation: "relu6", activation: "relu6" };
    return tf.engine().runKernel(kernel, inputs, attrs) as tf.Tensor4D;
  }

  #head(x: tf.Tensor4D, output: NetworkOutput): tf.Tensor2D {
    const { includeTop, pooling } = this.architecture.config;
    const kernel = this.#headKernel;
    const float32Top = includeTop && this.#int8?.scales.conv_preds === undefined;
    if (output !== "features" && float32Top && kernel && tf.getKernel(kernel, tf.getBackend())) {
      const top = this.#top!;
      const inputs = { x, filter: top.kernel, bias: top.bias };
      const attrs = { softmax: output === "probabilities" };
      return tf.engine().runKernel(kernel, inputs, attrs) as tf.Tensor2D;
    }
    const pooled = includeTop || pooling === "avg" ? tf.mean(x, [1, 2]) : tf.max(x, [1, 2]);
    if (output === "features") return pooled as tf.Tensor2D;
    return this.#classifier(pooled as tf.Tensor2D, output);
  }

  /** The classifier on pooled features: logits, or their softmax. */
  #classifier(pooled: tf.Tensor2D, output: "logits" | "probabilities"): tf.Tensor2D {
    if (!this.architecture.config.includeTop) {
      throw new RangeError(`a headless network has no ${output}; ask for "features"`);
    }
    const top = this.#top!;
    let logits: tf.Tensor2D;
    if (this.#int8?.scales.conv_preds !== undefined) {
      const inputs = {
        x: pooled,
        filter: top.kernel,
        bias: top.bias,
        ...this.#meanOf("conv_preds"),
      };
      const attrs = this.#int8Attrs("conv_preds", "linear");
      logits = tf.engine().runKernel(this.#int8.kernel, inputs, attrs) as tf.Tensor2D;
    } else if (this.fused) {
      logits = tf.fused.matMul({ a: pooled, b: top.kernel, bias: top.bias }) as tf.Tensor2D;
    } else {
      const n = pooled.shape[0];
      const c = this.architecture.featureSize;
      const classes = this.architecture.config.classes;
      const filter = tf.reshape(top.kernel, [1, 1, c, classes]) as tf.Tensor4D;
      const conv = tf.conv2d(tf.reshape(pooled, [n, 1, 1, c]) as tf.Tensor4D, filter, 1, "same");
      logits = tf.reshape(tf.add(conv, top.bias), [n, classes]);
    }
    return output === "logits" ? logits : tf.softmax(logits);
  }

  /**
   * The classifier alone, on pooled `features` read back from a `"features"` run (image after
   * image, {@linkcode Architecture.featureSize} values each): the same values a run asking for
   * `output` gives, without running the convolutions again.
   *
   * @throws {RangeError} for a headless network; {@linkcode Error} while the top's weights are
   * not loaded.
   */
  classifierOn(
    features: Float32Array,
    output: "logits" | "probabilities" = "probabilities",
  ): Float32Array {
    if (this.#failure) throw this.#failure;
    if (this.architecture.config.includeTop && !this.#stageReady(this.#steps.length)) {
      throw new Error("the classifier's weights are not loaded yet");
    }
    const size = this.architecture.featureSize;
    return tf.tidy(() => {
      const pooled = tf.tensor2d(features, [features.length / size, size]);
      return this.#classifier(pooled, output).dataSync() as Float32Array;
    });
  }

  /**
   * Runs a batch through the network. `input` is NHWC float32 in [-1, 1] at the network's
   * resolution; the input tensor is not disposed.
   *
   * @throws {RangeError} for a wrong input shape, {@linkcode Error} when weights are missing.
   */
  run(input: tf.Tensor4D, output: NetworkOutput = "probabilities"): tf.Tensor2D {
    this.#checkRunnable(input);
    const separable = this.#separable && tf.getKernel(this.#separable, tf.getBackend())
      ? this.#separable
      : undefined;
    return tf.tidy(() => {
      let x = input;
      for (let i = 0; i < this.#steps.length; i++) {
        const block = separable && this.#block(separable, i, x);
        if (block) i++; // the 1x1 convolution ran with its depthwise one
        const next = block || this.#step(i, x);
        // Free each activation once the next layer has it: the peak is two layers' outputs,
        // not the sum of all of them (-22 MiB of WASM memory for 0.75/224).
        if (x !== input) x.dispose();
        x = next;
      }
      return this.#head(x, output);
    });
  }

  /**
   * Runs a batch like {@linkcode MobileNetNetwork.run} and hands `visit` the input of every layer
   * of {@linkcode int8Layers} (the values of the whole batch, NHWC or `[n, features]`), in
   * network order: what int8 calibration measures.
   *
   * @throws {RangeError} for a wrong input shape, {@linkcode Error} when weights are missing.
   */
  observeInt8Inputs(
    input: tf.Tensor4D,
    visit: (layer: string, values: Float32Array) => void,
  ): void {
    this.#checkRunnable(input);
    const int8 = new Set(int8Layers(this.architecture));
    tf.tidy(() => {
      let x = input;
      for (let i = 0; i < this.#steps.length; i++) {
        const name = this.architecture.steps[i].name;
        if (int8.has(name)) visit(name, x.dataSync() as Float32Array);
        const next = this.#step(i, x);
        if (x !== input) x.dispose();
        x = next;
      }
      const pooled = this.#head(x, "features");
      if (int8.has("conv_preds")) visit("conv_preds", pooled.dataSync() as Float32Array);
    });
  }

  /**
   * Like {@linkcode MobileNetNetwork.run}, but waits for each layer's weights before running
   * it, so a first inference can start while later shards are still arriving.
   */
  async runStreaming(
    input: tf.Tensor4D,
    output: NetworkOutput = "probabilities",
  ): Promise<tf.Tensor2D> {
    this.#checkInput(input);
    let x = input;
    try {
      for (let i = 0; i < this.#steps.length; i++) {
        if (!this.#stageReady(i)) await this.#whenReady(i);
        // A dispose between the wake-up and this line freed the weights: do not touch them.
        if (this.#failure) throw this.#failure;
        const prev = x;
        x = tf.tidy(() => this.#step(i, prev));
        if (prev !== input) prev.dispose();
      }
      const needsTop = output !== "features" && this.architecture.config.includeTop;
      if (needsTop && !this.#stageReady(this.#steps.length)) {
        await this.#whenReady(this.#steps.length);
        if (this.#failure) throw this.#failure;
      }
      const last = x;
      return tf.tidy(() => this.#head(last, output));
    } finally {
      if (x !== input) x.dispose();
    }
  }

  /**
   * Releases every backend tensor. The network cannot run afterwards: pending and later runs
   * reject with the error given to {@linkcode MobileNetNetwork.fail} before, if any, else with
   * `reason` (the model passes its `ModelDisposedError`).
   */
  dispose(reason: Error = new Error("the network has been disposed")): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const t of this.#steps) {
      if (!t) continue;
      t.filter.dispose();
      t.bias?.dispose();
      if (t.bn) Object.values(t.bn).forEach((v) => v.dispose());
    }
    this.#steps.fill(undefined);
    this.#top?.kernel.dispose();
    this.#top?.bias.dispose();
    this.#means.forEach((t) => t.dispose());
    this.#means.clear();
    this.#top = undefined;
    this.#raw.clear();
    this.fail(this.#failure ?? reason);
  }
}
