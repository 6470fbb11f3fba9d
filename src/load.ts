/**
 * Assembling a {@linkcode MobileNet}: start the backend, read the weights manifest, build the
 * architecture it describes, and stream the weights into the network.
 *
 * @module
 */
import { type ArchitectureOptions, buildArchitecture } from "./model/architecture.ts";
import { int8Layers, type Int8Options, MobileNetNetwork, RELU6_SCALE } from "./model/mobilenet.ts";
import { INT8_KERNEL } from "./backend/pointwise/int8.ts";
import { MobileNet } from "./mobilenet.ts";
import { acquireBackend, type BackendLease } from "./backend/lease.ts";
import { activeKernels } from "./backend/wasm.ts";
import { checkResizeMode, type ResizeMode } from "./image/preprocess.ts";
import { checkMaxPixels } from "./image/budget.ts";
import { checkOrientationMode, type OrientationMode } from "./image/orientation.ts";
import { IMAGENET_LABELS } from "./labels/imagenet.ts";
import { resolveModel } from "./bundled.ts";
import { type LoadWeightsOptions, openWeights, pickWeightsOptions } from "./weights/loader.ts";
import { architectureOptions, checkShapes } from "./weights/fit.ts";
import { applyPreset } from "./presets.ts";
import { weightsId } from "./weights/identity.ts";
import { Head, type HeadJson } from "./head/head.ts";
import { mark, readEnv } from "./_util.ts";
import { ModelDisposedError } from "./errors.ts";
import { preloadJpegDecoder } from "./image/jpeg/mod.ts";

/**
 * Options of {@linkcode loadMobileNet}. The weights options (`fetch`, `signal`, `timeoutMs`,
 * `deadlineMs`, `retries`, `retryDelayMs`, `maxRetryDelayMs`, `concurrency`, `cache`,
 * `onProgress`) are those of the weights loader.
 */
export interface LoadMobileNetOptions extends Omit<LoadWeightsOptions, "only"> {
  /**
   * `"small-board"`: defaults for 512 MB boards (Pi Zero 2 W): model "0.25_224", 1 thread (no
   * worker pool), one shard read at a time. Options given here win over it. When absent, the
   * `MOBILENET_EDGE_SMALL_BOARD=1` environment variable selects it (see `src/presets.ts`).
   * @default {"default"}
   */
  preset?: "default" | "small-board";
  /**
   * A bundled model ("0.75_224", "0.25_224"), a weights directory or manifest path, or a URL.
   * @default {"0.75_224"}
   */
  model?: string | URL;
  /**
   * Threads computing one inference: a number (1 forces the single-thread binary, which needs
   * no workers, as on edge platforms), or "auto": as many as the machine has cores (at most 8),
   * kept only while a start-up calibration and a watchdog on inference times say it is faster
   * than fewer. The `MOBILENET_EDGE_THREADS` environment variable sets the default. All models
   * of a process share one backend: the first model's choice starts it; a later explicit count
   * switches the running pool.
   * @default {"auto"}
   */
  threads?: number | "auto";
  /**
   * Use the WASM SIMD binaries. `false` (or `MOBILENET_EDGE_SIMD=0`) forces the plain,
   * single-thread binary.
   * @default {true}
   */
  simd?: boolean;
  /**
   * How images are fitted to the square input: "center-crop" the largest centred square (best
   * for photos), "stretch" the whole frame (as the reference pipeline does; for wide camera
   * frames), or "center-crop-87.5" the centre 87.5% of that square (ImageNet's 256 -> 224).
   * @default {"center-crop"}
   */
  resize?: ResizeMode;
  /**
   * The pixel budget for encoded images: one whose decode would hold more pixels is refused
   * with `ImageDecodeError` `TOO_LARGE`, from its header, before anything is allocated. A JPEG
   * decoded reduced in the DCT domain counts its reduced size. `Infinity` turns the check off.
   * @default {DEFAULT_MAX_PIXELS} (8,388,608: 4096 x 2048, sized for a 256 MB edge isolate)
   */
  maxPixels?: number;
  /**
   * "exif" turns each image upright as its EXIF orientation says (JPEG, PNG eXIf, TIFF);
   * "ignore" classifies the pixels as stored.
   * @default {"exif"}
   */
  orientation?: OrientationMode;
  /**
   * Load only the feature extractor (no `conv_preds`), for embeddings.
   * @default {false}
   */
  headless?: boolean;
  /**
   * Global pooling of a headless model.
   * @default {"avg"}
   */
  pooling?: "avg" | "max";
  /**
   * Fold BatchNorm into fused kernels. `false` runs the unfolded Keras ops (for testing).
   * @default {true}
   */
  fused?: boolean;
  /**
   * Resolve as soon as the manifest is read and stream the weights in the background: the
   * first `classify`/`embed` runs each layer as soon as its weights are in, while later shards
   * still arrive. `model.loaded` resolves when every weight is in; if the stream fails, it and
   * every pending and later call reject with the `WeightsError`, and the weights
   * loaded so far are freed. `dispose()` during the load aborts the downloads. `predict` needs
   * the whole model (await `model.loaded`).
   * @default {false}
   */
  stream?: boolean;
  /**
   * A head to answer with (see `MobileNet.withHead`): a `Head`, or a head file's path, URL or
   * parsed JSON. It is read and checked before the weights load, and must fit them.
   */
  head?: Head | string | URL | HeadJson;
  /**
   * What the 1x1 convolutions and the classifier (95% of the work) compute in: "float32", or
   * "int8": weights quantized per output channel, activations to 7 bits with the per-layer
   * scales calibrated into the weights' manifest (`deno task calibrate`; weights without them
   * use ReLU6's whole range, and a layer the calibration left out stays float32), integer sums.
   * Where the backend has no int8 kernels (no WASM SIMD, or `MOBILENET_EDGE_KERNELS=xnnpack`)
   * the model runs float32: `model.precision` says what runs, `backendInfo().int8` why. When
   * absent, {@linkcode PRECISION_ENV} (`MOBILENET_EDGE_PRECISION`) decides, then "float32".
   * @default {"float32"}
   */
  precision?: "float32" | "int8";
}

