/**
 * The loaded model users hold: `classify` (image to top-K ImageNet labels, or a head's classes),
 * `embed` (image to pooled features), `predict` (preprocessed batch to probabilities),
 * `withHead`, `summary` and `dispose`. It turns every accepted image form into the network's
 * input, runs the network, and maps indices to labels; the CLI, the edge handler and the ingest
 * loop all go through it.
 *
 * @module
 */
import * as tf from "./vendor/tfjs.js";
import { type Architecture, formatSummary, type LayerSpec } from "./model/architecture.ts";
import type { MobileNetNetwork, NetworkOutput } from "./model/mobilenet.ts";
import { checkSize, decodeImage, type DecodeOptions } from "./image/decode.ts";
import { type Pixels, toPixels } from "./image/pixels.ts";
import {
  checkResizeMode,
  checkZone,
  minSourceSide,
  preprocessPixels,
  preprocessTensor,
  type ResizeMode,
  type Zone,
} from "./image/preprocess.ts";
import { checkHeadModel, type Head } from "./head/head.ts";
import type { WeightsManifest } from "./weights/manifest.ts";
import type { BackendLease } from "./backend/lease.ts";
import { timeInference } from "./backend/wasm.ts";
import { ModelDisposedError } from "./errors.ts";
import { markFirst, sizeOf } from "./_util.ts";
import { IMAGENET_LABELS } from "./labels/imagenet.ts";

/** Raw pixels: `width * height` pixels of RGBA (4 bytes), RGB (3) or gray (1), row-major. */
export interface RawImage {
  /** Pixel bytes. */
  data: Uint8Array | Uint8ClampedArray;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Bytes per pixel; worked out from the data length when absent. */
  channels?: 1 | 3 | 4;
}

/**
 * A TensorFlow.js tensor, as this API sees it: every `tf.Tensor` of `@tensorflow/tfjs-core`
 * satisfies it. At run time only real tensors of tfjs-core 4.22.0 are accepted (this package
 * bundles it as `src/vendor/tfjs.js`; your own `npm:@tensorflow/tfjs-core@4.22.0` shares its
 * engine, so your tensors work here, and ours in your code); anything else throws a
 * {@linkcode TypeError}.
 */
export interface TensorLike {
  /** Number of axes. */
  readonly rank: number;
  /** Length of each axis. */
  readonly shape: readonly number[];
  /** Element type, e.g. "float32" or "int32". */
  readonly dtype: string;
  /** Frees the tensor's memory. */
  dispose(): void;
}

/**
 * Anything `classify` and `embed` accept: encoded image bytes (JPEG, PNG, GIF, TIFF), raw
 * pixels, or a tf tensor (`tf.Tensor3D` or `tf.Tensor4D`) of pixel values 0..255 in HWC or NHWC
 * (batch of one) layout.
 */
export type ImageInput = Uint8Array | ArrayBuffer | Blob | RawImage | TensorLike;

/**
 * A preprocessed NHWC float32 batch in [-1, 1]: a `tf.Tensor4D`, or its values and shape
 * `[n, height, width, 3]`.
 */
export type BatchInput = TensorLike | {
  /** The values, image after image, row-major, RGB interleaved. */
  data: Float32Array;
  /** `[n, height, width, 3]`. */
  shape: [number, number, number, number];
};

/** One predicted class. */
export interface Prediction {
  /** Class index, 0..classes-1 (a head's class index with a head). */
  index: number;
  /** Readable label (ImageNet, or the head's class), or `class <index>` for a custom top. */
  label: string;
  /** Softmax probability. */
  probability: number;
}

/** Options of {@linkcode MobileNet.classify}. */
export interface ClassifyOptions {
  /**
   * How many of the most probable classes to return.
   * @default {5}
   */
  topK?: number;
}

/** Where the time of one `classify` went, in milliseconds. */
export interface Timings {
  /** Decoding encoded bytes (0 for pixels and tensors). */
  decodeMs: number;
  /** Resizing and scaling into the input tensor. */
  preprocessMs: number;
  /** The network, including reading the result back. */
  inferenceMs: number;
  /** All of it. */
  totalMs: number;
}

