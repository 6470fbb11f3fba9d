/**
 * The pthread bridge: runs the emscripten pthread pool of tfjs' threaded SIMD binary on Deno's
 * `node:worker_threads`.
 *
 * In Node mode the emscripten glue does `global.Worker = require("worker_threads").Worker` and
 * then creates 8 workers from the `blob:` URL tfjs returns for the worker script, which Deno
 * refuses. The bridge instead hands emscripten {@linkcode PthreadWorker} slots (installed as
 * `globalThis.Worker` only during the synchronous factory call, see
 * {@linkcode PthreadBridge.intercept}). A slot starts a real worker from tfjs' own pthread worker
 * source (`wasmWorkerContents`) with `eval: true`, behind a small prelude; the worker then loads
 * the real `tfjs-backend-wasm-threaded-simd.js` file by path. Only the slots that will run a
 * thread start a worker; the others answer emscripten's `load` at once and stay empty. Real
 * workers are always unref'd, so an idle pool never keeps the process alive, and every one is
 * counted in a registry until its `exit` event ({@linkcode liveWorkerCount}).
 *
 * `node:worker_threads` is imported only when the first real worker is about to start: a backend
 * whose workers start later (threads "auto") starts without Deno's Node layer.
 *
 * @module
 */
import type { Worker as NodeWorker } from "node:worker_threads";
import { pthreadWorkerGlue } from "../vendor/wasm_glue.js";
import { withTimeout } from "../_util.ts";

/** Real workers started by any bridge whose `exit` event has not fired yet. */
const live = new Set<NodeWorker>();

/**
 * Number of pthread workers started by this module that have not exited. After
 * `shutdownBackend()` it is 0.
 */
export function liveWorkerCount(): number {
  return live.size;
}

// Globals that emscripten's Node-mode worker script assigns with Object.assign. In a Deno worker
// some are accessors without a setter (`location`), and the assignment would throw; the prelude
// shadows exactly those with plain writable properties. Nothing else in the worker changes.
const PRELUDE = `"use strict";
(() => {
  for (const key of ["self", "require", "Module", "location", "Worker", "importScripts",
      "postMessage", "performance"]) {
    let owner = globalThis;
    let desc;
    while (owner && !(desc = Object.getOwnPropertyDescriptor(owner, key))) {
      owner = Object.getPrototypeOf(owner);
    }
    const settable = !desc || (desc.get ? Boolean(desc.set) : desc.writable);
    if (!settable) {
      Object.defineProperty(globalThis, key, {
        value: globalThis[key], writable: true, configurable: true, enumerable: true,
      });
    }
  }
})();
`;

let source: string | undefined;

/**
 * The script every pthread worker evaluates: the prelude, then tfjs-backend-wasm's own pthread
 * worker source with its newlines escaped exactly as tfjs does before putting it in a Blob.
 */
export function pthreadWorkerSource(): string {
  source ??= PRELUDE + String(pthreadWorkerGlue().wasmWorkerContents).replace(/\n/g, "\\n");
  return source;
}

/** A message between emscripten's main thread and a pthread worker. */
interface PthreadMessage {
  cmd?: string;
  [key: string]: unknown;
}

type Handler = (...args: unknown[]) => void;

/** The part of Node's `EventEmitter` a slot needs: `on` for the glue, `emit` for the slot. */
class Emitter {
  #handlers = new Map<string, Handler[]>();

  /** Adds `handler` for `event`. */
  on(event: string, handler: Handler): this {
    this.#handlers.set(event, [...(this.#handlers.get(event) ?? []), handler]);
    return this;
  }

  /** Calls the handlers of `event` in order; whether there were any. */
  emit(event: string, ...args: unknown[]): boolean {
    const handlers = this.#handlers.get(event) ?? [];
    for (const handler of handlers) handler(...args);
    return handlers.length > 0;
  }
}

/**
 * One slot of emscripten's pthread pool, with the part of the `node:worker_threads` Worker API
 * the glue uses (`on`, `postMessage`, `ref`, `unref`, `terminate`). Emscripten also stores its
 * own fields on it (`onmessage`, `loaded`, `pthread_ptr`, ...).
 */
export class PthreadWorker extends Emitter {
  /** Set by emscripten: handler of messages from the worker. */
  onmessage?: (event: { data: unknown }) => void;
  /** Set by emscripten: handler of worker errors. */
  onerror?: (error: unknown) => void;
  /** Set by emscripten once the worker reported `loaded`. */
  loaded?: boolean;
  #bridge: PthreadBridge;
  #real?: NodeWorker;
  #loadMessage?: PthreadMessage;
  #swallowLoaded = false;
  #ready?: Promise<void>;
  #terminated = false;

