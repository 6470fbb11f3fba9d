/**
 * The HTTP handler of the edge endpoint: routing, limits and error mapping over the library.
 *
 * | route               | answer                                                             |
 * | ------------------- | ------------------------------------------------------------------ |
 * | `GET /`             | the page to try it                                                 |
 * | `GET /healthz`      | 200 once the weights are in; 503 while loading or after a failure  |
 * | `GET /v1/models`    | the served model (id, input size, classes, label set) and heads    |
 * | `POST /v1/classify` | top-K predictions (`?top=`, default 5; `?head=`, `?resize=`)       |
 * | `POST /v1/embed`    | the pooled feature vector                                          |
 * | `GET /favicon.ico`  | 204 (the page carries its icon inline)                             |
 *
 * Every `GET` route also answers `HEAD`, with the `GET`'s status, headers and `Content-Length`.
 * Probabilities are rounded to 6 decimals and times to 2, as `deno task classify --json` prints
 * them; `timings.inferMs` and `timings.inferenceMs` (the CLI's and ingest's name) are the same
 * value.
 *
 * It never fetches a URL a client gives: images come only in the request body.
 *
 * A request to classify or embed goes: headers checked (415/413/400), the model awaited (no slot
 * held), the body read whole within the limits (size, time, and the bodies' byte budget), then
 * an inference slot taken (so a slow client never holds one), the image decoded (in the decode
 * worker, see `decoder.ts`) and run. `/healthz` waits on nothing: not a slot, not the model, not
 * a body, and with the decode worker not a decode either.
 *
 * @module
 */
import {
  backendInfo,
  BUNDLED_MODELS,
  type DecodeOptions,
  type MobileNet,
  type Prediction,
  type ResizeMode,
} from "../mod.ts";
import { type EdgeConfig, isResizeMode, RESIZE_NAMES } from "./config.ts";
import { checkHeaders, readImage } from "./body.ts";
import { ByteBudget } from "./budget.ts";
import { type Decoded, type ImageDecoder, InlineDecoder } from "./decoder.ts";
import { errorResponse, HttpError, json, overloaded } from "./errors.ts";
import { HeadSet } from "./heads.ts";
import { Limiter } from "./limiter.ts";
import type { ModelHolder } from "./model.ts";
import { PAGE_HTML } from "./page.ts";
import { round } from "../src/_util.ts";

/** What a handler needs. */
export interface HandlerOptions {
  /** The settings (limits). */
  config: EdgeConfig;
  /** The shared model. */
  models: ModelHolder;
  /** Admission control; one from `config.maxInflight`/`maxQueue` when absent. */
  limiter?: Limiter;
  /** The bodies' byte budget; one of `config.maxBufferedBytes` when absent. */
  buffers?: ByteBudget;
  /**
   * Where images are decoded; on the event loop when absent (`main.ts` passes
   * `createDecoder(config.decode, config.decodeTimeoutMs)`).
   */
  decoder?: ImageDecoder;
  /** The heads served as `?head=NAME`; none when absent. */
  heads?: HeadSet;
}

/** A request handler for `Deno.serve` / `deno serve`. */
export type Handler = (request: Request) => Promise<Response>;

interface Context {
  config: EdgeConfig;
  models: ModelHolder;
  limiter: Limiter;
  buffers: ByteBudget;
  decoder: ImageDecoder;
  heads: HeadSet;
}

type Route = (request: Request, url: URL, ctx: Context) => Promise<Response>;

const ROUTES: Readonly<Record<string, Readonly<Record<string, Route>>>> = {
  "/": { GET: page },
  "/healthz": { GET: health },
  "/v1/models": { GET: models },
  "/v1/classify": { POST: classify },
  "/v1/embed": { POST: embed },
  "/favicon.ico": { GET: favicon },
};

/**
 * Creates the handler.
 *
 * @example
 * ```ts
 * import { loadMobileNet } from "../mod.ts";
 * import { readConfig } from "./config.ts";
 * import { createHandler } from "./handler.ts";
 * import { ModelHolder } from "./model.ts";
 * const models = new ModelHolder("0.25_224", () => loadMobileNet({ model: "0.25_224" }));
 * const handler = createHandler({ config: readConfig(() => undefined), models });
 * const response = await handler(new Request("http://localhost/healthz"));
 * console.log(response.status); // 200 once loaded
 * await models.dispose();
 * ```
 */
export function createHandler(options: HandlerOptions): Handler {
  const { config, models } = options;
  const ctx: Context = {
    config,
    models,
    limiter: options.limiter ?? new Limiter(config.maxInflight, config.maxQueue),
    buffers: options.buffers ?? new ByteBudget(config.maxBufferedBytes),
    decoder: options.decoder ?? new InlineDecoder(),
    heads: options.heads ?? new HeadSet(),
  };
  return async (request) => {
    try {
      return await dispatch(request, ctx);
    } catch (error) {
      return errorResponse(error, `${request.method} ${new URL(request.url).pathname}`);
    }
  };
}