/** The environment variable that gives `precision` when the option is absent. */
export const PRECISION_ENV = "MOBILENET_EDGE_PRECISION";

/** Options of {@linkcode createMobileNet}. */
export interface CreateMobileNetOptions extends ArchitectureOptions {
  /** See {@linkcode LoadMobileNetOptions.threads}. */
  threads?: number | "auto";
  /** See {@linkcode LoadMobileNetOptions.simd}. */
  simd?: boolean;
  /** See {@linkcode LoadMobileNetOptions.resize}. */
  resize?: ResizeMode;
  /** See {@linkcode LoadMobileNetOptions.fused}. */
  fused?: boolean;
  /** See {@linkcode LoadMobileNetOptions.maxPixels}. */
  maxPixels?: number;
  /** See {@linkcode LoadMobileNetOptions.orientation}. */
  orientation?: OrientationMode;
  /** Labels by class index; ImageNet's when `classes` is 1000. */
  labels?: readonly string[];
  /** See {@linkcode LoadMobileNetOptions.precision}. */
  precision?: "float32" | "int8";
  /**
   * With `precision: "int8"`: the calibration a manifest's `int8` field holds (`deno task
   * calibrate`): the input scale of each int8 layer (`conv_pw_1` ... `conv_pw_13`,
   * `conv_preds`), the means of their input channels (for bias correction), and the layers
   * whose inputs are quantized to 0..254 instead of 0..127 (`levels`, 254: 8-bit activations).
   * @default {scales 6 / 127 for every layer (ReLU6's whole range), no means: uncalibrated}
   */
  int8?: {
    scales: Readonly<Record<string, number>>;
    means?: Readonly<Record<string, ArrayLike<number>>>;
    levels?: Readonly<Record<string, number>>;
  };
}

/**
 * The resize mode used when none is given: "center-crop", the best for photos on 239 labelled
 * photos and on a held-out set of 363 (docs/accuracy.md, "Resize modes"). For wide camera
 * frames, where the subject may be anywhere, pass "stretch".
 */
export const DEFAULT_RESIZE: ResizeMode = "center-crop";

