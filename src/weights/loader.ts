/**
 * Reads weights in the project's format from a directory, a `file:` URL, an `http(s):` URL or
 * through a user's `fetch`: the manifest first, then the shards in network order, several in
 * flight at once (bounded) but handed on strictly in order. Every shard is checked against its
 * length and sha256 (WebCrypto) before any of its bytes are used, verified shards of remote
 * weights are cached by hash, and each tensor is handed on as soon as its last byte has arrived,
 * so at most `concurrency` shards, never the whole model, are held in JS memory.
 *
 * @module
 */
import { WeightsError } from "../errors.ts";
import { type TensorEntry, validateManifest, type WeightsManifest } from "./manifest.ts";
import { sha256Hex } from "./sha256.ts";
import { dequantize } from "./quantize.ts";
import { fetchWithRetry, type RequestOptions } from "./fetch_retry.ts";
import { type CacheOption, resolveCache, type WeightsCache } from "./cache.ts";
import type { LoadProgressEvent, ProgressCallback, ProgressCounters } from "./progress.ts";

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

/** A tensor whose bytes have all arrived and been verified. */
export interface LoadedTensor {
  /** The manifest entry. */
  entry: TensorEntry;
  /** The values, float32 (dequantized when stored quantized). */
  data: Float32Array;
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

/** Counts progress and reports it; a callback that throws is ignored. */
class Tracker implements ProgressCounters {
  loadedBytes = 0;
  totalBytes = 0;
  loadedShards = 0;
  totalShards = 0;
  cachedShards = 0;
  retries = 0;
  readonly #partial = new Map<number, number>();
  readonly #verified = { bytes: 0 };
  readonly #callback: ProgressCallback | undefined;

  constructor(callback: ProgressCallback | undefined) {
    this.#callback = callback;
  }

