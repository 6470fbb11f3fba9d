/**
 * Reads weights in the project's format from a directory, a `file:` URL or an `http(s):` URL:
 * the manifest first, then the shards in network order. Every shard is checked against its
 * length and sha256 before any of its bytes are used, and each tensor is handed on as soon as
 * its last byte has arrived, so no whole-model buffer is ever held.
 *
 * @module
 */
import { WeightsError } from "../errors.ts";
import { sizeOf, type TensorEntry, validateManifest, type WeightsManifest } from "./manifest.ts";
import { sha256Hex } from "./sha256.ts";

/** Options of {@linkcode loadWeights} and {@linkcode streamTensors}. */
export interface LoadWeightsOptions {
  /**
   * The `fetch` to read the manifest and shards with (for custom transports or auth).
   * @default {globalThis.fetch}
   */
  fetch?: typeof fetch;
  /** Aborts the load. */
  signal?: AbortSignal;
}

/** A tensor whose bytes have all arrived and been verified. */
export interface LoadedTensor {
  /** The manifest entry. */
  entry: TensorEntry;
  /** The values, float32. */
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

async function get(url: URL, options: LoadWeightsOptions): Promise<Uint8Array> {
  const doFetch = options.fetch ?? fetch;
  let response: Response;
  try {
    response = await doFetch(url, { signal: options.signal });
  } catch (error) {
    const notFound = error instanceof Deno.errors.NotFound ||
      (error instanceof TypeError && /not found|No such file/i.test(error.message));
    throw new WeightsError(
      notFound ? "NOT_FOUND" : "NETWORK",
      `cannot read ${url.href}: ${error instanceof Error ? error.message : error}`,
      { cause: error },
    );
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new WeightsError(
      response.status === 404 ? "NOT_FOUND" : "NETWORK",
      `cannot read ${url.href}: HTTP ${response.status} ${response.statusText}`.trim(),
    );
  }
  return new Uint8Array(await response.arrayBuffer());
}

/** Reads and validates the manifest at `url`. */
export async function readManifest(
  url: URL,
  options: LoadWeightsOptions = {},
): Promise<WeightsManifest> {
  const bytes = await get(url, options);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new WeightsError("BAD_MANIFEST", `${url.href} is not valid JSON`, { cause: error });
  }
  return validateManifest(json);
}

function decode(entry: TensorEntry, bytes: Uint8Array): Float32Array {
  if (entry.quantization) {
    throw new WeightsError(
      "BAD_MANIFEST",
      `tensor ${entry.name} is stored as ${entry.quantization.dtype}, which this loader cannot read`,
    );
  }
  const copy = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  return new Float32Array(copy.buffer, copy.byteOffset, sizeOf(entry.shape));
}

/**
 * Yields every tensor of `manifest` once its bytes are in and verified, in network order.
 * Shards are read one after another; a shard's bytes are checked (length, sha256) before any
 * tensor in it is yielded.
 *
 * @throws {WeightsError} `NOT_FOUND` for a missing shard, `TRUNCATED` for a short one,
 * `HASH_MISMATCH` for a corrupt one.
 */
export async function* streamTensors(
  url: URL,
  manifest: WeightsManifest,
  options: LoadWeightsOptions = {},
): AsyncGenerator<LoadedTensor> {
  const starts: number[] = [];
  manifest.shards.reduce((at, s) => (starts.push(at), at + s.byteLength), 0);
  const pending = manifest.tensors.map((entry) => ({
    entry,
    start: starts[entry.shard] + entry.offset,
  }));
  let next = 0;
  let partial: { bytes: Uint8Array; filled: number } | undefined;
  for (let i = 0; i < manifest.shards.length; i++) {
    const shard = manifest.shards[i];
    const shardUrl = new URL(shard.file, url);
    const bytes = await get(shardUrl, options);
    if (bytes.byteLength !== shard.byteLength) {
      throw new WeightsError(
        "TRUNCATED",
        `shard ${shard.file} has ${bytes.byteLength} bytes, the manifest says ${shard.byteLength}`,
      );
    }
    const hash = await sha256Hex(bytes);
    if (hash !== shard.sha256) {
      throw new WeightsError(
        "HASH_MISMATCH",
        `shard ${shard.file} has sha256 ${hash}, the manifest says ${shard.sha256}`,
      );
    }
    const shardStart = starts[i];
    const shardEnd = shardStart + bytes.byteLength;
    while (next < pending.length && pending[next].start < shardEnd) {
      const { entry, start } = pending[next];
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
  const url = manifestUrl(source);
  const manifest = await readManifest(url, options);
  const tensors = new Map<string, Float32Array>();
  for await (const { entry, data } of streamTensors(url, manifest, options)) {
    tensors.set(entry.name, data);
  }
  return { manifest, url, tensors };
}
