/**
 * The edge endpoint's settings, read once from named environment variables. Each variable is
 * read only when `--allow-env` grants it (never prompting), so a server started without it
 * runs on the defaults. The port is not here: `deno serve --port` (or the platform) owns it.
 *
 * | variable                            | default      | meaning                                           |
 * | ----------------------------------- | ------------ | ------------------------------------------------- |
 * | `MOBILENET_EDGE_MODEL`              | `0.75_224`   | bundled model (`0.75_224`, `0.25_224`) or a path  |
 * | `MOBILENET_EDGE_HEADS`              | (none)       | a directory of head files `NAME.json` (c)         |
 * | `MOBILENET_EDGE_RESIZE`             | center-crop  | how images are fitted: a library resize mode (d)  |
 * | `MOBILENET_EDGE_PRECISION`          | `float32`    | `float32` or `int8` (the library's `precision`)   |
 * | `MOBILENET_EDGE_WEIGHTS_URL`        | (none)       | `http(s):` weights dir/manifest; wins over MODEL  |
 * | `MOBILENET_EDGE_MAX_BODY_BYTES`     | 10485760     | largest request body (413 beyond)                 |
 * | `MOBILENET_EDGE_MAX_BUFFERED_BYTES` | 33554432 (a) | bytes all bodies hold at once (503 beyond)        |
 * | `MOBILENET_EDGE_BODY_IDLE_MS`       | 10000        | longest wait for the next body bytes (408)        |
 * | `MOBILENET_EDGE_BODY_TIMEOUT_MS`    | 60000        | longest time to receive a whole body (408)        |
 * | `MOBILENET_EDGE_MAX_PIXELS`         | 8388608      | the library's pixel budget (422 `TOO_LARGE`)      |
 * | `MOBILENET_EDGE_MAX_INFLIGHT`       | 2            | requests decoding or inferring at once            |
 * | `MOBILENET_EDGE_MAX_QUEUE`          | 16           | requests waiting for a slot (503 beyond)          |
 * | `MOBILENET_EDGE_RETRY_AFTER`        | 1            | seconds in `Retry-After` of a 503                 |
 * | `MOBILENET_EDGE_DECODE`             | `worker`     | `worker` (one decode worker) or `inline` (b)      |
 * | `MOBILENET_EDGE_DECODE_TIMEOUT_MS`  | 30000        | a worker decode running longer is stopped (422)   |
 * | `MOBILENET_EDGE_BASE_PATH`          | (none)       | path prefix to strip, e.g. `/classify` (Supabase) |
 * | `MOBILENET_EDGE_THREADS`/`_SIMD`    | (library)    | backend threads and SIMD, read by the library     |
 *
 * (a) or `MOBILENET_EDGE_MAX_BODY_BYTES` when that is larger; a smaller value fails at start.
 * (b) `worker` decodes on the event loop until the worker is ready, and for good where the
 * runtime has no `Worker` (Supabase's edge runtime, Deno Deploy). See `decoder.ts`.
 * (c) served as `POST /v1/classify?head=NAME`; read and checked at start (see `heads.ts`).
 * (d) `center-crop`, `stretch` (camera frames: the whole frame) or `center-crop-87.5`; a head's
 * own mode wins over it, and `?resize=` over both.
 *
 * Every value is checked here, at start: a malformed one throws a `RangeError` naming the
 * variable, which `main.ts` prints as one line before it exits.
 *
 * @module
 */
import { BUNDLED_MODELS, DEFAULT_MAX_PIXELS, DEFAULT_RESIZE, type ResizeMode } from "../mod.ts";
import { type EnvReader, readEnv } from "../src/_util.ts";