/** The full result of {@linkcode MobileNet.classifyDetailed}. */
export interface ClassifyResult {
  /** Top-K predictions, most probable first: the head's classes when the model has a head. */
  predictions: Prediction[];
  /**
   * With a head: `true` when the top probability is under the head's threshold (none of the
   * head's classes fits well); the predictions are still given.
   */
  unknown?: boolean;
  /** With a head: the top-K ImageNet predictions of the same run. */
  imagenet?: Prediction[];
  /** All the ImageNet class probabilities, when asked for with `probabilities: true`. */
  probabilities?: Float32Array;
  /** Where the time went. */
  timings: Timings;
  /** Size of the image before resizing. */
  width: number;
  /** Size of the image before resizing. */
  height: number;
  /**
   * The image's embedding ({@linkcode MobileNet.embed}'s values, from the same input and the
   * same network run as the predictions), when asked for with `embedding: true`.
   */
  embedding?: Float32Array;
}

/** Options of {@linkcode MobileNet.classifyDetailed}. */
export interface ClassifyDetailedOptions extends ClassifyOptions {
  /** How the image is fitted to the input; the head's, else the model's mode when absent. */
  resize?: ResizeMode;
  /** Cut this part of the frame out first; the head's zone when absent. */
  zone?: Zone;
  /** Also return the embedding, from the same run. @default {false} */
  embedding?: boolean;
  /** Also return all the ImageNet probabilities, from the same run. @default {false} */
  probabilities?: boolean;
}

/** A layer of {@linkcode ModelSummary}. */
export type LayerSummary = Pick<LayerSpec, "name" | "kind" | "outputShape" | "params" | "macs">;

/** What {@linkcode MobileNet.summary} returns. */
export interface ModelSummary {
  /** Per-layer output shape, parameters and multiply-adds, input first. */
  layers: LayerSummary[];
  /** Parameters as Keras counts them (BatchNorm included). */
  totalParams: number;
  /** Trainable parameters. */
  trainableParams: number;
  /** BatchNorm moving statistics. */
  nonTrainableParams: number;
  /** Multiply-adds per image. */
  totalMacs: number;
  /** The same as a Keras-style table. */
  text: string;
}

/** Options a {@linkcode MobileNet} is created with. */
export interface MobileNetInit {
  /** How images are fitted to the square input. */
  resize: ResizeMode;
  /** Labels by class index (ImageNet's, or none for a custom top). */
  labels?: readonly string[];
  /** The manifest the weights came from, if any. */
  manifest?: WeightsManifest;
  /** Stops a load still streaming in (aborts its downloads); `dispose` calls it. */
  stop?: (reason: Error) => void;
  /** Resolves when every weight is on the backend (rejects when loading failed). */
  loaded: Promise<void>;
  /** The model's hold on the shared backend, given back by `dispose`. */
  lease?: BackendLease;
  /** Image decoding limits and orientation (`maxPixels`, `orientation`); defaults when absent. */
  image?: Pick<DecodeOptions, "maxPixels" | "orientation">;
  /** The weights' identity (`weightsId`): what taught heads are tied to. */
  weightsId?: string;
  /** The head `classify` answers with, if any. */
  head?: Head;
}

function topK(probs: Float32Array, k: number, labels?: readonly string[]): Prediction[] {
  const best: number[] = [];
  for (let i = 0; i < probs.length; i++) {
    if (best.length === k && probs[i] <= probs[best[k - 1]]) continue;
    let at = best.length < k ? best.length : k - 1;
    while (at > 0 && probs[best[at - 1]] < probs[i]) {
      if (at < k) best[at] = best[at - 1];
      at--;
    }
    best[at] = i;
  }
  return best.map((index) => ({
    index,
    label: labels?.[index] ?? `class ${index}`,
    probability: probs[index],
  }));
}

/**
 * A head's answer: its classes sorted (at most `k`, at most the head's classes), whether the top
 * is under its threshold, and the ImageNet answer beside it.
 */
function headAnswer(head: Head, scores: Float64Array, k: number, imagenet: Prediction[]) {
  const predictions = topK(Float32Array.from(scores), Math.min(k, scores.length), head.labels);
  return { predictions, unknown: predictions[0].probability < head.threshold, imagenet };
}

/** The run-time check behind {@linkcode TensorLike}: a tensor of our tfjs-core. */
function isTensor(value: unknown): value is TensorLike {
  return value instanceof tf.Tensor;
}

function isRawImage(value: unknown): value is RawImage {
  return typeof value === "object" && value !== null && "data" in value && "width" in value &&
    "height" in value;
}

/** Refuses a tensor that cannot be read: disposed (its data is gone). */
function checkLiveTensor(tensor: tf.Tensor, what: string): void {
  if (tensor.isDisposed) {
    throw new TypeError(`${what} tensor is disposed (shape [${tensor.shape}])`);
  }
}