async function dispatch(request: Request, ctx: Context): Promise<Response> {
  const url = new URL(request.url);
  const path = routePath(url.pathname, ctx.config.basePath);
  const methods = path === undefined ? undefined : ROUTES[path];
  if (!methods) {
    throw new HttpError(404, "NOT_FOUND", `no route ${url.pathname}; see GET /`);
  }
  const head = request.method === "HEAD" && methods.GET;
  const route = head ? methods.GET : methods[request.method];
  if (!route) {
    const allow = Object.keys(methods).flatMap((m) => m === "GET" ? ["GET", "HEAD"] : [m]);
    throw new HttpError(
      405,
      "METHOD_NOT_ALLOWED",
      `${request.method} is not allowed on ${path}; use ${allow.join(" or ")}`,
      { allow: allow.join(", ") },
    );
  }
  const response = await route(request, url, ctx);
  return head ? await headResponse(response) : response;
}

/** The answer to `HEAD`: the `GET`'s status and headers, its body's length, and no body. */
async function headResponse(response: Response): Promise<Response> {
  const length = (await response.arrayBuffer()).byteLength;
  const headers = new Headers(response.headers);
  headers.set("content-length", String(length));
  return new Response(null, { status: response.status, headers });
}

/** The route of a path under `basePath` ("/" for the base itself), or undefined outside it. */
export function routePath(pathname: string, basePath: string): string | undefined {
  if (basePath === "") return pathname;
  if (pathname === basePath) return "/";
  return pathname.startsWith(`${basePath}/`) ? pathname.slice(basePath.length) : undefined;
}

function page(): Promise<Response> {
  return Promise.resolve(
    new Response(PAGE_HTML, {
      headers: {
        "content-type": "text/html; charset=utf-8",
        "content-security-policy":
          "default-src 'self'; img-src 'self' blob: data:; style-src 'unsafe-inline'; " +
          "script-src 'unsafe-inline'; media-src 'self' blob:",
        "x-content-type-options": "nosniff",
      },
    }),
  );
}

/** Browsers ask for it; the page carries its icon inline. */
function favicon(): Promise<Response> {
  return Promise.resolve(
    new Response(null, { status: 204, headers: { "cache-control": "public, max-age=86400" } }),
  );
}

function health(_request: Request, _url: URL, ctx: Context): Promise<Response> {
  const { models, limiter, buffers } = ctx;
  const body = {
    status: models.status,
    model: models.id,
    ...(models.status === "failed" ? { reason: models.reason } : {}),
    ...(models.loadMs !== undefined ? { loadMs: ms(models.loadMs) } : {}),
    inflight: limiter.active,
    queued: limiter.queued,
    bodies: { reading: buffers.holds, bytes: buffers.held },
    decoder: ctx.decoder.where,
    backend: backendSummary(),
    memory: memorySummary(),
  };
  return Promise.resolve(json(models.status === "ready" ? 200 : 503, body));
}

/** The isolate's memory in MiB (RSS, JS heap, and external: ArrayBuffers and WASM memories). */
function memorySummary() {
  const m = Deno.memoryUsage();
  const mib = (bytes: number) => round(bytes / 1048576, 2);
  return { rssMiB: mib(m.rss), heapUsedMiB: mib(m.heapUsed), externalMiB: mib(m.external) };
}

function backendSummary() {
  const info = backendInfo();
  if (!info) return undefined;
  const { binary, simd, threads, maxThreads, kernels, int8, reason } = info;
  return { binary, simd, threads, maxThreads, kernels, int8: int8?.kernels, reason };
}

async function models(_request: Request, _url: URL, ctx: Context): Promise<Response> {
  const model = await ctx.models.get();
  const c = model.architecture.config;
  const summary = model.summary();
  return json(200, {
    models: [{
      id: ctx.models.id,
      default: true,
      architecture: "mobilenet_v1",
      alpha: c.alpha,
      depthMultiplier: c.depthMultiplier,
      inputSize: [c.resolution, c.resolution, 3],
      classes: c.includeTop ? c.classes : 0,
      labelSet: c.includeTop && c.classes === 1000 ? "imagenet" : "none",
      featureSize: model.featureSize,
      precision: model.precision,
      resize: model.resize,
      resizeModes: RESIZE_NAMES,
      params: summary.totalParams,
      multiplyAdds: summary.totalMacs,
    }],
    // The variants this build carries; MOBILENET_EDGE_MODEL picks the one served.
    bundled: Object.keys(BUNDLED_MODELS),
    // The heads MOBILENET_EDGE_HEADS serves, as `?head=NAME`.
    heads: ctx.heads.describe(),
  });
}

