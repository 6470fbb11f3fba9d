/**
 * The edge endpoint's settings, read once from named environment variables. Each variable is
 * read only when `--allow-env` grants it (never prompting), so a server started without it
 * runs on the defaults. The port is not here: `deno serve --port` (or the platform) owns it.
 *
 * | variable                          | default        | meaning                                          |
 * | --------------------------------- | -------------- | ------------------------------------------------ |
 * | `MOBILENET_EDGE_MODEL`            | `0.75_224`     | bundled model (`0.75_224`, `0.25_224`) or a path |
 * | `MOBILENET_EDGE_WEIGHTS_URL`      | (none)         | `http(s):` weights dir/manifest; wins over MODEL |
 * | `MOBILENET_EDGE_MAX_BODY_BYTES`   | 10485760       | largest request body (413 beyond)                |
 * | `MOBILENET_EDGE_MAX_PIXELS`       | 8388608        | the library's pixel budget (422 `TOO_LARGE`)      |
 * | `MOBILENET_EDGE_MAX_INFLIGHT`     | 2              | requests decoding or inferring at once           |
 * | `MOBILENET_EDGE_MAX_QUEUE`        | 16             | requests waiting for a slot (503 beyond)         |
 * | `MOBILENET_EDGE_RETRY_AFTER`      | 1              | seconds in `Retry-After` of a 503                |
 * | `MOBILENET_EDGE_BASE_PATH`        | (none)         | path prefix to strip, e.g. `/classify` (Supabase) |
 * | `MOBILENET_EDGE_THREADS`/`_SIMD`  | (library)      | backend threads and SIMD, read by the library    |
 *
 * @module
 */
import { DEFAULT_MAX_PIXELS } from "../mod.ts";
import { type EnvReader, readEnv } from "../src/_util.ts";

/** The endpoint's settings. */
export interface EdgeConfig {
  /** The bundled model name or weights path to serve. @default {"0.75_224"} */
  model: string;
  /** An `http(s):` URL of a weights directory or manifest; wins over `model`. */
  weightsUrl?: string;
  /** Largest accepted request body in bytes. @default {10485760} */
  maxBodyBytes: number;
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
   * A prefix the platform puts before the routes (Supabase passes `/<function name>/...`):
   * stripped before routing. "" for none. @default {""}
   */
  basePath: string;
}

/** The names of the variables {@linkcode readConfig} reads (for `--allow-env`). */
export const CONFIG_ENV = {
  model: "MOBILENET_EDGE_MODEL",
  weightsUrl: "MOBILENET_EDGE_WEIGHTS_URL",
  maxBodyBytes: "MOBILENET_EDGE_MAX_BODY_BYTES",
  maxPixels: "MOBILENET_EDGE_MAX_PIXELS",
  maxInflight: "MOBILENET_EDGE_MAX_INFLIGHT",
  maxQueue: "MOBILENET_EDGE_MAX_QUEUE",
  retryAfterSeconds: "MOBILENET_EDGE_RETRY_AFTER",
  basePath: "MOBILENET_EDGE_BASE_PATH",
} as const;

/** The defaults. */
export const DEFAULT_CONFIG: Readonly<EdgeConfig> = Object.freeze({
  model: "0.75_224",
  maxBodyBytes: 10 * 1024 * 1024,
  maxPixels: DEFAULT_MAX_PIXELS,
  maxInflight: 2,
  maxQueue: 16,
  retryAfterSeconds: 1,
  basePath: "",
});

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
  const model = env(CONFIG_ENV.model)?.trim() || d.model;
  return {
    model,
    weightsUrl: weightsUrl(env),
    maxBodyBytes: integer(env, CONFIG_ENV.maxBodyBytes, d.maxBodyBytes, 1),
    maxPixels: integer(env, CONFIG_ENV.maxPixels, d.maxPixels, 1),
    maxInflight: integer(env, CONFIG_ENV.maxInflight, d.maxInflight, 1),
    maxQueue: integer(env, CONFIG_ENV.maxQueue, d.maxQueue, 0),
    retryAfterSeconds: integer(env, CONFIG_ENV.retryAfterSeconds, d.retryAfterSeconds, 0),
    basePath: basePath(env),
  };
}