/** The endpoint's settings. */
export interface EdgeConfig {
  /** The bundled model name or weights path to serve. @default {"0.75_224"} */
  model: string;
  /** A directory of head files (`NAME.json`) served as `?head=NAME`; none when absent. */
  heads?: string;
  /**
   * How images are fitted to the model's square input, unless a head or the request says
   * otherwise. @default {"center-crop"}
   */
  resize: ResizeMode;
  /**
   * What the 1x1 convolutions and the classifier compute in (`precision` of `loadMobileNet`).
   * @default {"float32"}
   */
  precision: "float32" | "int8";
  /** An `http(s):` URL of a weights directory or manifest; wins over `model`. */
  weightsUrl?: string;
  /** Largest accepted request body in bytes. @default {10485760} */
  maxBodyBytes: number;
  /**
   * Most bytes of request bodies held at once, by every request between its first body byte and
   * its answer; beyond that, 503 with `Retry-After`. At least `maxBodyBytes`.
   * @default {33554432}
   */
  maxBufferedBytes: number;
  /** Longest wait, in milliseconds, for the next bytes of a body (408 beyond). @default {10000} */
  bodyIdleMs: number;
  /** Longest time, in milliseconds, to receive a whole body (408 beyond). @default {60000} */
  bodyTimeoutMs: number;
  /**
   * The library's pixel budget (`maxPixels` of `loadMobileNet`): images whose decode would hold
   * more pixels are refused from their header. @default {8388608} (`DEFAULT_MAX_PIXELS`)
   */
  maxPixels: number;
  /** Requests allowed to decode/infer at the same time. @default {2} */
  maxInflight: number;
  /** Requests allowed to wait for a slot; beyond that, 503. @default {16} */
  maxQueue: number;
  /** Seconds a client is told to wait after a 503. @default {1} */
  retryAfterSeconds: number;
  /**
   * Where images are decoded: `"worker"`, in one worker shared by all requests (the event loop
   * stays free; on the event loop until it is ready, and where there is no `Worker`), or
   * `"inline"`, on the event loop. @default {"worker"}
   */
  decode: DecodeMode;
  /** A worker decode running longer than this many milliseconds is stopped. @default {30000} */
  decodeTimeoutMs: number;
  /**
   * A prefix the platform puts before the routes (Supabase passes `/<function name>/...`):
   * stripped before routing. "" for none. @default {""}
   */
  basePath: string;
}

/** Where images are decoded (see {@linkcode EdgeConfig.decode}). */
export type DecodeMode = "worker" | "inline";

/** The names of the variables {@linkcode readConfig} reads (for `--allow-env`). */
export const CONFIG_ENV = {
  model: "MOBILENET_EDGE_MODEL",
  heads: "MOBILENET_EDGE_HEADS",
  resize: "MOBILENET_EDGE_RESIZE",
  precision: "MOBILENET_EDGE_PRECISION",
  weightsUrl: "MOBILENET_EDGE_WEIGHTS_URL",
  maxBodyBytes: "MOBILENET_EDGE_MAX_BODY_BYTES",
  maxBufferedBytes: "MOBILENET_EDGE_MAX_BUFFERED_BYTES",
  bodyIdleMs: "MOBILENET_EDGE_BODY_IDLE_MS",
  bodyTimeoutMs: "MOBILENET_EDGE_BODY_TIMEOUT_MS",
  maxPixels: "MOBILENET_EDGE_MAX_PIXELS",
  maxInflight: "MOBILENET_EDGE_MAX_INFLIGHT",
  maxQueue: "MOBILENET_EDGE_MAX_QUEUE",
  retryAfterSeconds: "MOBILENET_EDGE_RETRY_AFTER",
  decode: "MOBILENET_EDGE_DECODE",
  decodeTimeoutMs: "MOBILENET_EDGE_DECODE_TIMEOUT_MS",
  basePath: "MOBILENET_EDGE_BASE_PATH",
} as const;

/** The defaults. */
export const DEFAULT_CONFIG: Readonly<EdgeConfig> = Object.freeze({
  model: "0.75_224",
  resize: DEFAULT_RESIZE,
  precision: "float32",
  maxBodyBytes: 10 * 1024 * 1024,
  maxBufferedBytes: 32 * 1024 * 1024,
  bodyIdleMs: 10_000,
  bodyTimeoutMs: 60_000,
  maxPixels: DEFAULT_MAX_PIXELS,
  maxInflight: 2,
  maxQueue: 16,
  retryAfterSeconds: 1,
  decode: "worker",
  decodeTimeoutMs: 30_000,
  basePath: "",
});

/** The library's resize modes (a mode the library adds fails to type-check here until listed). */
const RESIZE_MODES = {
  "center-crop": true,
  stretch: true,
  "center-crop-87.5": true,
} as const satisfies Record<ResizeMode, true>;

/** The resize modes the endpoint takes (`MOBILENET_EDGE_RESIZE`, `?resize=`). */
export const RESIZE_NAMES: readonly ResizeMode[] = Object.keys(RESIZE_MODES) as ResizeMode[];

/** Whether `value` is one of {@linkcode RESIZE_NAMES}. */
export function isResizeMode(value: string): value is ResizeMode {
  return Object.hasOwn(RESIZE_MODES, value);
}

function resize(env: EnvReader): ResizeMode {
  const raw = env(CONFIG_ENV.resize)?.trim() || DEFAULT_CONFIG.resize;
  if (!isResizeMode(raw)) {
    throw new RangeError(
      `${CONFIG_ENV.resize} must be one of ${RESIZE_NAMES.join(", ")}, got ${JSON.stringify(raw)}`,
    );
  }
  return raw;
}

/**
 * The model to serve: a bundled name (also `mobilenet_v1_<name>`), or what the library takes
 * for a location (a path with a slash, a `.json` file, a relative path, a URL).
 */
