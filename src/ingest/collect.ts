/**
 * Collecting examples from a camera, as Frigate's wizard does: the frames most unlike those
 * already saved go into `DIR/_unsorted/`, and the user labels them by moving each into a class
 * folder (`DIR/open/`, `DIR/closed/`), then runs `deno task teach DIR` (which skips `_`
 * folders).
 *
 * A frame is saved when the cosine distance of its embedding (the camera's zone applied) to
 * every frame already in `DIR` (labelled or not) is at least `minDistance`: a still scene saves
 * one frame, a scene that changes saves each new look. Bounded in count and in bytes: when
 * `_unsorted/` is full, nothing more is saved (logged once) until files are moved out of it.
 *
 * @module
 */
import { errorMessage } from "../_util.ts";
import type { Clock } from "../clock.ts";
import { featureBlock } from "../head/features.ts";
import { sniffFormat } from "../image/decode.ts";
import { cameraId } from "./camera_name.ts";
import type { Logger } from "./log.ts";

/** Options of collecting (`--collect DIR`). */
export interface CollectOptions {
  /** The teaching folder: frames are saved into `DIR/_unsorted/`. */
  dir: string;
  /** Frames `_unsorted/` may hold. @default {200} */
  maxFrames?: number;
  /** Bytes `_unsorted/` may hold. @default {104857600 (100 MiB)} */
  maxBytes?: number;
  /**
   * The cosine distance (0..2) a frame's embedding must have from every saved one.
   * @default {0.1}
   */
  minDistance?: number;
}

/** The folder collected frames go into, inside the teaching folder. */
export const UNSORTED = "_unsorted";

const EXTENSION = { jpeg: "jpg", png: "png", gif: "gif", tiff: "tif" } as Record<string, string>;

/** How often a full `_unsorted/` is looked at again, in ms. */
const RECHECK_MS = 60_000;

/** What a collector needs from the ingest loop. */
export interface CollectorContext {
  /** The embedding of encoded image bytes, as the camera's frames are embedded. */
  embed: (bytes: Uint8Array) => Promise<Float32Array>;
  /** Where to log. */
  log: Logger;
  /** Time. */
  clock: Clock;
}

/** Checks collect options once, on entry. @throws {RangeError} */
export function checkCollectOptions(options: CollectOptions): Required<CollectOptions> {
  const o = {
    dir: options.dir,
    maxFrames: options.maxFrames ?? 200,
    maxBytes: options.maxBytes ?? 100 << 20,
    minDistance: options.minDistance ?? 0.1,
  };
  if (typeof o.dir !== "string" || o.dir === "") throw new RangeError("collect needs a folder");
  if (!(Number.isInteger(o.maxFrames) && o.maxFrames >= 1)) {
    throw new RangeError(`collect maxFrames must be a positive integer, got ${o.maxFrames}`);
  }
  if (!(o.maxBytes > 0)) throw new RangeError(`collect maxBytes must be > 0, got ${o.maxBytes}`);
  if (!(o.minDistance >= 0 && o.minDistance <= 2)) {
    throw new RangeError(`collect minDistance must be in [0, 2], got ${o.minDistance}`);
  }
  return o;
}

/** The image files one level under `dir` (class folders and `_unsorted/`), newest first. */
async function savedImages(dir: string): Promise<{ path: string; size: number; mtime: number }[]> {
  const found: { path: string; size: number; mtime: number }[] = [];
  for await (const folder of Deno.readDir(dir)) {
    if (!folder.isDirectory || folder.name.startsWith(".")) continue;
    for await (const file of Deno.readDir(`${dir}/${folder.name}`)) {
      if (!file.isFile || !/\.(jpe?g|png|gif|tiff?)$/i.test(file.name)) continue;
      const path = `${dir}/${folder.name}/${file.name}`;
      const info = await Deno.stat(path);
      found.push({ path, size: info.size, mtime: info.mtime?.getTime() ?? 0 });
    }
  }
  return found.sort((a, b) => b.mtime - a.mtime);
}

/** Saves one camera's most distinct frames. */
export class Collector {
  readonly #camera: string;
  readonly #options: Required<CollectOptions>;
  readonly #context: CollectorContext;
  readonly #known: Float64Array[] = [];
  #count = 0;
  #bytes = 0;
  #full = false;
  #checkedAt = -Infinity;
  #opened?: Promise<void>;

  /** A collector for `camera`'s frames. @throws {RangeError} for bad options. */
  constructor(camera: string, options: CollectOptions, context: CollectorContext) {
    this.#camera = camera;
    this.#options = checkCollectOptions(options);
    this.#context = context;
  }