/** Checks a `[n, h, w, c]` shape of a `{data, shape}` batch: four non-negative integers. */
function checkBatchShape(shape: unknown): asserts shape is [number, number, number, number] {
  if (!Array.isArray(shape) || shape.length !== 4) {
    throw new RangeError(`expected shape [n, h, w, 3], got ${JSON.stringify(shape)}`);
  }
  if (!shape.every((side) => Number.isInteger(side) && side >= 0)) {
    throw new RangeError(`shape must hold non-negative integers, got [${shape}]`);
  }
}

/** Refuses an empty batch, which the WASM kernels cannot run. */
function checkBatchSize(n: number): void {
  if (n < 1) throw new RangeError(`predict needs a batch of at least 1 image, got ${n}`);
}

/**
 * A loaded MobileNet v1. Create it with `loadMobileNet` (from `mod.ts`).
 *
 * @example
 * ```ts
 * import { loadMobileNet } from "../mod.ts";
 * const model = await loadMobileNet();
 * const bytes = await Deno.readFile("tests/fixtures/images/n02504458_African_elephant.JPEG");
 * console.log((await model.classify(bytes, { topK: 1 }))[0].label); // "African elephant"
 * model.dispose();
 * ```
 */
export class MobileNet {
  readonly #network: MobileNetNetwork;
  readonly #init: MobileNetInit;
  /** The watchdog compares times of one workload only: this network's configuration. */
  readonly #workload: string;
  /** The model that owns the network: itself, or the model a `withHead` view was made from. */
  readonly #root: MobileNet;
  #disposed = false;
  #disposing: Promise<void> | undefined;
  /** Where images are preprocessed before their upload (see `#input`). */
  #scratch: Float32Array | undefined;
  /** Calls in flight (decoding, running, waiting for weights); see `#tracked`. */
  readonly #inFlight = new Set<Promise<unknown>>();

  /** Wraps a network; use `loadMobileNet` rather than this constructor. */
  constructor(network: MobileNetNetwork, init: MobileNetInit, root?: MobileNet) {
    this.#network = network;
    this.#init = init;
    this.#root = root ?? this;
    const c = network.architecture.config;
    this.#workload = `${c.alpha}/${c.depthMultiplier}/${c.resolution}/${c.includeTop}`;
    // A failed background load is reported through `loaded` and every later call.
    init.loaded.catch(() => {});
    // shutdown() disposes every model still alive before the backend goes.
    if (!root) init.lease?.onRevoke(() => this.dispose());
  }

  /** The architecture (options, layers, counts). */
  get architecture(): Architecture {
    return this.#network.architecture;
  }

  /** The input side in pixels. */
  get resolution(): number {
    return this.architecture.config.resolution;
  }

  /** Length of {@linkcode MobileNet.embed}'s vector: `floor(1024 * alpha)`. */
  get featureSize(): number {
    return this.architecture.featureSize;
  }

  /**
   * What the 1x1 convolutions and the classifier compute in: "int8" when it was asked for
   * (`precision: "int8"`) and the backend has int8 kernels, else "float32".
   */
  get precision(): "float32" | "int8" {
    return this.#network.precision;
  }

  /** How images are fitted to the input (see {@linkcode ResizeMode}). */
  get resize(): ResizeMode {
    return this.#init.resize;
  }

  /** The weights manifest, when loaded from one. */
  get manifest(): WeightsManifest | undefined {
    return this.#init.manifest;
  }

  /** Resolves when every weight has been loaded (at once for a fully loaded model). */
  get loaded(): Promise<void> {
    return this.#init.loaded;
  }

  /**
   * The identity of the weights, which taught heads are tied to: the sha256 of the manifest's
   * shard hashes; `undefined` for weights not loaded from a manifest.
   */
  get weightsId(): string | undefined {
    return this.#init.weightsId;
  }

  /** The head `classify` answers with, if any (see {@linkcode MobileNet.withHead}). */
  get head(): Head | undefined {
    return this.#init.head;
  }

