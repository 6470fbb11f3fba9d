/**
 * The watched-folder source: new or replaced image files (`.jpg`, `.jpeg`, `.png`, `.gif`,
 * `.tif`, `.tiff`), as `rpicam-still --timelapse` or a motion tool writes them, each frame
 * naming its file. A file is read only when it is complete: its size and modification time must
 * stay the same for `settleMs`, and it must end with the format's end marker (JPEG EOI, PNG
 * IEND). A file that stays unfinished for `incompleteMs` is handed on anyway, so the decoder
 * reports it as truncated.
 *
 * At start, the newest image already in the folder is read (the camera's current view, as a
 * retained MQTT snapshot is), and the older ones are counted in one log line, not classified:
 * a restart must not replay a timelapse's history. Files of other kinds are logged once per
 * extension.
 *
 * @module
 */
import { errorMessage } from "../../_util.ts";
import type { Source, SourceContext } from "../types.ts";
import { MAX_FRAME_BYTES } from "./jpeg_splitter.ts";

/** Options of {@linkcode WatchDirSource}. */
export interface WatchDirOptions {
  /** The folder to watch (not recursive). */
  dir: string;
  /** How long a file's size and mtime must be unchanged. @default {500} */
  settleMs?: number;
  /** How long an unfinished (no end marker) but unchanged file is waited for. @default {10000} */
  incompleteMs?: number;
  /** Largest file read. @default {33554432} */
  maxFrameBytes?: number;
}

const EXTENSIONS = /\.(jpe?g|png|gif|tiff?)$/i;
const IMAGE_TYPES = ".jpg .jpeg .png .gif .tif .tiff";
const SEEN_LIMIT = 1024;

/** Whether the bytes end as a complete JPEG or PNG does. */
export function looksComplete(bytes: Uint8Array): boolean {
  const n = bytes.length;
  if (n >= 2 && bytes[0] === 0xff && bytes[1] === 0xd8) {
    // EOI, possibly followed by padding some writers add.
    for (let i = n - 1; i >= Math.max(1, n - 64); i--) {
      if (bytes[i - 1] === 0xff && bytes[i] === 0xd9) return true;
    }
    return false;
  }
  if (n >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50) {
    return n >= 12 && String.fromCharCode(...bytes.subarray(n - 8, n - 4)) === "IEND";
  }
  return true; // other formats: size stability only
}

/** New or replaced image files in a folder. */
export class WatchDirSource implements Source {
  /** How the source is shown: the folder path. */
  readonly name: string;
  readonly #dir: string;
  readonly #settleMs: number;
  readonly #incompleteMs: number;
  readonly #max: number;
  readonly #busy = new Map<string, { dirty: boolean }>();
  readonly #seen = new Map<string, string>();
  readonly #ignored = new Set<string>();