  emit(event: Record<string, unknown> & { type: LoadProgressEvent["type"] }): void {
    if (!this.#callback) return;
    const counters: ProgressCounters = {
      loadedBytes: this.loadedBytes,
      totalBytes: this.totalBytes,
      loadedShards: this.loadedShards,
      totalShards: this.totalShards,
      cachedShards: this.cachedShards,
      retries: this.retries,
    };
    try {
      this.#callback({ ...counters, ...event } as LoadProgressEvent);
    } catch {
      // A broken progress display must not break the load.
    }
  }

  bytes(shard: number, received: number): void {
    this.#partial.set(shard, received);
    this.#sum();
    if (received > 0) this.emit({ type: "bytes", shard });
  }

  shardDone(shard: number, file: string, byteLength: number, from: "network" | "cache"): void {
    this.#partial.delete(shard);
    this.#verified.bytes += byteLength;
    this.loadedShards++;
    if (from === "cache") this.cachedShards++;
    this.#sum();
    this.emit({ type: "shard", shard, file, from });
  }

  #sum(): void {
    let partial = 0;
    for (const n of this.#partial.values()) partial += n;
    this.loadedBytes = this.#verified.bytes + partial;
  }
}

/** Checks the numeric options up front, before anything is fetched. */
function checkOptions(options: LoadWeightsOptions): void {
  const concurrency = options.concurrency ?? LOAD_DEFAULTS.concurrency;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  for (const key of ["timeoutMs", "retries", "retryDelayMs", "maxRetryDelayMs"] as const) {
    const value = options[key];
    if (value !== undefined && (typeof value !== "number" || !(value >= 0))) {
      throw new RangeError(`${key} must be a number >= 0, got ${value}`);
    }
  }
  if (options.retries !== undefined && !Number.isInteger(options.retries)) {
    throw new RangeError(`retries must be an integer, got ${options.retries}`);
  }
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
  options: LoadWeightsOptions,
  cache: WeightsCache | undefined,
  tracker: Tracker,
): Promise<{ manifest: WeightsManifest; fromCache: boolean }> {
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
 * {@linkcode RangeError} for bad options.
 */
export async function openWeights(
  source: string | URL,
  options: LoadWeightsOptions = {},
): Promise<WeightsStream> {
  checkOptions(options);
  const url = manifestUrl(source);
  const cache = resolveCache(options.cache, url);
  const tracker = new Tracker(options.onProgress);
  const { manifest, fromCache } = await fetchManifest(url, options, cache, tracker);
  let opened = false;
  return {
    manifest,
    url,
    manifestFromCache: fromCache,
    tensors(only) {
      if (opened) throw new Error("tensors() of a weights stream can be called once");
      opened = true;
      const streamOptions = only ? { ...options, only } : options;
      return stream(url, manifest, streamOptions, cache, tracker, fromCache);
    },
  };
}

/**
 * Yields every (wanted) tensor of `manifest` once its bytes are in and verified, in network
 * order. Up to `concurrency` shards are fetched at once, in order; a shard's bytes are checked
 * (length, sha256) before any tensor in it is yielded. Stopping early (or a failure) aborts the
 * shards in flight.
 *
 * @throws {WeightsError} `NOT_FOUND` for a missing shard, `TRUNCATED` for a short one,
 * `HASH_MISMATCH` for a corrupt one, `NETWORK` or `TIMEOUT` once retries are spent.
 */
async function* stream(
  url: URL,
  manifest: WeightsManifest,
  options: LoadWeightsOptions,
  cache: WeightsCache | undefined,
  tracker: Tracker,
  manifestFromCache: boolean,
): AsyncGenerator<LoadedTensor> {
  const concurrency = options.concurrency ?? LOAD_DEFAULTS.concurrency;
  const starts: number[] = [];
  manifest.shards.reduce((at, s) => (starts.push(at), at + s.byteLength), 0);
  const shardOf = (position: number) => {
    let i = manifest.shards.length - 1;
    while (starts[i] > position) i--;
    return i;
  };
  const wanted = manifest.tensors
    .filter((entry) => !options.only || options.only(entry.name))
    .map((entry) => ({ entry, start: starts[entry.shard] + entry.offset }));
  const neededSet = new Set<number>();
  for (const { entry, start } of wanted) {
    for (let i = entry.shard; i <= shardOf(start + entry.byteLength - 1); i++) neededSet.add(i);
  }
  const needed = [...neededSet].sort((a, b) => a - b);
  tracker.totalShards = needed.length;
  tracker.totalBytes = needed.reduce((n, i) => n + manifest.shards[i].byteLength, 0);
  tracker.emit({ type: "manifest", url: url.href, fromCache: manifestFromCache });

  const controller = new AbortController();
  const signal = options.signal
    ? AbortSignal.any([options.signal, controller.signal])
    : controller.signal;
  const request = { ...options, signal };

  const getShard = async (i: number): Promise<Uint8Array> => {
    const shard = manifest.shards[i];
    const key = `sha256-${shard.sha256}`;
    if (cache) {
      const cached = await cache.get(key).catch(() => undefined);
      if (cached) {
        if (cached.byteLength === shard.byteLength && (await sha256Hex(cached)) === shard.sha256) {
          tracker.shardDone(i, shard.file, shard.byteLength, "cache");
          return cached;
        }
        await cache.delete(key).catch(() => {});
      }
    }
    const shardUrl = new URL(shard.file, url);
    const bytes = await fetchWithRetry(shardUrl, request, {
      expectedLength: shard.byteLength,
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

  const inflight = new Map<number, Promise<Uint8Array>>();
  let launched = 0;
  const launch = () => {
    while (launched < needed.length && inflight.size < concurrency) {
      const i = needed[launched++];
      const promise = getShard(i);
      promise.catch(() => {}); // awaited in order below; this only silences early failures
      inflight.set(i, promise);
    }
  };
  try {
    let next = 0;
    let partial: { bytes: Uint8Array; filled: number } | undefined;
    for (const i of needed) {
      launch();
      const bytes = await inflight.get(i)!;
      inflight.delete(i);
      launch();
      const shardStart = starts[i];
      const shardEnd = shardStart + bytes.byteLength;
      while (next < wanted.length && wanted[next].start < shardEnd) {
        const { entry, start } = wanted[next];
        const end = start + entry.byteLength;
        const from = Math.max(start, shardStart) - shardStart;
        const to = Math.min(end, shardEnd) - shardStart;
        if (start >= shardStart && end <= shardEnd) {
          yield { entry, data: decode(entry, bytes.subarray(from, to)) };
        } else {
          partial ??= { bytes: new Uint8Array(entry.byteLength), filled: 0 };
          partial.bytes.set(bytes.subarray(from, to), partial.filled);
          partial.filled += to - from;
          if (end > shardEnd) break;
          yield { entry, data: decode(entry, partial.bytes) };
          partial = undefined;
        }
        next++;
      }
    }
    tracker.emit({ type: "done" });
  } finally {
    controller.abort();
    await Promise.allSettled(inflight.values());
  }
}

function decode(entry: TensorEntry, bytes: Uint8Array): Float32Array {
  try {
    return dequantize(bytes, entry.shape, entry.quantization);
  } catch (error) {
    throw new WeightsError("BAD_MANIFEST", `tensor ${entry.name}: ${(error as Error).message}`, {
      cause: error,
    });
  }
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