  /**
   * This model answering in `head`'s classes: `classify` and `classifyDetailed` return the
   * head's classes (with `unknown`, and the ImageNet answer as `imagenet`), fitting images as
   * the head was taught (its resize mode and zone). `embed` and `predict` are unchanged. The
   * view shares this model's weights, so it costs nothing; disposing either disposes both.
   *
   * @throws {HeadError} `MODEL_MISMATCH` when the head was taught on other weights, or needs the
   * ImageNet top this model lacks.
   *
   * @example
   * ```ts
   * import { Head, loadMobileNet } from "../mod.ts";
   * const model = await loadMobileNet();
   * const vehicles = model.withHead(await Head.fromCategories(["car", "bicycle", "truck"]));
   * const bytes = await Deno.readFile("samples/african_elephant.jpg");
   * const result = await vehicles.classifyDetailed(bytes);
   * console.log(result.unknown, result.imagenet?.[0].label); // true "African elephant"
   * await model.dispose();
   * ```
   */
  withHead(head: Head): MobileNet {
    this.#check();
    checkHeadModel(head, {
      weightsId: this.weightsId,
      featureSize: this.featureSize,
      imagenetTop: this.architecture.config.includeTop && this.#init.labels === IMAGENET_LABELS,
    });
    return new MobileNet(this.#network, { ...this.#init, head }, this.#root);
  }

  #check(): void {
    if (this.#root.#disposed) throw new ModelDisposedError();
  }

  /**
   * The options `classify` and `embed` decode encoded bytes with: this model's pixel budget and
   * orientation, and the smallest size `resize`'s square still needs (JPEGs are reduced in the
   * DCT domain, PNG and TIFF row by row, never below it). Bytes decoded elsewhere (in a worker,
   * say) with `decodeImage(bytes, model.decodeOptions())` and given to `classify` as pixels get
   * the same result as the bytes themselves.
   *
   * @param resize the resize mode the pixels will be classified with; by default the head's
   * (see {@linkcode MobileNet.withHead}), else the model's
   * @param zone the zone that will be cropped (fractions of the frame); the head's by default
   * @throws {RangeError} for an unknown resize mode or a bad zone
   * @example
   * ```ts
   * import { decodeImage, loadMobileNet } from "../mod.ts";
   * const model = await loadMobileNet();
   * const bytes = await Deno.readFile("tests/fixtures/images/n02504458_African_elephant.JPEG");
   * const pixels = await decodeImage(bytes, model.decodeOptions());
   * console.log((await model.classify(pixels, { topK: 1 }))[0].label); // "African elephant"
   * await model.dispose();
   * ```
   */
  decodeOptions(
    resize: ResizeMode = this.#init.head?.resize ?? this.resize,
    zone: Zone | undefined = this.#init.head?.zone,
  ): DecodeOptions {
    return this.#decodeOptions(checkResizeMode(resize), zone && checkZone(zone));
  }

  /** {@linkcode MobileNet.decodeOptions} for checked arguments; no zone means none. */
  #decodeOptions(mode: ResizeMode, zone: Zone | undefined): DecodeOptions {
    const side = minSourceSide(this.resolution, mode, zone);
    return { ...this.#init.image, minWidth: side, minHeight: side };
  }

  async #pixels(
    image: Exclude<ImageInput, TensorLike>,
    mode: ResizeMode,
    zone: Zone | undefined,
  ): Promise<Pixels> {
    const size = this.#decodeOptions(mode, zone);
    if (image instanceof Uint8Array) return await decodeImage(image, size);
    if (image instanceof ArrayBuffer) return await decodeImage(new Uint8Array(image), size);
    if (typeof Blob !== "undefined" && image instanceof Blob) {
      return await decodeImage(new Uint8Array(await image.arrayBuffer()), size);
    }
    if (isRawImage(image)) return toPixels(checkSize(image));
    throw new TypeError(
      "image must be encoded bytes (Uint8Array, ArrayBuffer, Blob), raw pixels " +
        "{data, width, height}, or a tf.Tensor3D/4D of pixel values",
    );
  }