/** Parses `?top=`: an integer from 1 to `classes` (default 5). */
export function parseTop(raw: string | null, classes: number): number {
  if (raw === null || raw === "") return Math.min(5, classes);
  const top = Number(raw);
  if (!/^\d+$/.test(raw) || top < 1 || top > classes) {
    throw new HttpError(
      400,
      "BAD_TOP",
      `top must be an integer from 1 to ${classes}, got ${JSON.stringify(raw)}`,
    );
  }
  return top;
}

/** Parses `?resize=`: a resize mode, or `undefined` (the head's, else the server's). */
export function parseResize(raw: string | null): ResizeMode | undefined {
  if (raw === null || raw === "") return undefined;
  if (!isResizeMode(raw)) {
    throw new HttpError(
      400,
      "BAD_RESIZE",
      `resize must be one of ${RESIZE_NAMES.join(", ")}, got ${JSON.stringify(raw.slice(0, 64))}`,
    );
  }
  return raw;
}

/** Checks the request's headers, then waits for the model (a wait that takes no slot). */
async function modelFor(request: Request, ctx: Context): Promise<MobileNet> {
  checkHeaders(request, ctx.config.maxBodyBytes);
  return await ctx.models.forWork();
}

/** What a route does with the decoded image. */
type Work = (decoded: Decoded, bytes: number, queueMs: number) => Promise<Response>;

/**
 * Reads the body within the limits (holding its bytes in the budget until the answer), then
 * takes a slot of the limiter (503 with Retry-After when the queue is full), decodes the image
 * with `decode` (the options of the model, or head view, and resize mode that will run it), and
 * runs `work` on it in the slot.
 */
async function withImage(
  request: Request,
  ctx: Context,
  decode: DecodeOptions,
  work: Work,
): Promise<Response> {
  const hold = ctx.buffers.hold();
  try {
    const bytes = await readImage(request, ctx.config, hold);
    const size = bytes.byteLength;
    const t0 = performance.now();
    const release = await ctx.limiter.acquire();
    if (!release) {
      const { maxActive, maxQueue } = ctx.limiter;
      throw overloaded(
        `${maxActive} requests running and ${maxQueue} waiting`,
        ctx.config.retryAfterSeconds,
      );
    }
    try {
      const queueMs = performance.now() - t0;
      const decoded = await ctx.decoder.decode(bytes, decode);
      return await work(decoded, size, queueMs);
    } finally {
      release();
    }
  } finally {
    hold.release();
  }
}

/** Predictions as the JSON carries them: probabilities rounded as the CLI's `--json`. */
function rounded(predictions: Prediction[]): Prediction[] {
  return predictions.map(({ index, label, probability }) => ({
    index,
    label,
    probability: round(probability, 6),
  }));
}

async function classify(request: Request, url: URL, ctx: Context): Promise<Response> {
  const start = performance.now();
  const head = ctx.heads.check(url.searchParams.get("head"));
  const resize = parseResize(url.searchParams.get("resize"));
  const model = await modelFor(request, ctx);
  const top = parseTop(url.searchParams.get("top"), model.architecture.config.classes);
  // With a head, its view decodes and runs the image: its resize mode and zone, unless ?resize=.
  const served = head === undefined ? model : ctx.heads.view(head, model);
  const decode = served.decodeOptions(resize);
  return await withImage(request, ctx, decode, async ({ pixels, decodeMs }, bytes, queueMs) => {
    const result = await served.classifyDetailed(pixels, { topK: top, resize });
    const t = result.timings;
    const inferMs = ms(t.inferenceMs);
    return json(200, {
      predictions: rounded(result.predictions),
      ...(head === undefined ? {} : {
        head,
        unknown: result.unknown,
        imagenet: rounded(result.imagenet ?? []),
      }),
      timings: {
        decodeMs: ms(decodeMs),
        preprocessMs: ms(t.decodeMs + t.preprocessMs),
        inferMs,
        inferenceMs: inferMs,
        queueMs: ms(queueMs),
        totalMs: ms(performance.now() - start),
      },
      model: ctx.models.id,
      resize: resize ?? served.head?.resize ?? served.resize,
      image: { width: result.width, height: result.height, bytes },
    });
  });
}

async function embed(request: Request, _url: URL, ctx: Context): Promise<Response> {
  const start = performance.now();
  const model = await modelFor(request, ctx);
  const decode = model.decodeOptions();
  return await withImage(request, ctx, decode, async ({ pixels, decodeMs }, _bytes, queueMs) => {
    const t0 = performance.now();
    const features = await model.embed(pixels);
    return json(200, {
      embedding: Array.from(features),
      size: features.length,
      timings: {
        decodeMs: ms(decodeMs),
        embedMs: ms(performance.now() - t0),
        queueMs: ms(queueMs),
        totalMs: ms(performance.now() - start),
      },
      model: ctx.models.id,
    });
  });
}

/** Milliseconds as the JSON carries them: to 2 decimals. */
function ms(value: number): number {
  return round(value, 2);
}
