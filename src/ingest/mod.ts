/**
 * Camera ingest: sources (HTTP snapshots, MJPEG, stdin, watched folders, MQTT), a
 * latest-frame-wins scheduler, sinks (JSON lines, webhook, MQTT), all on the same
 * `loadMobileNet` / `classifyDetailed` / `embed` as every other caller.
 *
 * @example
 * ```ts ignore
 * import { createSource, JsonLinesSink, loadMobileNet, runIngest } from "../../mod.ts";
 * const model = await loadMobileNet();
 * const controller = new AbortController();
 * Deno.addSignalListener("SIGINT", () => controller.abort());
 * await runIngest({
 *   model,
 *   sources: [createSource("http://192.0.2.10/snapshot.jpg", { everyMs: 2000 })],
 *   sinks: [new JsonLinesSink()],
 *   signal: controller.signal,
 * });
 * await model.dispose();
 * ```
 *
 * @module
 */
export { type IngestOptions, type IngestStats, runIngest, type SourceStats } from "./ingest.ts";
export { INGEST_RESIZE } from "./defaults.ts";
export type { EventTimings, IngestEvent } from "./event.ts";
export type { Frame, Source, SourceContext } from "./types.ts";
export { type Clock, systemClock } from "./clock.ts";
export { Backoff, type BackoffOptions } from "./backoff.ts";
export {
  formatLogRecord,
  type Logger,
  type LogLevel,
  type LogRecord,
  redactingLogger,
} from "./log.ts";
export { Redactor, redactUrl } from "./redact.ts";
export { type IngestErrorCode, IngestSourceError } from "./errors.ts";
export { LatestFrameScheduler, type Scheduled } from "./scheduler.ts";
export { createSource, type CreateSourceOptions } from "./sources/create.ts";
export { HttpSource, type HttpSourceOptions } from "./sources/http_snapshot.ts";
export { StreamSource, type StreamSourceOptions } from "./sources/stdin.ts";
export { type WatchDirOptions, WatchDirSource } from "./sources/watch_dir.ts";
export { MqttSource, type MqttSourceOptions } from "./sources/mqtt.ts";
export { JpegSplitter } from "./sources/jpeg_splitter.ts";
export { multipartBoundary, MultipartParser, type Part } from "./sources/multipart.ts";
export {
  type CredentialOptions,
  type Credentials,
  TOKEN_ENV,
  USER_ENV,
} from "./auth/credentials.ts";
export type { FetchLike } from "./auth/http_auth.ts";
export type { RetryQueueOptions } from "./sinks/retry_queue.ts";
export type { Sink } from "./sinks/sink.ts";
export { JsonLinesSink } from "./sinks/stdout.ts";
export { type WebhookOptions, WebhookSink } from "./sinks/webhook.ts";
export { MqttSink, type MqttSinkOptions } from "./sinks/mqtt.ts";