  /** Turns any accepted image into a [1, r, r, 3] input tensor and says how long it took. */
  async #input(image: ImageInput, mode: ResizeMode, zone?: Zone) {
    if (image instanceof tf.Tensor) checkLiveTensor(image, "the image");
    const size = this.resolution;
    const t0 = performance.now();
    if (isTensor(image)) {
      if (image.rank === 4 && image.shape[0] !== 1) {
        throw new RangeError(
          `classify and embed take one image; got a batch of ${image.shape[0]} (use predict)`,
        );
      }
      const input = preprocessTensor(image as tf.Tensor, size, mode, zone);
      const [height, width] = image.shape.slice(-3);
      return { input, decodeMs: 0, preprocessMs: performance.now() - t0, width, height };
    }
    const pixels = await this.#pixels(image, mode, zone);
    markFirst("image:decoded");
    const t1 = performance.now();
    // dispose() ran while decoding: the weights (and maybe the backend) are gone.
    this.#check();
    // tfjs copies the values into the backend at once, so one array serves every call: a server
    // allocates (and leaves to the garbage collector) no 600 KB array per request.
    const root = this.#root;
    root.#scratch ??= new Float32Array(size * size * 3);
    const data = preprocessPixels(pixels, size, mode, root.#scratch, 0, zone);
    const input = tf.tensor4d(data, [1, size, size, 3]);
    markFirst("image:preprocessed");
    return {
      input,
      decodeMs: t1 - t0,
      preprocessMs: performance.now() - t1,
      width: pixels.width,
      height: pixels.height,
    };
  }