  /** Creates the source. @throws {RangeError} for a negative settle time. */
  constructor(options: WatchDirOptions) {
    this.#dir = options.dir;
    this.name = options.dir;
    this.#settleMs = options.settleMs ?? 500;
    this.#incompleteMs = options.incompleteMs ?? 10_000;
    this.#max = options.maxFrameBytes ?? MAX_FRAME_BYTES;
    if (!(this.#settleMs >= 0)) {
      throw new RangeError(`settleMs must be >= 0, got ${this.#settleMs}`);
    }
  }

  /** Watches until abort; a missing folder is retried. */
  async run(context: SourceContext): Promise<void> {
    const { signal, clock } = context;
    const checks = new Set<Promise<void>>();
    const track = (job: Promise<void> | undefined) => {
      if (!job) return;
      checks.add(job);
      job.finally(() => checks.delete(job));
    };
    while (!signal.aborted) {
      let watcher: Deno.FsWatcher;
      try {
        watcher = Deno.watchFs(this.#dir, { recursive: false });
      } catch (error) {
        context.status("connection", "missing", `cannot watch: ${errorMessage(error)}`, "warn");
        await clock.sleep(Math.max(1000, this.#settleMs), signal);
        continue;
      }
      context.status("connection", "watching", "watching for new images");
      track(this.#scan(context));
      await this.#watch(watcher, context, (path) => track(this.#check(path, context)));
    }
    await Promise.all(checks);
  }

  /** Reads the watcher's events until it ends or the signal aborts. */
  async #watch(
    watcher: Deno.FsWatcher,
    context: SourceContext,
    found: (path: string) => void,
  ): Promise<void> {
    const close = () => watcher.close();
    context.signal.addEventListener("abort", close, { once: true });
    try {
      for await (const event of watcher) {
        if (event.kind === "access" || event.kind === "remove") continue;
        for (const path of event.paths) {
          if (this.#wanted(path.split("/").pop() ?? "", context)) found(path);
        }
      }
    } catch (error) {
      if (!context.signal.aborted) context.status("connection", "error", String(error), "warn");
    } finally {
      context.signal.removeEventListener("abort", close);
      try {
        watcher.close();
      } catch { /* already closed */ }
    }
  }

  /** Whether a file is an image to read; a file of another kind is logged once per extension. */
  #wanted(name: string, context: SourceContext): boolean {
    if (name === "" || name.startsWith(".")) return false;
    if (EXTENSIONS.test(name)) return true;
    const extension = /\.[^.]+$/.exec(name)?.[0].toLowerCase() ?? "(no extension)";
    if (!this.#ignored.has(extension)) {
      this.#ignored.add(extension);
      context.log({
        time: context.clock.now(),
        level: "info",
        source: this.name,
        message: `ignoring ${name}: ${extension} files are not read (images: ${IMAGE_TYPES}); ` +
          `logged once per extension`,
      });
    }
    return false;
  }

  /**
   * The images already in the folder: the newest is checked as a new file would be; the older
   * ones are counted in one log line.
   */
  async #scan(context: SourceContext): Promise<void> {
    const images: { path: string; mtime: number }[] = [];
    try {
      for await (const entry of Deno.readDir(this.#dir)) {
        if (!entry.isFile || !this.#wanted(entry.name, context)) continue;
        const path = `${this.#dir.replace(/\/+$/, "")}/${entry.name}`;
        const mtime = (await Deno.stat(path)).mtime?.getTime() ?? 0;
        images.push({ path, mtime });
      }
    } catch {
      return; // gone again: the watcher's loop reports it
    }
    images.sort((a, b) => b.mtime - a.mtime || (a.path < b.path ? 1 : -1));
    if (images.length > 1) {
      context.log({
        time: context.clock.now(),
        level: "info",
        source: this.name,
        message: `${images.length - 1} older image(s) already in the folder, not classified: ` +
          `the newest one present at start is, then each new or replaced file`,
      });
    }
    if (images.length > 0) await this.#check(images[0].path, context);
  }

  /** Starts (or re-arms) the completeness check of one path. */
  #check(path: string, context: SourceContext): Promise<void> | undefined {
    const busy = this.#busy.get(path);
    if (busy) {
      busy.dirty = true;
      return undefined;
    }
    const state = { dirty: false };
    this.#busy.set(path, state);
    return this.#settle(path, state, context)
      .catch((error) => {
        context.log({
          time: context.clock.now(),
          level: "warn",
          source: this.name,
          message: `${path}: ${errorMessage(error)}`,
        });
      })
      .finally(() => this.#busy.delete(path));
  }

  async #settle(path: string, state: { dirty: boolean }, context: SourceContext): Promise<void> {
    const { signal, clock } = context;
    let stableSince = clock.now();
    let last = "";
    // the bytes read for a size:mtime key: a settled file without its end marker is read once,
    // not again at every check until it counts as complete
    let read: { key: string; bytes: Uint8Array } | undefined;
    while (!signal.aborted) {
      state.dirty = false;
      await clock.sleep(this.#settleMs, signal);
      let info: Deno.FileInfo;
      try {
        info = await Deno.stat(path);
      } catch {
        return; // removed or renamed away
      }
      if (!info.isFile) return;
      const key = `${info.size}:${info.mtime?.getTime()}`;
      if (key !== last || state.dirty || info.size === 0) {
        last = key;
        stableSince = clock.now();
        continue;
      }
      if (this.#seen.get(path) === key) return;
      if (info.size > this.#max) {
        context.log({
          time: clock.now(),
          level: "warn",
          source: this.name,
          message: `${path}: ${info.size} bytes, over the ${this.#max}-byte limit`,
        });
        this.#remember(path, key);
        return;
      }
      if (read?.key !== key) {
        const bytes = await Deno.readFile(path);
        if (bytes.length !== info.size) continue; // changed while reading
        read = { key, bytes };
      }
      if (!looksComplete(read.bytes) && clock.now() - stableSince < this.#incompleteMs) continue;
      this.#remember(path, key);
      const file = path.split("/").pop();
      context.emit({ source: this.name, bytes: read.bytes, time: clock.now(), file });
      return;
    }
  }

  #remember(path: string, key: string): void {
    this.#seen.delete(path);
    this.#seen.set(path, key);
    if (this.#seen.size > SEEN_LIMIT) this.#seen.delete(this.#seen.keys().next().value!);
  }
}
