/**
 * Where the edge endpoint decodes images: in one worker shared by every request, so that a slow
 * decode never holds up the event loop (`/healthz`, bodies being read, other answers), or on the
 * event loop where the runtime has no `Worker` (Supabase's edge runtime, Deno Deploy) or when
 * asked (`MOBILENET_EDGE_DECODE=inline`).
 *
 * Why one worker and not one per request: each isolate costs memory. Measured (0.25/224, one
 * thread, 16 concurrent requests, `bench/edge_load.ts`): a peak RSS of 197-202 MiB with the
 * worker against 168 MiB inline, most of it the worker's own copy of the library's modules;
 * without collecting its garbage (see `decode_worker.ts`) it held 50-70 MiB more. What it buys
 * (`bench/edge_hostile.ts`): while an image that takes 3.5-5 s to decode was classified,
 * `/healthz` answered within 0.2-0.6 s, against 3.3-4.2 s inline. Decodes are bounded by the
 * inference slots (a request decodes only while it holds one) and run one after another in the
 * worker, so the decoded pixels held at once stay within the slot count.
 *
 * The worker is started once the model is in (its module graph would otherwise compete with the
 * model's load for the CPU) and used from its first "ready"; until then images are decoded on the
 * event loop (a cold start never waits for it). A decode that runs past `timeoutMs` ends
 * the worker (a decoder that hangs cannot hold the server) and is answered `TOO_COMPLEX`; a new
 * worker takes the next image.
 *
 * @module
 */
import { decodeImage, type DecodeOptions, ImageDecodeError, type Pixels } from "../mod.ts";
import { errorMessage } from "../src/_util.ts";
import type { DecodeMode } from "./config.ts";
import { HttpError } from "./errors.ts";

/** Decoded pixels and the time the decode took. */
export interface Decoded {
  /** The pixels, upright. */
  pixels: Pixels;
  /** Milliseconds of decoding (in the worker when there is one). */
  decodeMs: number;
}

/** Decodes images for the handler. */
export interface ImageDecoder {
  /** Where decodes run right now: `"worker"` once the worker is ready, else `"inline"`. */
  readonly where: DecodeMode;
  /**
   * Decodes `bytes` (which may be transferred away: do not use them afterwards).
   *
   * @throws {ImageDecodeError} as `decodeImage` does, and `TOO_COMPLEX` for a decode stopped
   * after the timeout.
   */
  decode(bytes: Uint8Array, options: DecodeOptions): Promise<Decoded>;
  /** Ends the worker, if any. */
  close(): void;
}

/** Decodes on the event loop. */
export async function decodeInline(bytes: Uint8Array, options: DecodeOptions): Promise<Decoded> {
  const t0 = performance.now();
  const pixels = await decodeImage(bytes, options);
  return { pixels, decodeMs: performance.now() - t0 };
}

/** An image waiting for, or in, the worker. */
interface Job {
  id: number;
  bytes: Uint8Array;
  options: DecodeOptions;
  done: PromiseWithResolvers<Decoded>;
  timer?: ReturnType<typeof setTimeout>;
}

/** What the worker answers for one image (see `decode_worker.ts`). */
interface Reply {
  id: number;
  ok: boolean;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  /** Small pixels: in `buffer`, `length` bytes; large ones: transferred in `data`. */
  buffer?: SharedArrayBuffer;
  length?: number;
  data?: Uint8Array;
  decodeMs: number;
  name: string;
  code?: string;
  message: string;
}

const WORKER_URL = new URL("./decode_worker.ts", import.meta.url);

/** The buffer of `bytes` to transfer: their own, or a copy when they are a view of more. */
function transferable(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const own = bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength;
  return own ? bytes as Uint8Array<ArrayBuffer> : bytes.slice();
}

/** The error a failed reply stands for: the library's typed error, or a plain one (a 500). */
function replyError(reply: Reply): Error {
  if (reply.name === "ImageDecodeError" && reply.code) {
    return new ImageDecodeError(reply.code as ImageDecodeError["code"], reply.message);
  }
  return new Error(`decode worker: ${reply.name}: ${reply.message}`);
}

/**
 * One decode worker, images one at a time, with the event loop as the fallback.
 *
 * @example
 * ```ts
 * import { WorkerDecoder } from "./decoder.ts";
 * const decoder = new WorkerDecoder({ timeoutMs: 30_000 });
 * const bytes = await Deno.readFile("samples/african_elephant.jpg");
 * const { pixels } = await decoder.decode(bytes, { minWidth: 224, minHeight: 224 });
 * console.log(pixels.width, decoder.where);
 * decoder.close();
 * ```
 */
export class WorkerDecoder implements ImageDecoder {
  readonly #timeoutMs: number;
  readonly #url: URL;
  #worker?: Worker;
  #ready = false;
  /** The worker was ready once: later (re)starts queue images instead of decoding inline. */
  #wasReady = false;
  /** The worker cannot run here: decode inline for good. */
  #broken = false;
  #closed = false;
  #nextId = 1;
  readonly #queue: Job[] = [];
  #current?: Job;
  #startTimer?: ReturnType<typeof setTimeout>;