  get #unsorted(): string {
    return `${this.#options.dir.replace(/\/+$/, "")}/${UNSORTED}`;
  }

  /** Frames saved into `_unsorted/` that are still there, as last counted. */
  get count(): number {
    return this.#count;
  }

  /**
   * Creates `_unsorted/` and embeds what the folder already holds (the newest `maxFrames`
   * files), so that only frames unlike them are saved. Runs once; later calls wait for it.
   */
  open(): Promise<void> {
    return this.#opened ??= this.#open();
  }

  async #open(): Promise<void> {
    await Deno.mkdir(this.#unsorted, { recursive: true });
    const files = await savedImages(this.#options.dir.replace(/\/+$/, ""));
    let unreadable = 0;
    for (const file of files.slice(0, this.#options.maxFrames)) {
      try {
        this.#remember(await this.#context.embed(await Deno.readFile(file.path)));
      } catch {
        unreadable++;
      }
    }
    await this.#recount();
    this.#log(
      "info",
      `collecting into ${this.#unsorted}: ${files.length} frame(s) already in ` +
        `${this.#options.dir} (${this.#count} unsorted)` +
        (unreadable ? `, ${unreadable} unreadable` : ""),
    );
  }

  /**
   * Considers one frame: saves it into `_unsorted/` when it is unlike every saved frame and
   * there is room. Returns the path written, if any. A write that fails is logged, not thrown.
   */
  async offer(
    bytes: Uint8Array,
    embedding: Float32Array,
    time: number,
  ): Promise<string | undefined> {
    await this.open();
    const unit = featureBlock("embedding", embedding, new Float32Array(0));
    if (this.#nearest(unit) < this.#options.minDistance) return undefined;
    if (!(await this.#room(bytes.length))) return undefined;
    const path = await this.#write(bytes, time);
    if (path === undefined) return undefined;
    this.#remember(unit);
    this.#count++;
    this.#bytes += bytes.length;
    return path;
  }

  /**
   * Writes a new file `CAMERA-TIME.EXT` (`-2`, `-3` ... for frames of the same millisecond);
   * returns its path, or `undefined` (logged) when it cannot.
   */
  async #write(bytes: Uint8Array, time: number): Promise<string | undefined> {
    const stamp = new Date(time).toISOString().replace(/[-:.]/g, "");
    const extension = EXTENSION[sniffFormat(bytes) ?? ""] ?? "img";
    const base = `${this.#unsorted}/${cameraId(this.#camera)}-${stamp}`;
    for (let n = 1; n <= 100; n++) {
      const path = `${base}${n > 1 ? `-${n}` : ""}.${extension}`;
      try {
        await Deno.writeFile(path, bytes, { createNew: true });
        return path;
      } catch (error) {
        if (error instanceof Deno.errors.AlreadyExists) continue;
        this.#log("warn", `could not save ${path}: ${errorMessage(error)}`);
        return undefined;
      }
    }
    return undefined;
  }

  /** The smallest cosine distance from `unit` to a saved frame (Infinity when none). */
  #nearest(unit: Float64Array): number {
    let nearest = Infinity;
    for (const known of this.#known) {
      let dot = 0;
      for (let i = 0; i < unit.length; i++) dot += unit[i] * known[i];
      nearest = Math.min(nearest, 1 - dot);
    }
    return nearest;
  }

  #remember(embedding: Float32Array | Float64Array): void {
    const unit = embedding instanceof Float64Array
      ? embedding
      : featureBlock("embedding", embedding, new Float32Array(0));
    this.#known.push(unit);
    if (this.#known.length > 4 * this.#options.maxFrames) this.#known.shift();
  }

  /** Whether `size` more bytes fit; a full folder is counted again at most once a minute. */
  async #room(size: number): Promise<boolean> {
    const fits = () =>
      this.#count < this.#options.maxFrames && this.#bytes + size <= this.#options.maxBytes;
    if (fits()) return true;
    const now = this.#context.clock.now();
    if (now - this.#checkedAt < RECHECK_MS) return false;
    this.#checkedAt = now;
    await this.#recount();
    const full = !fits();
    if (full !== this.#full) {
      this.#full = full;
      if (full) {
        this.#log(
          "warn",
          `${this.#unsorted} is full (${this.#count} frames, ${this.#bytes} bytes; limits ` +
            `${this.#options.maxFrames} frames, ${this.#options.maxBytes} bytes): label or ` +
            `delete frames to collect more`,
        );
      } else this.#log("info", `collecting again into ${this.#unsorted}`);
    }
    return !full;
  }

  /** Counts the files and bytes in `_unsorted/` (the user moves them out as they label). */
  async #recount(): Promise<void> {
    let count = 0;
    let bytes = 0;
    for await (const entry of Deno.readDir(this.#unsorted)) {
      if (!entry.isFile) continue;
      count++;
      bytes += (await Deno.stat(`${this.#unsorted}/${entry.name}`)).size;
    }
    this.#count = count;
    this.#bytes = bytes;
  }

  #log(level: "info" | "warn", message: string): void {
    this.#context.log({ time: this.#context.clock.now(), level, source: this.#camera, message });
  }
}
