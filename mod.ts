/**
 * mobilenet-edge: MobileNet v1 (Keras' architecture, real ImageNet weights) on the TensorFlow.js
 * WASM backend, for Deno on small ARM boards and in edge functions.
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
 * Run with `--allow-read` (tfjs' WASM binaries in Deno's npm cache, the bundled weights, your
 * images) and `--allow-env` (`MOBILENET_EDGE_THREADS`, `MOBILENET_EDGE_SIMD`); add
 * `--allow-net=<host>` when the module, and so its bundled weights, come from a URL or JSR.
 *
 * @module
 */
export {
  createMobileNet,
  type CreateMobileNetOptions,
  DEFAULT_RESIZE,
  loadMobileNet,
  type LoadMobileNetOptions,
} from "./src/load.ts";
export {
  type BatchInput,
  type ClassifyDetailedOptions,
  type ClassifyOptions,
  type ClassifyResult,
  type ImageInput,
  type LayerSummary,
  MobileNet,
  type ModelSummary,
  type Prediction,
  type RawImage,
  type TensorLike,
  type Timings,
} from "./src/mobilenet.ts";
export {
  type BackendInfo,
  backendInfo,
  type Calibration,
  liveWorkerCount,
  onThreadsChange,
  setThreads,
  shutdownBackend as shutdown,
  SIMD_ENV,
  THREADS_ENV,
  type ThreadsChange,
  type WasmBinary,
} from "./src/backend/wasm.ts";
export {
  type Architecture,
  type ArchitectureConfig,
  type ArchitectureOptions,
  buildArchitecture,
  convParams,
  type ConvStep,
  depthwiseParams,
  formatSummary,
  type LayerKind,
  type LayerSpec,
  separableParams,
  type WeightSpec,
} from "./src/model/architecture.ts";
export { randomWeights } from "./src/model/random_weights.ts";
export { BUNDLED_MODELS, DEFAULT_MODEL } from "./src/bundled.ts";
export { IMAGENET_CLASSES, IMAGENET_LABELS, type ImageNetClass } from "./src/labels/imagenet.ts";
export type { ResizeMode, Zone } from "./src/image/preprocess.ts";
export { Head, type HeadJson } from "./src/head/head.ts";
export { HeadError, type HeadErrorCode } from "./src/head/errors.ts";
export { teach, type TeachOptions } from "./src/head/teach.ts";
export { DEFAULT_MAX_PIXELS } from "./src/image/budget.ts";
export type { OrientationMode } from "./src/image/orientation.ts";
export type { CacheOption, WeightsCache } from "./src/weights/cache.ts";
export type { LoadWeightsOptions } from "./src/weights/loader.ts";
export {
  FORMAT_NAME,
  type ModelConfig,
  type Quantization,
  type ShardEntry,
  type TensorEntry,
  type WeightsManifest,
} from "./src/weights/manifest.ts";
export type { RequestOptions } from "./src/weights/fetch_retry.ts";
export {
  formatProgress,
  type LoadProgressEvent,
  type ProgressCallback,
  type ProgressCounters,
} from "./src/weights/progress.ts";
export {
  ImageDecodeError,
  type ImageDecodeErrorCode,
  ModelDisposedError,
  type ModelDisposedErrorCode,
  UnknownModelError,
  WeightsError,
  type WeightsErrorCode,
} from "./src/errors.ts";
export {
  Backoff,
  type BackoffOptions,
  type Clock,
  createSource,
  type CreateSourceOptions,
  type CredentialOptions,
  type Credentials,
  type EventTimings,
  type FetchLike,
  formatLogRecord,
  type Frame,
  HttpSource,
  type HttpSourceOptions,
  INGEST_RESIZE,
  type IngestErrorCode,
  type IngestEvent,
  type IngestOptions,
  IngestSourceError,
  type IngestStats,
  JpegSplitter,
  JsonLinesSink,
  LatestFrameScheduler,
  type Logger,
  type LogLevel,
  type LogRecord,
  MqttSink,
  type MqttSinkOptions,
  MqttSource,
  type MqttSourceOptions,
  multipartBoundary,
  MultipartParser,
  type Part,
  redactingLogger,
  Redactor,
  redactUrl,
  type RetryQueueOptions,
  runIngest,
  type Scheduled,
  type Sink,
  type Source,
  type SourceContext,
  type SourceStats,
  StreamSource,
  type StreamSourceOptions,
  systemClock,
  TOKEN_ENV,
  USER_ENV,
  type WatchDirOptions,
  WatchDirSource,
  type WebhookOptions,
  WebhookSink,
} from "./src/ingest/mod.ts";