/**
 * Loads a MobileNet v1 with its weights. Resolves once every weight is on the backend, or, with
 * `stream: true`, as soon as the manifest is read (see {@linkcode LoadMobileNetOptions.stream}).
 *
 * @throws {UnknownModelError} for an unknown model name; `WeightsError` for missing,
 * corrupt or mismatched weights; `HeadError` for a head that cannot be read or does not fit;
 * {@linkcode RangeError} for bad options.
 *
 * @example
 * ```ts
 * import { loadMobileNet } from "../mod.ts";
 * const model = await loadMobileNet({ model: "0.25_224" });
 * console.log(model.summary().totalParams); // 475544
 * model.dispose();
 * ```
 */
export async function loadMobileNet(options: LoadMobileNetOptions = {}): Promise<MobileNet> {
  options = applyPreset(options);
  // bad resize and image options fail before the backend starts
  const checked = {
    resize: checkResizeMode(options.resize ?? DEFAULT_RESIZE),
    image: imageOptions(options),
    precision: checkPrecision(options.precision),
  };
  const url = resolveModel(options.model);
  const head = options.head === undefined || options.head instanceof Head
    ? options.head
    : await Head.load(options.head);
  // The first answer needs the JPEG decoder: it compiles (on V8's threads) while the backend
  // starts and the weights load. A failure shows at the first decode.
  preloadJpegDecoder().catch(() => {});
  const lease = await acquireBackend({ threads: options.threads, simd: options.simd });
  let model;
  try {
    model = await assemble(url, checked, lease, options);
  } catch (error) {
    await lease.release();
    throw error;
  }
  if (lease.revoked) throw new ModelDisposedError("shutdown() stopped the backend during the load");
  if (!head) return model;
  try {
    return model.withHead(head);
  } catch (error) {
    await model.dispose();
    throw error;
  }
}

async function assemble(
  url: URL,
  checked: {
    resize: ResizeMode;
    image: ReturnType<typeof imageOptions>;
    precision: "float32" | "int8";
  },
  lease: BackendLease,
  options: LoadMobileNetOptions,
): Promise<MobileNet> {
  // dispose() of a model still streaming its weights in aborts the downloads.
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  // shutdown() during the load aborts it (the model, once made, is disposed instead).
  lease.onRevoke(() => stop.abort(new ModelDisposedError("shutdown() stopped the load")));
  mark("load:open");
  const opened = await openWeights(url, { ...pickWeightsOptions(options), signal });
  mark("load:manifest");
  const manifest = opened.manifest;
  const config = manifest.model;
  // Refuse weights that do not fit their declared configuration before reading any shard.
  checkShapes(
    architectureOptions(config),
    new Map(manifest.tensors.map((t) => [t.name, t.shape])),
  );
  if (options.headless === false && !config.includeTop) {
    throw new RangeError(`${url.href} has no top (conv_preds); load it with headless: true`);
  }
  const arch = buildArchitecture({
    ...architectureOptions(config),
    includeTop: config.includeTop && !options.headless,
    pooling: options.pooling,
  });
  const int8 = int8Options(checked.precision, lease, arch, manifest.int8);
  const network = new MobileNetNetwork(arch, networkOptions(options.fused, int8));
  // Only the shards holding tensors this network uses are read (a headless model skips the top).
  const used = new Set(arch.weights.map((w) => w.name));
  const feed = async () => {
    let first = true;
    for await (const { entry, data } of opened.tensors((name) => used.has(name))) {
      if (first) mark("load:first-tensor");
      first = false;
      network.addWeight(entry.name, data);
    }
    mark("load:weights");
    network.checkComplete(url.href);
    opened.release(); // the backend holds copies of every weight
  };
  const init = {
    stop: (reason: Error) => stop.abort(reason),
    ...checked,
    labels: config.labels === "imagenet" ? IMAGENET_LABELS : undefined,
    manifest,
    weightsId: await weightsId(manifest),
  };
  mark("load:id");
  if (!options.stream) {
    try {
      await feed();
    } catch (error) {
      network.dispose();
      throw error;
    }
    return new MobileNet(network, { ...init, lease, loaded: Promise.resolve() });
  }
  const loaded = feed().catch((error: Error) => {
    // Pending and later runs reject with the error; what was loaded is freed.
    network.fail(error);
    network.dispose();
    throw error;
  });
  return new MobileNet(network, { ...init, lease, loaded });
}