function model(env: EnvReader): string {
  const raw = env(CONFIG_ENV.model)?.trim() || DEFAULT_CONFIG.model;
  const bundled = raw.replace(/^mobilenet_v1_/, "") in BUNDLED_MODELS;
  const location = /^(https?|file):/i.test(raw) || /[\\/]/.test(raw) || raw.endsWith(".json") ||
    raw.startsWith(".");
  if (!bundled && !location) {
    throw new RangeError(
      `${CONFIG_ENV.model} must be ${Object.keys(BUNDLED_MODELS).join(", ")} or the path of a ` +
        `weights directory or manifest.json, got ${JSON.stringify(raw)}`,
    );
  }
  return raw;
}

function integer(env: EnvReader, name: string, fallback: number, min: number): number {
  const raw = env(name)?.trim();
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function weightsUrl(env: EnvReader): string | undefined {
  const raw = env(CONFIG_ENV.weightsUrl)?.trim();
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new RangeError(`${CONFIG_ENV.weightsUrl} must be an http(s) URL, got ${raw}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new RangeError(`${CONFIG_ENV.weightsUrl} must be an http(s) URL, got ${raw}`);
  }
  return url.href;
}

function precision(env: EnvReader): "float32" | "int8" {
  const raw = env(CONFIG_ENV.precision)?.trim() || DEFAULT_CONFIG.precision;
  if (raw !== "float32" && raw !== "int8") {
    throw new RangeError(
      `${CONFIG_ENV.precision} must be float32 or int8, got ${JSON.stringify(raw)}`,
    );
  }
  return raw;
}

function decodeMode(env: EnvReader): DecodeMode {
  const raw = env(CONFIG_ENV.decode)?.trim() || DEFAULT_CONFIG.decode;
  if (raw !== "worker" && raw !== "inline") {
    throw new RangeError(
      `${CONFIG_ENV.decode} must be worker or inline, got ${JSON.stringify(raw)}`,
    );
  }
  return raw;
}

/** The bodies' byte budget: by default 32 MiB or one largest body; never under one. */
function maxBufferedBytes(env: EnvReader, maxBodyBytes: number): number {
  const name = CONFIG_ENV.maxBufferedBytes;
  const fallback = Math.max(DEFAULT_CONFIG.maxBufferedBytes, maxBodyBytes);
  const value = integer(env, name, fallback, 1);
  if (value < maxBodyBytes) {
    throw new RangeError(
      `${name} (${value}) must be at least ${CONFIG_ENV.maxBodyBytes} (${maxBodyBytes})`,
    );
  }
  return value;
}

function basePath(env: EnvReader): string {
  const raw = env(CONFIG_ENV.basePath)?.trim() ?? "";
  const path = raw.replace(/\/+$/, "");
  if (path !== "" && !/^\/[A-Za-z0-9._~\-\/]*$/.test(path)) {
    throw new RangeError(`${CONFIG_ENV.basePath} must be a path like /classify, got ${raw}`);
  }
  return path;
}

/**
 * Reads the settings once (at start-up).
 *
 * @throws {RangeError} naming the variable when a value is malformed, so a misconfigured
 * server fails at start rather than on the first request.
 * @example
 * ```ts
 * import { readConfig } from "./config.ts";
 * const config = readConfig((name) => name === "MOBILENET_EDGE_MAX_QUEUE" ? "4" : undefined);
 * console.log(config.maxQueue, config.model); // 4 "0.75_224"
 * ```
 */
export function readConfig(env: EnvReader = readEnv): EdgeConfig {
  const d = DEFAULT_CONFIG;
  const maxBodyBytes = integer(env, CONFIG_ENV.maxBodyBytes, d.maxBodyBytes, 1);
  return {
    model: model(env),
    heads: env(CONFIG_ENV.heads)?.trim() || undefined,
    resize: resize(env),
    precision: precision(env),
    weightsUrl: weightsUrl(env),
    maxBodyBytes,
    maxBufferedBytes: maxBufferedBytes(env, maxBodyBytes),
    bodyIdleMs: integer(env, CONFIG_ENV.bodyIdleMs, d.bodyIdleMs, 1),
    bodyTimeoutMs: integer(env, CONFIG_ENV.bodyTimeoutMs, d.bodyTimeoutMs, 1),
    maxPixels: integer(env, CONFIG_ENV.maxPixels, d.maxPixels, 1),
    maxInflight: integer(env, CONFIG_ENV.maxInflight, d.maxInflight, 1),
    maxQueue: integer(env, CONFIG_ENV.maxQueue, d.maxQueue, 0),
    retryAfterSeconds: integer(env, CONFIG_ENV.retryAfterSeconds, d.retryAfterSeconds, 0),
    decode: decodeMode(env),
    decodeTimeoutMs: integer(env, CONFIG_ENV.decodeTimeoutMs, d.decodeTimeoutMs, 1),
    basePath: basePath(env),
  };
}