  /**
   * Starts the worker, at once or when `startAfter` settles, `startDelayMs` later (0 by
   * default). `url` is the worker module (tests give a stand-in).
   *
   * @throws {RangeError} unless `timeoutMs` is a positive number and `startDelayMs` is 0 or more.
   */
  constructor(
    options: { timeoutMs: number; url?: URL; startAfter?: Promise<unknown>; startDelayMs?: number },
  ) {
    if (!(options.timeoutMs > 0)) {
      throw new RangeError(`timeoutMs must be positive, got ${options.timeoutMs}`);
    }
    const delayMs = options.startDelayMs ?? 0;
    if (!(delayMs >= 0)) throw new RangeError(`startDelayMs must be 0 or more, got ${delayMs}`);
    this.#timeoutMs = options.timeoutMs;
    this.#url = options.url ?? WORKER_URL;
    const start = () => this.#closed || this.#start();
    const later = () => {
      if (delayMs === 0) return start();
      if (!this.#closed) this.#startTimer = setTimeout(start, delayMs);
    };
    if (options.startAfter) options.startAfter.then(later, later);
    else later();
  }

  /** `"worker"` once the worker has said it is ready (and until it cannot run), else `"inline"`. */
  get where(): DecodeMode {
    return this.#wasReady && !this.#broken ? "worker" : "inline";
  }

  /** Decodes in the worker, or inline until it is first ready or where it cannot run. */
  decode(bytes: Uint8Array, options: DecodeOptions): Promise<Decoded> {
    if (this.#closed) return decodeInline(bytes, options);
    if (this.#broken || !this.#wasReady) return decodeInline(bytes, options);
    const job: Job = { id: this.#nextId++, bytes, options, done: Promise.withResolvers() };
    this.#queue.push(job);
    this.#pump();
    return job.done.promise;
  }

  /** Ends the worker; the image in it fails, images waiting are decoded inline. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#startTimer);
    this.#fail(new HttpError(503, "SHUTTING_DOWN", "the server is stopping; try again"));
    this.#drainInline();
  }

  #start(): void {
    try {
      const worker = new Worker(this.#url, { type: "module" });
      worker.onmessage = (event) => this.#onMessage(worker, event.data);
      worker.onerror = (event) => {
        event.preventDefault();
        this.#onError(worker, event.message);
      };
      this.#worker = worker;
    } catch (error) {
      this.#giveUp(`cannot start (${errorMessage(error)})`);
    }
  }

  #stop(): void {
    this.#worker?.terminate();
    this.#worker = undefined;
    this.#ready = false;
  }

  /** The worker cannot run: log it once, decode everything inline from now on. */
  #giveUp(why: string): void {
    this.#stop();
    this.#broken = true;
    console.warn(`edge: decode worker ${why}; decoding on the event loop`);
    this.#drainInline();
  }

  /** Decodes the images waiting (not yet sent, so their bytes are still here) inline. */
  #drainInline(): void {
    for (const job of this.#queue.splice(0)) {
      decodeInline(job.bytes, job.options).then(job.done.resolve, job.done.reject);
    }
  }

  #onMessage(worker: Worker, reply: Reply & { ready?: true }): void {
    if (worker !== this.#worker) return;
    if (reply.ready) {
      this.#ready = this.#wasReady = true;
      return this.#pump();
    }
    const job = this.#current;
    if (!job || job.id !== reply.id) return;
    clearTimeout(job.timer);
    this.#current = undefined;
    if (reply.ok) {
      // Copied out of the shared buffer before the next image is sent: the worker reuses it.
      const data = reply.data ?? new Uint8Array(reply.buffer!, 0, reply.length).slice();
      const { width, height, channels, decodeMs } = reply;
      job.done.resolve({ pixels: { data, width, height, channels }, decodeMs });
    } else {
      job.done.reject(replyError(reply));
    }
    this.#pump();
  }

  /** The module did not load (give up: no restart loop), or the worker died while decoding. */
  #onError(worker: Worker, message: string): void {
    if (worker !== this.#worker) return;
    if (!this.#ready) return this.#giveUp(`failed to load: ${message}`);
    console.warn(`edge: decode worker failed: ${message}; starting a new one`);
    this.#fail(new Error(`decode worker failed: ${message}`));
  }

  /** Ends the worker, fails the image in it, and starts another for the queue. */
  #fail(error: Error): void {
    this.#stop();
    const job = this.#current;
    this.#current = undefined;
    if (job) {
      clearTimeout(job.timer);
      job.done.reject(error);
    }
    if (!this.#closed) this.#start();
  }

  #pump(): void {
    const worker = this.#worker;
    if (!worker || !this.#ready || this.#current) return;
    const job = this.#queue.shift();
    if (!job) return;
    this.#current = job;
    const bytes = transferable(job.bytes);
    job.bytes = new Uint8Array(0); // transferred: the worker owns them now
    worker.postMessage({ id: job.id, bytes, options: job.options }, [bytes.buffer]);
    job.timer = setTimeout(() => {
      console.warn(`edge: a decode ran past ${this.#timeoutMs} ms; stopping its worker`);
      this.#fail(
        new ImageDecodeError(
          "TOO_COMPLEX",
          `the image was still decoding after ${this.#timeoutMs} ms, and was stopped`,
        ),
      );
    }, this.#timeoutMs);
  }
}

/** Decodes on the event loop (`MOBILENET_EDGE_DECODE=inline`, or where there is no Worker). */
export class InlineDecoder implements ImageDecoder {
  /** Always `"inline"`. */
  readonly where: DecodeMode = "inline";
  /** See {@linkcode decodeInline}. */
  decode(bytes: Uint8Array, options: DecodeOptions): Promise<Decoded> {
    return decodeInline(bytes, options);
  }
  /** Nothing to end. */
  close(): void {}
}

/**
 * The decoder `mode` asks for: a {@linkcode WorkerDecoder} (started `startDelayMs` after
 * `startAfter` settles), or an {@linkcode InlineDecoder} for `"inline"` and where the runtime
 * has no `Worker`.
 */
export function createDecoder(
  mode: DecodeMode,
  timeoutMs: number,
  startAfter?: Promise<unknown>,
  startDelayMs?: number,
): ImageDecoder {
  if (mode === "inline" || typeof Worker !== "function") return new InlineDecoder();
  return new WorkerDecoder({ timeoutMs, startAfter, startDelayMs });
}
