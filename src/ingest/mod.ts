/**
 * Camera ingest: sources (HTTP snapshots, MJPEG, stdin, watched folders, MQTT), a
 * latest-frame-wins loop, and sinks (JSON lines, webhook, MQTT), all on the same
 * `loadMobileNet` / `classifyDetailed` / `embed` as every other caller. `deno task ingest` is
 * this module's command line.
 *
 * Permissions: `--allow-net` for the cameras, the broker and the webhook; `--allow-read` for a
 * watched folder (and what `mod.ts` needs); `--allow-env` for the credentials
 * (`MOBILENET_EDGE_CAMERA_USER`, `MOBILENET_EDGE_CAMERA_TOKEN`) and the library's settings.
 *
 * @example Classify an HTTP snapshot every 2 s, one JSON line per frame
 * ```ts ignore
 * import { loadMobileNet } from "../../mod.ts";
 * import { createSource, JsonLinesSink, runIngest } from "./mod.ts";
 *
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

// The loop
export { type IngestOptions, type IngestStats, runIngest, type SourceStats } from "./ingest.ts";
export type { EventTimings, IngestEvent } from "./event.ts";
export type { Camera, CameraInput, CameraOptions } from "./camera.ts";
export type { CollectOptions } from "./collect.ts";
export { INGEST_RESIZE } from "./defaults.ts";

// Sources
export { createSource, type CreateSourceOptions } from "./sources/create.ts";
export { HttpSource, type HttpSourceOptions } from "./sources/http_snapshot.ts";
export { MqttSource, type MqttSourceOptions } from "./sources/mqtt.ts";
export { type WatchDirOptions, WatchDirSource } from "./sources/watch_dir.ts";
export { StreamSource, type StreamSourceOptions } from "./sources/stdin.ts";
export type { Frame, Source, SourceContext } from "./types.ts";
export type { BackoffOptions, Clock } from "../clock.ts";

// Sinks
export type { Sink } from "./sinks/sink.ts";
export { JsonLinesSink } from "./sinks/stdout.ts";
export { type WebhookOptions, WebhookSink } from "./sinks/webhook.ts";
export { MqttSink, type MqttSinkOptions } from "./sinks/mqtt.ts";
export type { RetryQueueOptions } from "./sinks/retry_queue.ts";

// Errors, credentials and logs
export { type IngestErrorCode, IngestSourceError } from "./errors.ts";
export {
  type CredentialOptions,
  type Credentials,
  TOKEN_ENV,
  USER_ENV,
} from "./auth/credentials.ts";
export type { FetchLike } from "./auth/http_auth.ts";
export type { Logger, LogLevel, LogRecord } from "./log.ts";
// The type of `CreateSourceOptions.redactor` only: the class stays internal.
export type { Redactor } from "./redact.ts";