  /**
   * Runs one call counted as in flight: `dispose()` lets the backend stop only once every call
   * in flight has settled, so none holds a tensor then (each rejects at its next step).
   */
  async #tracked<T>(call: () => Promise<T>): Promise<T> {
    this.#check();
    const running = call();
    const inFlight = this.#root.#inFlight;
    inFlight.add(running);
    try {
      return await running;
    } finally {
      inFlight.delete(running);
    }
  }

  /** Runs the network on `input`, waiting for streamed weights if need be; disposes `input`. */
  async #run(input: tf.Tensor4D, output: NetworkOutput): Promise<Float32Array> {
    try {
      this.#check(); // dispose() ran while the input was being prepared
      if (this.#network.isComplete) return this.#runNow(input, output);
      const result = await this.#network.runStreaming(input, output);
      try {
        this.#check();
        return result.dataSync() as Float32Array;
      } finally {
        result.dispose();
      }
    } finally {
      input.dispose();
    }
  }

  /** Runs the complete network and reads the result, timed for the threads watchdog. */
  #runNow(input: tf.Tensor4D, output: NetworkOutput): Float32Array {
    return timeInference(() => {
      const result = this.#network.run(input, output);
      try {
        return result.dataSync() as Float32Array;
      } finally {
        result.dispose();
      }
    }, `${this.#workload}:${input.shape[0]}:${output}`);
  }

  /**
   * Classifies one image and reports where the time went.
   *
   * @throws {ImageDecodeError} for bytes that are not a decodable image;
   * {@linkcode TypeError}/{@linkcode RangeError} for wrong input types or shapes.
   */
  classifyDetailed(
    image: ImageInput,
    options: ClassifyDetailedOptions = {},
  ): Promise<ClassifyResult> {
    return this.#tracked(() => this.#classifyDetailed(image, options));
  }

  async #classifyDetailed(
    image: ImageInput,
    options: ClassifyDetailedOptions,
  ): Promise<ClassifyResult> {
    const head = this.#init.head;
    const k = options.topK ?? 5;
    const classes = this.architecture.config.classes;
    if (!Number.isInteger(k) || k < 1 || k > classes) {
      throw new RangeError(`topK must be an integer from 1 to ${classes}, got ${k}`);
    }
    if (!this.architecture.config.includeTop) {
      throw new RangeError("this model was loaded without its top; use embed()");
    }
    const mode = options.resize ?? head?.resize ?? this.resize;
    const zone = options.zone === undefined ? head?.zone : checkZone(options.zone);
    const start = performance.now();
    const { input, decodeMs, preprocessMs, width, height } = await this.#input(image, mode, zone);
    const t0 = performance.now();
    const { probs, embedding } = options.embedding || head
      ? await this.#probabilitiesAndFeatures(input)
      : { probs: await this.#run(input, "probabilities"), embedding: undefined };
    markFirst("image:classified");
    const end = performance.now();
    const imagenet = topK(probs, k, this.#init.labels);
    return {
      ...(head ? headAnswer(head, head.apply(embedding!, probs), k, imagenet) : {
        predictions: imagenet,
      }),
      timings: { decodeMs, preprocessMs, inferenceMs: end - t0, totalMs: end - start },
      width,
      height,
      ...(options.embedding ? { embedding } : {}),
      ...(options.probabilities ? { probabilities: probs } : {}),
    };
  }

  /** One run to the pooled features, then the classifier on them; disposes `input`. */
  async #probabilitiesAndFeatures(
    input: tf.Tensor4D,
  ): Promise<{ probs: Float32Array; embedding: Float32Array }> {
    const embedding = await this.#run(input, "features");
    if (!this.#network.isComplete) await this.loaded; // streaming: the top comes last
    this.#check();
    return { probs: this.#network.classifierOn(embedding), embedding };
  }

  /**
   * Classifies one image: its `topK` most probable classes, most probable first.
   *
   * @throws {ImageDecodeError} for bytes that are not a decodable image;
   * {@linkcode TypeError}/{@linkcode RangeError} for wrong input types or shapes.
   */
  async classify(image: ImageInput, options: ClassifyOptions = {}): Promise<Prediction[]> {
    return (await this.classifyDetailed(image, options)).predictions;
  }

  /**
   * The image's embedding: the globally pooled features before the classifier,
   * {@linkcode MobileNet.featureSize} values.
   */
  embed(image: ImageInput): Promise<Float32Array> {
    return this.#tracked(async () => {
      const { input } = await this.#input(image, this.resize);
      return await this.#run(input, "features");
    });
  }

  /**
   * Class probabilities for an already preprocessed NHWC float32 batch in [-1, 1] at the
   * model's resolution: `n * classes` values, image after image. Synchronous; the weights must
   * be fully loaded (await {@linkcode MobileNet.loaded} after a streaming load).
   *
   * @throws {RangeError} for a wrong shape or an empty batch; {@linkcode TypeError} for a wrong
   * type, a wrong dtype or a disposed tensor; {@linkcode ModelDisposedError} after `dispose()`.
   */
  predict(input: BatchInput): Float32Array {
    this.#check();
    if (!this.architecture.config.includeTop) {
      throw new RangeError("this model was loaded without its top; use embed()");
    }
    if (isTensor(input)) return this.#predictTensor(input as tf.Tensor);
    if (typeof input !== "object" || input === null || !(input.data instanceof Float32Array)) {
      throw new TypeError("predict takes a tf.Tensor4D or {data: Float32Array, shape: [n,h,w,3]}");
    }
    const shape = input.shape;
    checkBatchShape(shape);
    checkBatchSize(shape[0]);
    const size = sizeOf(shape);
    if (input.data.length !== size) {
      throw new RangeError(
        `data has ${input.data.length} values, shape [${shape}] needs ${size}`,
      );
    }
    const tensor = tf.tensor4d(input.data, shape);
    try {
      return this.#predictTensor(tensor);
    } finally {
      tensor.dispose();
    }
  }

  #predictTensor(input: tf.Tensor): Float32Array {
    checkLiveTensor(input, "the input");
    if (input.rank !== 4) {
      throw new RangeError(
        `expected a rank-4 NHWC batch, got rank ${input.rank} with shape [${input.shape}]`,
      );
    }
    checkBatchSize(input.shape[0]);
    return this.#runNow(input as tf.Tensor4D, "probabilities");
  }

  /** Per-layer output shapes, parameters and multiply-adds, and the totals. */
  summary(): ModelSummary {
    const arch = this.architecture;
    return {
      layers: arch.layers.map(({ name, kind, outputShape, params, macs }) => ({
        name,
        kind,
        outputShape: [...outputShape],
        params,
        macs,
      })),
      totalParams: arch.totalParams,
      trainableParams: arch.trainableParams,
      nonTrainableParams: arch.totalParams - arch.trainableParams,
      totalMacs: arch.totalMacs,
      text: formatSummary(arch),
    };
  }

  /**
   * Releases the model's backend memory and stops a load still streaming in (its downloads are
   * aborted). The model cannot be used afterwards: calls in flight and later calls reject with
   * {@linkcode ModelDisposedError} (`code` `"DISPOSED"`). When it was the last model and no
   * other tensor is left, the backend shuts down too (its worker threads end); the returned
   * promise resolves when that is done.
   */
  dispose(): Promise<void> {
    if (this.#root !== this) return this.#root.dispose();
    if (this.#disposing) return this.#disposing;
    this.#disposed = true;
    const reason = new ModelDisposedError();
    // Runs waiting for streamed weights wake up and reject with `reason`.
    this.#network.dispose(reason);
    this.#init.stop?.(reason);
    const release = () => this.#init.lease?.release() ?? Promise.resolve();
    // Calls in flight reject at their next step and free their tensors; the backend may stop
    // only then.
    this.#disposing = this.#inFlight.size === 0
      ? release()
      : Promise.allSettled(this.#inFlight).then(release);
    return this.#disposing;
  }
}