/**
 * Builds a MobileNet v1 from weights already in memory (Keras names to float32 values), for
 * custom or random weights.
 *
 * @throws {WeightsError} when a weight is missing or has the wrong size.
 */
export async function createMobileNet(
  weights: ReadonlyMap<string, Float32Array>,
  options: CreateMobileNetOptions = {},
): Promise<MobileNet> {
  const resize = checkResizeMode(options.resize ?? DEFAULT_RESIZE);
  const image = imageOptions(options);
  const precision = checkPrecision(options.precision);
  const arch = buildArchitecture(options);
  const lease = await acquireBackend({ threads: options.threads, simd: options.simd });
  let network: MobileNetNetwork | undefined;
  try {
    const int8 = int8Options(precision, lease, arch, options.int8);
    network = new MobileNetNetwork(arch, networkOptions(options.fused, int8));
    for (const [name, data] of weights) network.addWeight(name, data);
    network.checkComplete("the weights given");
  } catch (error) {
    network?.dispose();
    await lease.release();
    throw error;
  }
  return new MobileNet(network, {
    lease,
    resize,
    labels: options.labels ?? (arch.config.classes === 1000 ? IMAGENET_LABELS : undefined),
    loaded: Promise.resolve(),
    image,
  });
}

/**
 * A network's options: the float32 1x1 filters uploaded in the panel order of our kernels
 * (when they run) and adopted as their packed copies, so the load writes them once and the
 * first inference packs nothing; each depthwise-separable block as one call of our block
 * kernel; and the classifier (pooling and product) as one call of our head kernel.
 */
function networkOptions(fused: boolean | undefined, int8: Int8Options | undefined) {
  const kernels = activeKernels();
  return {
    fused,
    int8,
    packing: kernels?.filterPacking,
    separable: kernels?.separable,
    head: kernels?.head,
  };
}

/**
 * Checks a `precision` option.
 *
 * @throws {RangeError} for anything but "float32", "int8" or undefined.
 */
function checkPrecision(precision: unknown): "float32" | "int8" {
  if (precision === "float32" || precision === "int8") return precision;
  if (precision !== undefined) {
    throw new RangeError(`precision must be "float32" or "int8", got ${JSON.stringify(precision)}`);
  }
  const env = readEnv(PRECISION_ENV)?.trim();
  if (env === undefined || env === "" || env === "float32" || env === "int8") {
    return (env || "float32") as "float32" | "int8";
  }
  throw new RangeError(`${PRECISION_ENV} must be float32 or int8, got ${JSON.stringify(env)}`);
}

/**
 * The network's int8 options, or undefined when it runs float32: asked for float32, or the
 * backend has no int8 kernels. Without a calibration every layer gets {@linkcode RELU6_SCALE}
 * and no means; with one, the layers it has a scale for run int8 (the others float32).
 */
function int8Options(
  precision: "float32" | "int8",
  lease: BackendLease,
  arch: ReturnType<typeof buildArchitecture>,
  calibration: Pick<Int8Options, "scales" | "means" | "levels"> | undefined,
): Int8Options | undefined {
  const kernels = lease.info.int8?.kernels;
  if (precision !== "int8" || kernels === undefined || kernels === "none") return undefined;
  const scales = calibration?.scales ??
    Object.fromEntries(int8Layers(arch).map((l) => [l, RELU6_SCALE]));
  const means = calibration?.means ?? {};
  const levels = calibration?.levels ?? {};
  const layers = int8Layers(arch).filter((l) => scales[l] !== undefined);
  return {
    kernel: INT8_KERNEL,
    scales: Object.fromEntries(layers.map((l) => [l, scales[l]])),
    means: Object.fromEntries(layers.filter((l) => means[l]).map((l) => [l, means[l]])),
    levels: Object.fromEntries(layers.filter((l) => levels[l]).map((l) => [l, levels[l]])),
  };
}

/**
 * Checks the image options of a load.
 *
 * @throws {RangeError} for a bad `maxPixels` or `orientation`
 */
function imageOptions(options: { maxPixels?: number; orientation?: OrientationMode }) {
  return {
    maxPixels: checkMaxPixels(options.maxPixels),
    orientation: checkOrientationMode(options.orientation ?? "exif"),
  };
}
