/**
 * Reads weights in the project's format from a directory, a `file:` URL, an `http(s):` URL or
 * through a user's `fetch`: the manifest first, then the shards in network order, several in
 * flight at once (bounded) but handed on strictly in order. Every shard is checked against its
 * length and sha256 (`node:crypto`) before any of its bytes are used, verified shards of remote
 * weights are cached by hash, and each tensor is handed on as soon as its last byte has arrived,
 * so at most `concurrency` shards, never the whole model, are held in JS memory.
 *
 * @module
 */
import { WeightsError } from "../errors.ts";
import { validateManifest, type WeightsManifest } from "./manifest.ts";
import { sha256Hex } from "./sha256.ts";
import {
  type LoadedTensor,
  planShards,
  type ShardBytes,
  type ShardPlan,
  sliceTensors,
} from "./plan.ts";
import {
  fetchWithRetry,
  type RequestOptions,
  type ResolvedRequestOptions,
  resolveRequestOptions,
} from "./fetch_retry.ts";
import { type CacheOption, resolveCache, type WeightsCache } from "./cache.ts";
import { type ProgressCallback, ProgressTracker } from "./progress.ts";

export type { LoadedTensor } from "./plan.ts";

/** Options of {@linkcode openWeights} and {@linkcode loadWeights}. */
export interface LoadWeightsOptions extends RequestOptions {
  /**
   * Shards requested at once. They are requested in network order and handed on in that order;
   * at most this many are held in memory.
   * @default {4}
   */
  concurrency?: number;
  /**
   * Where verified shards of remote (non-`file:`) weights are kept, keyed by sha256, so that a
   * later cold start downloads none of them; the manifest is fetched every time, and its cached
   * copy is used only when the network fails. See {@linkcode CacheOption}.
   * @default {"auto"}
   */
  cache?: CacheOption;
  /** Receives progress events (bytes, shards, retries). */
  onProgress?: ProgressCallback;
  /**
   * Which tensors to read, by Keras name; shards holding none of them are not fetched (a
   * headless model skips the classifier's shards).
   * @default {all tensors}
   */
  only?: (name: string) => boolean;
}

/** Defaults of {@linkcode LoadWeightsOptions} beyond the request options. */
export const LOAD_DEFAULTS = { concurrency: 4 } as const;

/**
 * Every key of {@linkcode LoadWeightsOptions} but `only`: the options a caller of the loader
 * (such as `loadMobileNet`) passes on as they are. The type below fails to compile when an
 * option is added to the interface and not here.
 */
export const WEIGHTS_OPTION_KEYS = [
  "fetch",
  "signal",
  "timeoutMs",
  "deadlineMs",
  "retries",
  "retryDelayMs",
  "maxRetryDelayMs",
  "concurrency",
  "cache",
  "onProgress",
] as const satisfies readonly Exclude<keyof LoadWeightsOptions, "only">[];

type MissingKeys = Exclude<
  keyof LoadWeightsOptions,
  "only" | (typeof WEIGHTS_OPTION_KEYS)[number]
>;
const _allKeysListed: [MissingKeys] extends [never] ? true : MissingKeys = true;

/** The weights options among `options` (the keys of {@linkcode WEIGHTS_OPTION_KEYS}). */
export function pickWeightsOptions(
  options: Omit<LoadWeightsOptions, "only">,
): Omit<LoadWeightsOptions, "only"> {
  const picked: Record<string, unknown> = {};
  for (const key of WEIGHTS_OPTION_KEYS) {
    if (options[key] !== undefined) picked[key] = options[key];
  }
  return picked as Omit<LoadWeightsOptions, "only">;
}

/** All weights of a manifest, by Keras name. */
export interface LoadedWeights {
  /** The validated manifest. */
  manifest: WeightsManifest;
  /** The URL the manifest was read from; shards are relative to it. */
  url: URL;
  /** Tensor values by Keras name. */
  tensors: Map<string, Float32Array>;
}

/** An opened weights set: its manifest, and its tensors to stream. */
export interface WeightsStream {
  /** The validated manifest. */
  manifest: WeightsManifest;
  /** The URL the manifest was read from; shards are relative to it. */
  url: URL;
  /** Whether the manifest came from the cache because the network failed. */
  manifestFromCache: boolean;
  /**
   * Yields each wanted tensor (those `only` accepts, else those the options' `only` accepts),
   * in network order, as soon as its bytes are in and verified. Call it once.
   */
  tensors(only?: (name: string) => boolean): AsyncGenerator<LoadedTensor>;
  /**
   * Frees the buffer the shards were read into, for a consumer that has copied every tensor it
   * kept (as `loadMobileNet` does onto the backend): its memory goes back at once, not at the
   * next full garbage collection (which a cold start's first classification does not reach).
   * The values of every tensor yielded from it are gone (empty views) afterwards.
   */
  release(): void;
}

/**
 * Turns a directory path, a manifest path, or a URL into the manifest's URL. A directory means
 * its `manifest.json`.
 */