  /** Creates an empty slot; `_url` (tfjs' blob URL of the worker script) is ignored. */
  constructor(bridge: PthreadBridge, _url?: unknown) {
    super();
    this.#bridge = bridge;
    bridge.slots.push(this);
  }

  /** Whether a real worker runs behind this slot. */
  get started(): boolean {
    return this.#real !== undefined;
  }

  /** Resolves when the real worker of this slot has loaded the module. */
  get ready(): Promise<void> | undefined {
    return this.#ready;
  }

  #start(): NodeWorker {
    const workerClass = this.#bridge.workerClass;
    if (!workerClass) throw new Error("node:worker_threads is not loaded: prepare() the slot");
    const real = new workerClass(pthreadWorkerSource(), {
      eval: true,
      name: "tfjs-pthread",
    });
    real.unref();
    live.add(real);
    this.#real = real;
    const ready = Promise.withResolvers<void>();
    this.#ready = ready.promise;
    this.#ready.catch(() => {});
    let loaded = false;
    const exited = Promise.withResolvers<void>();
    real.once("exit", () => {
      live.delete(real);
      if (!loaded) {
        const error = new Error("a pthread worker exited before it loaded");
        ready.reject(error);
        if (!this.#terminated) this.#bridge.fail(error);
      }
      exited.resolve();
    });
    this.#bridge.exits.push(exited.promise);
    real.on("message", (data: PthreadMessage) => {
      if (data?.cmd === "loaded" && !loaded) {
        loaded = true;
        ready.resolve();
        if (this.#swallowLoaded) return;
      }
      this.emit("message", data);
    });
    real.on("error", (error: unknown) => {
      if (!loaded) {
        ready.reject(error);
        this.#bridge.fail(error);
        return;
      }
      this.emit("error", error);
    });
    return real;
  }

  /**
   * Starts the real worker of an empty slot that emscripten already counts as loaded, and
   * resolves when it has loaded the module. Does nothing for a started slot.
   */
  async prepare(): Promise<void> {
    if (this.#terminated) throw new Error("pthread slot was terminated");
    if (this.#real) return this.#ready!;
    if (!this.#loadMessage) throw new Error("pthread slot has not been loaded");
    await this.#bridge.loadWorkerClass();
    if (this.#terminated) throw new Error("pthread slot was terminated");
    if (this.#real) return this.#ready!;
    this.#swallowLoaded = true;
    this.#start().postMessage(this.#loadMessage);
    return this.#ready!;
  }

  /** Receives emscripten's messages: `load` (module and memory), `run` (start a pthread), ... */
  postMessage(message: PthreadMessage, transfer?: readonly Transferable[]): void {
    if (this.#terminated) return;
    if (message?.cmd === "load" && !this.#real) {
      this.#loadMessage = message;
      if (this.#bridge.takeEager()) {
        try {
          this.#start().postMessage(message);
        } catch (error) {
          this.#bridge.fail(error);
        }
      } else {
        // An empty slot: tell emscripten it is loaded; a worker starts if it is ever used.
        queueMicrotask(() => {
          if (!this.#terminated) this.emit("message", { cmd: "loaded" });
        });
      }
      return;
    }
    if (!this.#real) {
      // Used without prepare(): start now and queue `load` before the message. The caller may
      // block on the new thread; Deno starts node workers while the main thread waits.
      this.#swallowLoaded = true;
      this.#start().postMessage(this.#loadMessage);
    }
    // deno-lint-ignore no-explicit-any
    this.#real!.postMessage(message, transfer as any);
  }

  /** Kept unref'd: emscripten refs a worker while it runs a pthread, and XNNPACK's never end. */
  ref(): void {}

  /** The real worker is always unref'd. */
  unref(): void {}

  /** Ends the real worker, if any. */
  terminate(): Promise<void> {
    this.#terminated = true;
    const real = this.#real;
    if (!real) return Promise.resolve();
    return Promise.resolve(real.terminate()).then(() => {});
  }
}

/** The `Worker` constructor emscripten gets: a slot of `bridge`. */
function slotClassOf(bridge: PthreadBridge): new (url?: unknown) => PthreadWorker {
  return class extends PthreadWorker {
    constructor(url?: unknown) {
      super(bridge, url);
    }
  };
}

/** The `Worker` class of `node:worker_threads`. */
export type NodeWorkerClass = typeof NodeWorker;

/**
 * Imports `node:worker_threads` (only when the threaded binary is wanted, so that runtimes
 * without it can still run the single-thread binaries).
 *
 * @throws {Error} when the runtime has no `node:worker_threads` Worker.
 */
export async function importNodeWorker(): Promise<NodeWorkerClass> {
  const { Worker } = await import("node:worker_threads");
  if (typeof Worker !== "function") throw new Error("node:worker_threads has no Worker");
  return Worker;
}

/** Options of {@linkcode PthreadBridge}. */
export interface BridgeOptions {
  /**
   * How many slots start a real worker as soon as emscripten loads them (call
   * {@linkcode PthreadBridge.loadWorkerClass} before the factory when above 0).
   */
  eager: number;
  /** How long {@linkcode PthreadBridge.prepare} waits for workers to load. */
  timeoutMs: number;
}

/** emscripten's `PThread` object, the parts the bridge reads. */
export interface PthreadPool {
  /** Idle slots; emscripten takes the last one for a new thread. */
  unusedWorkers: unknown[];
}

/**
 * The pthread pool of one threaded emscripten module: its slots, its real workers and their end.
 */
export class PthreadBridge {
  /** Every slot emscripten created, in order. */
  readonly slots: PthreadWorker[] = [];
  /** One promise per started worker, resolved on its `exit`. */
  readonly exits: Promise<void>[] = [];
  /** Rejects when a worker fails to start or load. */
  readonly failed: Promise<never>;
  /** The class real workers are created from, once loaded. */
  workerClass?: NodeWorkerClass;
  #eager: number;
  #timeoutMs: number;
  #reject: (error: unknown) => void;
  #slotClass: new (url?: unknown) => PthreadWorker;

  /** Creates a bridge that starts `options.eager` workers right away. */
  constructor(options: BridgeOptions) {
    this.#eager = options.eager;
    this.#timeoutMs = options.timeoutMs;
    const failed = Promise.withResolvers<never>();
    this.failed = failed.promise;
    this.#reject = failed.reject;
    this.failed.catch(() => {});
    this.#slotClass = slotClassOf(this);
  }

  /**
   * Imports `node:worker_threads` once, for the workers that start from now on: by
   * {@linkcode PthreadBridge.prepare}, or before the factory call for eager workers.
   */
  async loadWorkerClass(): Promise<NodeWorkerClass> {
    this.workerClass ??= await importNodeWorker();
    return this.workerClass;
  }

  /** Whether another eager worker may start; counts it. */
  takeEager(): boolean {
    if (this.#eager <= 0) return false;
    this.#eager--;
    return true;
  }

  /** Marks the start as failed. */
  fail(error: unknown): void {
    this.#reject(error);
  }

  /**
   * Runs `fn` (the emscripten factory call) with `globalThis.Worker` answering this bridge's slot
   * class and ignoring assignments, then puts the original property back exactly as it was.
   */
  intercept<T>(fn: () => T): T {
    const saved = Object.getOwnPropertyDescriptor(globalThis, "Worker");
    const slotClass = this.#slotClass;
    Object.defineProperty(globalThis, "Worker", {
      configurable: true,
      enumerable: saved?.enumerable ?? false,
      get: () => slotClass,
      set: () => {},
    });
    try {
      return fn();
    } finally {
      if (saved) Object.defineProperty(globalThis, "Worker", saved);
      else delete (globalThis as { Worker?: unknown }).Worker;
    }
  }

  /**
   * Makes sure the next `count` threads emscripten creates land on started, loaded workers:
   * starts empty idle slots as needed, waits until they loaded, and moves the started ones to
   * the end of `pool.unusedWorkers`, where emscripten takes them from.
   *
   * @throws {RangeError} when the pool has fewer than `count` idle slots.
   * @throws {Error} when a worker fails to start or load in time.
   */
  async prepare(pool: PthreadPool, count: number): Promise<void> {
    const idle = pool.unusedWorkers.filter((w): w is PthreadWorker => w instanceof PthreadWorker);
    if (idle.length < count) {
      throw new RangeError(`only ${idle.length} idle pthread slots, ${count} needed`);
    }
    const chosen = [...idle.filter((w) => w.started), ...idle.filter((w) => !w.started)]
      .slice(0, count);
    await withTimeout(
      Promise.race([Promise.all(chosen.map((slot) => slot.prepare())), this.failed]),
      this.#timeoutMs,
      () => new Error(`pthread workers did not load within ${this.#timeoutMs} ms`),
    );
    const rest = pool.unusedWorkers.filter((w) => !chosen.includes(w as PthreadWorker));
    pool.unusedWorkers.splice(0, pool.unusedWorkers.length, ...rest, ...chosen);
  }

  /** Terminates every worker of this bridge and resolves when all have exited. */
  async terminate(): Promise<void> {
    await Promise.allSettled(this.slots.map((slot) => slot.terminate()));
    await Promise.all(this.exits);
  }
}
