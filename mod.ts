/**
 * mobilenet-edge: MobileNet v1 (Keras' architecture, real ImageNet weights) on the TensorFlow.js
 * WASM backend, for Deno on small ARM boards and in edge functions.
 *
 * Run with `--allow-read` (tfjs' WASM binaries in Deno's npm cache, the bundled weights, your
 * images). `--allow-env` is optional (without it the defaults apply): the library reads
 * `MOBILENET_EDGE_THREADS`, `MOBILENET_EDGE_SIMD`, `MOBILENET_EDGE_KERNELS`,
 * `MOBILENET_EDGE_PRECISION` and `MOBILENET_EDGE_SMALL_BOARD` (defaults for `threads`, `simd`,
 * the kernels, `precision` and the small-board preset) and `MOBILENET_EDGE_HUGE_PAGES` (`0`: no
 * transparent huge pages for the WASM memories, which it asks Linux for only with `--allow-ffi`),
 * and imagescript's GIF and lenient-JPEG decoders read `IMAGESCRIPT_WASM_SIMD` when first used.
 * Add `--allow-net=<host>` when the module, and so its bundled weights, come from a URL or JSR.
 * Camera ingest (sources, sinks, the latest-frame loop) is the `./ingest` entry.
 *
 * @example Classify a photo
 * ```ts
 * import { loadMobileNet } from "./mod.ts";
 *
 * const model = await loadMobileNet(); // MobileNet v1 0.75/224, bundled weights
 * const bytes = await Deno.readFile("photo.jpg");
 * for (const p of await model.classify(bytes, { topK: 3 })) {
 *   console.log(p.index, p.label, p.probability.toFixed(3));
 * }
 * await model.dispose();
 * ```
 *
 * @module
 */

// The model
export { loadMobileNet, type LoadMobileNetOptions } from "./src/load.ts";
export { MobileNet } from "./src/mobilenet.ts";
export type {
  BatchInput,
  ClassifyDetailedOptions,
  ClassifyOptions,
  ClassifyResult,
  ImageInput,
  LayerSummary,
  ModelSummary,
  Prediction,
  RawImage,
  TensorLike,
  Timings,
} from "./src/mobilenet.ts";
export { BUNDLED_MODELS } from "./src/bundled.ts";
export { createMobileNet, type CreateMobileNetOptions } from "./src/load.ts";
export { randomWeights } from "./src/model/random_weights.ts";
export type {
  Architecture,
  ArchitectureConfig,
  ArchitectureOptions,
  ConvStep,
  LayerKind,
  LayerSpec,
  WeightSpec,
} from "./src/model/architecture.ts";

// Images
export { decodeImage, type DecodeOptions } from "./src/image/decode.ts";
export type { Pixels } from "./src/image/pixels.ts";
export type { ResizeMode, Zone } from "./src/image/preprocess.ts";
export { DEFAULT_RESIZE } from "./src/load.ts";
export type { OrientationMode } from "./src/image/orientation.ts";
export { DEFAULT_MAX_PIXELS } from "./src/image/budget.ts";

// Custom classes (heads)
export { teach, type TeachOptions } from "./src/head/teach.ts";
export { Head, type HeadJson } from "./src/head/head.ts";
export { HeadError, type HeadErrorCode } from "./src/head/errors.ts";

// Errors
export {
  CodedError,
  ImageDecodeError,
  type ImageDecodeErrorCode,
  ModelDisposedError,
  UnknownModelError,
  WeightsError,
  type WeightsErrorCode,
} from "./src/errors.ts";

// The backend
export {
  type BackendInfo,
  backendInfo,
  type Calibration,
  setThreads,
  shutdownBackend as shutdown,
  type WasmBinary,
} from "./src/backend/wasm.ts";

// Loading weights
export type { CacheOption, WeightsCache } from "./src/weights/cache.ts";
export type { LoadWeightsOptions } from "./src/weights/loader.ts";
export type { RequestOptions } from "./src/weights/fetch_retry.ts";
export type {
  LoadProgressEvent,
  ProgressCallback,
  ProgressCounters,
} from "./src/weights/progress.ts";
export type {
  ModelConfig,
  Quantization,
  ShardEntry,
  TensorEntry,
  WeightsManifest,
} from "./src/weights/manifest.ts";