export function manifestUrl(source: string | URL, base?: string | URL): URL {
  if (source instanceof URL) return source.pathname.endsWith(".json") ? source : dirUrl(source);
  if (/^(https?|file):/i.test(source)) return manifestUrl(new URL(source));
  const cwd = base ?? `file://${Deno.cwd().replaceAll("\\", "/")}/`;
  const url = new URL(source.replaceAll("\\", "/"), cwd);
  return url.pathname.endsWith(".json") ? url : dirUrl(url);
}

function dirUrl(url: URL): URL {
  const dir = url.href.endsWith("/") ? url.href : `${url.href}/`;
  return new URL("manifest.json", dir);
}

/** {@linkcode LoadWeightsOptions} checked once, on entry, with the defaults filled in. */
interface ResolvedLoadOptions extends ResolvedRequestOptions {
  readonly concurrency: number;
  readonly cache: WeightsCache | undefined;
  readonly onProgress: ProgressCallback | undefined;
  readonly only: ((name: string) => boolean) | undefined;
}

function resolveLoadOptions(options: LoadWeightsOptions, url: URL): ResolvedLoadOptions {
  const concurrency = options.concurrency ?? LOAD_DEFAULTS.concurrency;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  for (const key of ["onProgress", "only"] as const) {
    if (options[key] !== undefined && typeof options[key] !== "function") {
      throw new TypeError(`${key} must be a function, got ${typeof options[key]}`);
    }
  }
  return {
    ...resolveRequestOptions(options),
    concurrency,
    cache: resolveCache(options.cache, url),
    onProgress: options.onProgress,
    only: options.only,
  };
}

async function manifestKey(url: URL): Promise<string> {
  return `manifest-${await sha256Hex(new TextEncoder().encode(url.href))}`;
}

function parseManifest(bytes: Uint8Array, url: URL): WeightsManifest {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new WeightsError("BAD_MANIFEST", `${url.href} is not valid JSON`, { cause: error });
  }
  return validateManifest(json);
}

async function fetchManifest(
  url: URL,
  options: ResolvedLoadOptions,
  tracker: ProgressTracker,
): Promise<{ manifest: WeightsManifest; fromCache: boolean }> {
  const cache = options.cache;
  let bytes: Uint8Array;
  try {
    bytes = await fetchWithRetry(url, options, {
      onRetry: (info) => {
        tracker.retries++;
        tracker.emit({ type: "retry", shard: null, url: url.href, ...info });
      },
    });
  } catch (error) {
    // Offline start: a manifest that cannot be fetched is taken from the cache, if it is there.
    const offline = error instanceof WeightsError &&
      (error.code === "NETWORK" || error.code === "TIMEOUT");
    const cached = offline && cache
      ? await cache.get(await manifestKey(url)).catch(() => undefined)
      : undefined;
    if (!cached) throw error;
    return { manifest: parseManifest(cached, url), fromCache: true };
  }
  const manifest = parseManifest(bytes, url);
  if (cache) await cache.put(await manifestKey(url), bytes).catch(() => {});
  return { manifest, fromCache: false };
}

/**
 * Opens the weights at `source` (a directory, a manifest path, or a URL): reads and validates
 * the manifest and returns it with a stream of its tensors.
 *
 * @throws {WeightsError} `NOT_FOUND`, `NETWORK`, `TIMEOUT` when the manifest cannot be read,
 * `BAD_MANIFEST` or `UNSUPPORTED_VERSION` when it is not a manifest this code reads;
 * {@linkcode RangeError} or {@linkcode TypeError} for bad options.
 */
export async function openWeights(
  source: string | URL,
  options: LoadWeightsOptions = {},
): Promise<WeightsStream> {
  const url = manifestUrl(source);
  const resolved = resolveLoadOptions(options, url);
  const tracker = new ProgressTracker(resolved.onProgress);
  const { manifest, fromCache } = await fetchManifest(url, resolved, tracker);
  let opened = false;
  const buffers: ArrayBuffer[] = [];
  return {
    manifest,
    url,
    manifestFromCache: fromCache,
    tensors(only) {
      if (opened) throw new Error("tensors() of a weights stream can be called once");
      opened = true;
      const plan = planShards(manifest, only ?? resolved.only);
      return stream({
        url,
        manifest,
        plan,
        options: resolved,
        tracker,
        manifestFromCache: fromCache,
        buffers,
      });
    },
    release() {
      // Detaching a buffer frees its bytes now.
      for (const buffer of buffers.splice(0)) buffer.transfer(0);
    },
  };
}

/** Everything {@linkcode stream} works with. */
interface StreamContext {
  url: URL;
  manifest: WeightsManifest;
  plan: ShardPlan;
  options: ResolvedLoadOptions;
  tracker: ProgressTracker;
  manifestFromCache: boolean;
  /** Receives the buffers the loader allocates for shards (see `WeightsStream.release`). */
  buffers: ArrayBuffer[];
}

