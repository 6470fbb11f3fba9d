/**
 * Assembling a {@linkcode MobileNet}: start the backend, read the weights manifest, build the
 * architecture it describes, and stream the weights into the network.
 *
 * @module
 */
import { type ArchitectureOptions, buildArchitecture } from "./model/architecture.ts";
import { MobileNetNetwork } from "./model/mobilenet.ts";
import { MobileNet } from "./mobilenet.ts";
import { acquireBackend, type BackendLease } from "./backend/lease.ts";
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
}

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
  };
  const url = resolveModel(options.model);
  const head = options.head === undefined || options.head instanceof Head
    ? options.head
    : await Head.load(options.head);
  const lease = await acquireBackend({ threads: options.threads, simd: options.simd });
  let model;
  try {
    model = await assemble(url, checked, lease, options);
  } catch (error) {
    await lease.release();
    throw error;
  }
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
  checked: { resize: ResizeMode; image: ReturnType<typeof imageOptions> },
  lease: BackendLease,
  options: LoadMobileNetOptions,
): Promise<MobileNet> {
  // dispose() of a model still streaming its weights in aborts the downloads.
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const opened = await openWeights(url, { ...pickWeightsOptions(options), signal });
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
  const network = new MobileNetNetwork(arch, { fused: options.fused });
  // Only the shards holding tensors this network uses are read (a headless model skips the top).
  const used = new Set(arch.weights.map((w) => w.name));
  const feed = async () => {
    for await (const { entry, data } of opened.tensors((name) => used.has(name))) {
      network.addWeight(entry.name, data);
    }
    network.checkComplete(url.href);
  };
  const init = {
    stop: (reason: Error) => stop.abort(reason),
    ...checked,
    labels: config.labels === "imagenet" ? IMAGENET_LABELS : undefined,
    manifest,
    weightsId: await weightsId(manifest),
  };
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
  const arch = buildArchitecture(options);
  const lease = await acquireBackend({ threads: options.threads, simd: options.simd });
  const network = new MobileNetNetwork(arch, { fused: options.fused });
  try {
    for (const [name, data] of weights) network.addWeight(name, data);
    network.checkComplete("the weights given");
  } catch (error) {
    network.dispose();
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
