/**
 * Where verified shards are kept between runs so that a second cold start downloads nothing:
 * the Web Cache API (`caches`, which Deno, Deno Deploy and browsers have) or a directory. Entries
 * are keyed by content (`sha256-<hex>`), so a shard shared by two URLs or two versions of a
 * manifest is stored once, and a cached entry can always be checked against its key. Caching is
 * best effort: a cache that fails to read or write never fails a load.
 *
 * @module
 */

/** A store of bytes by key, for shards (`sha256-<hex>`) and manifests (`manifest-<hex>`). */
export interface WeightsCache {
  /** The bytes stored under `key`, or `undefined`. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Stores `bytes` under `key`, replacing what was there. */
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** Forgets `key` (a corrupt entry). */
  delete(key: string): Promise<void>;
}

/**
 * Where to cache shards of remote weights:
 * - `"auto"`: the Web Cache API when the runtime has `caches`, else the directory
 *   `$XDG_CACHE_HOME/mobilenet-edge` (or `~/.cache/mobilenet-edge`) when the file system and
 *   environment can be used, else nothing;
 * - `false`: no cache;
 * - `{ dir }`: files in that directory;
 * - `{ name }`: the Web Cache API cache of that name;
 * - any {@linkcode WeightsCache}.
 *
 * Weights read from `file:` URLs (local directories) are never cached.
 */
export type CacheOption = "auto" | false | { dir: string | URL } | { name: string } | WeightsCache;

/** The Web Cache API cache name used by `cache: "auto"`. */
export const DEFAULT_CACHE_NAME = "mobilenet-edge-weights";

/** The Cache API needs request URLs; this host is reserved (`.invalid`) and never contacted. */
const KEY_BASE = "https://mobilenet-edge.invalid/";

/** A {@linkcode WeightsCache} on the Web Cache API. */
export class WebCache implements WeightsCache {
  readonly #name: string;
  #cache: Promise<Cache> | undefined;

  /** Uses the cache `name` of `globalThis.caches`. */
  constructor(name: string = DEFAULT_CACHE_NAME) {
    if (typeof name !== "string" || name === "") {
      throw new TypeError(`cache name must be a non-empty string, got ${String(name)}`);
    }
    this.#name = name;
  }

  #open(): Promise<Cache> {
    this.#cache ??= caches.open(this.#name);
    return this.#cache;
  }

  /** See {@linkcode WeightsCache.get}. */
  async get(key: string): Promise<Uint8Array | undefined> {
    const response = await (await this.#open()).match(KEY_BASE + key);
    return response ? new Uint8Array(await response.arrayBuffer()) : undefined;
  }

  /** See {@linkcode WeightsCache.put}. */
  async put(key: string, bytes: Uint8Array): Promise<void> {
    await (await this.#open()).put(
      KEY_BASE + key,
      new Response(bytes as Uint8Array<ArrayBuffer>, {
        headers: { "content-type": "application/octet-stream" },
      }),
    );
  }

  /** See {@linkcode WeightsCache.delete}. */
  async delete(key: string): Promise<void> {
    await (await this.#open()).delete(KEY_BASE + key);
  }
}

/** A {@linkcode WeightsCache} of files in a directory (written atomically: temp file, rename). */
export class DirCache implements WeightsCache {
  /** The directory. */
  readonly dir: string;

  /** Uses `dir`, created on the first write. */
  constructor(dir: string | URL) {
    const path = dir instanceof URL ? decodeURIComponent(dir.pathname) : dir;
    if (typeof path !== "string" || path === "") {
      throw new TypeError(`cache dir must be a non-empty path, got ${String(dir)}`);
    }
    this.dir = path.replace(/[\\/]+$/, "");
  }

  #path(key: string): string {
    if (!/^[a-z0-9-]+(\.[a-z]+)?$/.test(key)) throw new RangeError(`bad cache key ${key}`);
    return `${this.dir}/${key}`;
  }

  /** See {@linkcode WeightsCache.get}. */
  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return await Deno.readFile(this.#path(key));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
  }

  /** See {@linkcode WeightsCache.put}. */
  async put(key: string, bytes: Uint8Array): Promise<void> {
    const path = this.#path(key);
    await Deno.mkdir(this.dir, { recursive: true });
    const temp = `${path}.${crypto.randomUUID()}.tmp`;
    try {
      await Deno.writeFile(temp, bytes);
      await Deno.rename(temp, path);
    } catch (error) {
      await Deno.remove(temp).catch(() => {});
      throw error;
    }
  }

  /** See {@linkcode WeightsCache.delete}. */
  async delete(key: string): Promise<void> {
    await Deno.remove(this.#path(key)).catch(() => {});
  }
}

function defaultCacheDir(): string | undefined {
  try {
    const xdg = Deno.env.get("XDG_CACHE_HOME");
    if (xdg) return `${xdg}/mobilenet-edge`;
    const home = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE");
    return home ? `${home}/.cache/mobilenet-edge` : undefined;
  } catch {
    return undefined; // no --allow-env, or not Deno
  }
}

/**
 * Turns a {@linkcode CacheOption} into a cache for weights at `url`, or `undefined` for none
 * (always for `file:` URLs).
 *
 * @throws {TypeError} for an option that is none of the accepted forms.
 */
export function resolveCache(option: CacheOption | undefined, url: URL): WeightsCache | undefined {
  const opt = option ?? "auto";
  if (opt === false) return undefined;
  if (opt === "auto") {
    if (url.protocol === "file:") return undefined;
    if (typeof globalThis.caches?.open === "function") return new WebCache();
    const dir = typeof Deno === "undefined" ? undefined : defaultCacheDir();
    return dir ? new DirCache(dir) : undefined;
  }
  if (typeof opt !== "object" || opt === null) {
    throw new TypeError(
      `cache must be "auto", false, {dir}, {name} or a WeightsCache, got ${JSON.stringify(opt)}`,
    );
  }
  if (url.protocol === "file:") return undefined;
  if ("get" in opt && "put" in opt && "delete" in opt) return opt;
  if ("dir" in opt) return new DirCache(opt.dir);
  if ("name" in opt) return new WebCache(opt.name);
  throw new TypeError(
    `cache must be "auto", false, {dir}, {name} or a WeightsCache, got ${JSON.stringify(opt)}`,
  );
}