/**
 * Yields every wanted tensor of the plan once its bytes are in and verified, in network order.
 * Up to `concurrency` shards are fetched at once, in order; a shard's bytes are checked
 * (length, sha256) before any tensor in it is yielded. Stopping early (or a failure, or the
 * caller's signal) aborts the shards in flight.
 *
 * @throws {WeightsError} `NOT_FOUND` for a missing shard, `TRUNCATED` for a short one,
 * `HASH_MISMATCH` for a corrupt one, `NETWORK` or `TIMEOUT` once retries are spent.
 */
async function* stream(context: StreamContext): AsyncGenerator<LoadedTensor> {
  const { url, plan, tracker } = context;
  tracker.totalShards = plan.shards.length;
  tracker.totalBytes = plan.totalBytes;
  tracker.emit({ type: "manifest", url: url.href, fromCache: context.manifestFromCache });
  yield* sliceTensors(plan, inOrder(context));
  tracker.emit({ type: "done" });
}

/**
 * Fetches the plan's shards, `concurrency` at a time, and yields them in order. Stopping early
 * or failing aborts those in flight and waits for them to end.
 */
async function* inOrder(context: StreamContext): AsyncGenerator<ShardBytes> {
  const { plan, options } = context;
  const controller = new AbortController();
  const signal = options.signal
    ? AbortSignal.any([options.signal, controller.signal])
    : controller.signal;
  const getShard = shardReader(context, { ...options, signal });
  const inflight = new Map<number, Promise<Uint8Array>>();
  let launched = 0;
  const launch = () => {
    while (launched < plan.shards.length && inflight.size < options.concurrency) {
      const i = plan.shards[launched++];
      const promise = getShard(i);
      promise.catch(() => {}); // awaited in order below; this only silences early failures
      inflight.set(i, promise);
    }
  };
  try {
    for (const index of plan.shards) {
      launch();
      const bytes = await inflight.get(index)!;
      inflight.delete(index);
      launch();
      yield { index, bytes };
    }
  } finally {
    controller.abort();
    await Promise.allSettled(inflight.values());
  }
}

/** Reads shard `i`: from the cache when a verified copy is there, else over the network. */
function shardReader(
  context: StreamContext,
  request: ResolvedRequestOptions,
): (i: number) => Promise<Uint8Array> {
  const { url, manifest, tracker, plan } = context;
  const cache = context.options.cache;
  // One buffer for every shard of the plan, each read into its own part: a tensor that spans
  // shards is then one view across them, never a copy (more than half of 0.75/224's bytes), and
  // a cold start touches 10 MB of fresh pages for its shards, not 17.
  const whole = new Uint8Array(plan.totalBytes);
  context.buffers.push(whole.buffer);
  const parts = new Map<number, Uint8Array>();
  let at = 0;
  for (const i of plan.shards) {
    parts.set(i, whole.subarray(at, at + manifest.shards[i].byteLength));
    at += manifest.shards[i].byteLength;
  }
  return async (i) => {
    const shard = manifest.shards[i];
    const key = `sha256-${shard.sha256}`;
    const cached = cache ? await cache.get(key).catch(() => undefined) : undefined;
    if (cached) {
      if (cached.byteLength === shard.byteLength && (await sha256Hex(cached)) === shard.sha256) {
        tracker.shardDone(i, shard.file, shard.byteLength, "cache");
        return cached;
      }
      await cache!.delete(key).catch(() => {});
    }
    const shardUrl = new URL(shard.file, url);
    const bytes = await fetchWithRetry(shardUrl, request, {
      expectedLength: shard.byteLength,
      into: parts.get(i),
      onBytes: (received) => tracker.bytes(i, received),
      onRetry: (info) => {
        tracker.retries++;
        tracker.emit({ type: "retry", shard: i, url: shardUrl.href, ...info });
      },
      verify: async (bytes) => {
        const hash = await sha256Hex(bytes);
        if (hash !== shard.sha256) {
          throw new WeightsError(
            "HASH_MISMATCH",
            `shard ${shard.file} has sha256 ${hash}, the manifest says ${shard.sha256}`,
          );
        }
      },
    });
    if (cache) await cache.put(key, bytes).catch(() => {});
    tracker.shardDone(i, shard.file, shard.byteLength, "network");
    return bytes;
  };
}

/**
 * Loads every tensor of the weights at `source` (a directory, a manifest path, or a URL).
 *
 * @example
 * ```ts
 * import { loadWeights } from "./loader.ts";
 * const { manifest, tensors } = await loadWeights("weights/mobilenet_v1_0.25_224");
 * console.log(manifest.model.alpha, tensors.get("conv1/kernel")?.length); // 0.25 216
 * ```
 */
export async function loadWeights(
  source: string | URL,
  options: LoadWeightsOptions = {},
): Promise<LoadedWeights> {
  const opened = await openWeights(source, options);
  const tensors = new Map<string, Float32Array>();
  for await (const { entry, data } of opened.tensors()) tensors.set(entry.name, data);
  return { manifest: opened.manifest, url: opened.url, tensors };
}
