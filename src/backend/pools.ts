/**
 * Run-time thread count of the threaded binary, without restarting the backend.
 *
 * tfjs-backend-wasm 4.22 keeps XNNPACK's pool in one C global, `tfjs::backend::threadpool`,
 * passed to every `xnn_run_operator`. Its export `init_with_threads_count(n)` creates a new
 * pthreadpool and stores it there; it never destroys the old one, and there is no
 * `pthreadpool_destroy` export. So the count can change at run time: a new pool takes effect on
 * the next kernel, tensors and XNNPACK operators (packed weights) stay valid, and the old pool's
 * threads park on a futex (no CPU).
 *
 * To switch back and forth without creating threads each time, {@linkcode ThreadPools} keeps one
 * pool per thread count and writes the wanted pool's pointer into that global. The global's
 * address is not exported: it is found once, by diffing the static data (below the main stack's
 * top, where no heap block lies) around the `init_with_threads_count(1)` call that creates the
 * 1-thread pool (it starts no thread), and keeping the single word whose old and new values make
 * `get_threads_count()` answer the old and the new count. In tfjs-backend-wasm 4.22 the diff
 * holds 4 words and exactly one passes. If the verification does not single out one word,
 * switching still works by creating pools (each costs `n - 1` threads, limited by the 8 slots of
 * emscripten's pool).
 *
 * @module
 */
import type { LoadedModule } from "./emscripten_module.ts";

/**
 * The thread-count switch that the calibration and the watchdog drive: the one interface over
 * {@linkcode ThreadPools} (tests use fakes of it).
 */
export interface PoolSwitch {
  /** Threads of the active pool. */
  readonly active: number;
  /** Synchronous switch to an existing pool; false if there is none for `threads`. */
  useExisting(threads: number): boolean;
}

/** How {@linkcode ThreadPools.grow} ended. */
export type GrowResult =
  /** Both pools exist and switch by pointer; the 1-thread pool is active. */
  | "located"
  /** The pool of `threads` is active, but the switch was not located (no watchdog). */
  | "unlocated"
  /** No idle pthread slot was left for the pool: 1 thread stays active. */
  | "no-slots";

/** The XNNPACK pthreadpools of one threaded module, by thread count. */
export class ThreadPools implements PoolSwitch {
  #loaded: LoadedModule;
  #pools = new Map<number, number>();
  #address: number | undefined;
  /** The end of the last creating step: steps run one at a time (see `#step`). */
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  /** Wraps a loaded module whose backend was initialised (a pool exists). */
  constructor(loaded: LoadedModule) {
    this.#loaded = loaded;
  }

  /** Threads of the active pool. */
  get active(): number {
    return this.#loaded.exports.get_threads_count();
  }

  /** Most threads a pool may have. */
  get maxThreads(): number {
    return this.#loaded.maxThreads;
  }

  /** Whether pools are switched by pointer (the global was located). */
  get located(): boolean {
    return this.#address !== undefined;
  }

  #heap(): Int32Array {
    return new Int32Array(this.#loaded.memory.buffer);
  }

  /**
   * Makes a pool of `threads` threads active, creating it if needed. Returns false when that
   * needs a new pool and emscripten's pool has no idle slots left for it.
   *
   * @throws {RangeError} when `threads` is not an integer from 1 to `maxThreads`.
   */
  use(threads: number): Promise<boolean> {
    if (!Number.isInteger(threads) || threads < 1 || threads > this.maxThreads) {
      return Promise.reject(
        new RangeError(`threads must be an integer from 1 to ${this.maxThreads}, got ${threads}`),
      );
    }
    return this.#step(() => this.#use(threads));
  }

  /**
   * Creates the pool of `threads` (after its workers have loaded) and then a 1-thread pool
   * beside it, which locates the switch, as one step that no {@linkcode ThreadPools.use} comes
   * between; `settle` runs at its end, inside the step, and may switch pools by pointer. This
   * is how a backend started on 1 thread gains its pool once the workers are in, without
   * waiting for them at start-up.
   *
   * @throws {Error} when a worker fails to start or load; nothing was created then.
   */
  grow(threads: number, settle: (result: GrowResult) => void): Promise<GrowResult> {
    return this.#step(async () => {
      let result: GrowResult = "no-slots";
      if (await this.#use(threads)) {
        if (this.#address === undefined) await this.#use(1);
        if (this.located) result = "located";
        // Without the switch, a second pool of `threads` keeps what was asked for.
        else if (await this.#use(threads)) result = "unlocated";
      }
      settle(result);
      return result;
    });
  }

  /** Ends the creating steps: later ones create nothing (the module is being dropped). */
  close(): void {
    this.#closed = true;
  }

  /** Runs `fn` after the steps queued before it. */
  #step<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(fn);
    this.#queue = result.catch(() => {});
    return result;
  }

  async #use(threads: number): Promise<boolean> {
    if (this.useExisting(threads)) return true;
    const { bridge, pthreads } = this.#loaded;
    if (threads > 1) {
      if (!bridge || !pthreads || this.#closed) return false;
      try {
        await bridge.prepare(pthreads, threads - 1);
      } catch (error) {
        if (error instanceof RangeError) return false;
        throw error;
      }
    }
    if (this.#closed) return false;
    this.#create(threads);
    return true;
  }

  /** Switches to an existing pool by pointer; false if there is none or the global is unknown. */
  useExisting(threads: number): boolean {
    if (this.active === threads) return true;
    const pointer = this.#pools.get(threads);
    if (this.#address === undefined || pointer === undefined) return false;
    Atomics.store(this.#heap(), this.#address >>> 2, pointer);
    return this.active === threads;
  }

  #create(threads: number): void {
    const { exports } = this.#loaded;
    const previous = this.active;
    // Locate only around a 1-thread pool: it starts no thread, so while the words are probed
    // the main thread is the only one running (the other pools' threads spin or sleep on their
    // own heap-allocated pool).
    const locate = this.#address === undefined && threads === 1 && previous !== 1;
    let before: Int32Array | undefined;
    if (locate) {
      // emscripten lays memory out as [static data][main stack][heap]: called from JS, the stack
      // pointer is the stack's top, so [0, stackSave()) holds the C globals and no heap block
      // (pool structs, thread stacks), which other threads may be using.
      before = this.#heap().slice(0, exports.stackSave() >>> 2);
    }
    exports.init_with_threads_count(threads);
    if (this.active !== threads) {
      throw new Error(
        `init_with_threads_count(${threads}) gave ${this.active} threads`,
      );
    }
    if (before) this.#locate(before, previous, threads);
    if (this.#address !== undefined) {
      this.#pools.set(threads, Atomics.load(this.#heap(), this.#address >>> 2));
    }
  }

  #locate(before: Int32Array, previous: number, threads: number): void {
    const heap = this.#heap();
    const { exports } = this.#loaded;
    const found: number[] = [];
    for (let i = 0; i < before.length; i++) {
      const old = before[i];
      const now = heap[i];
      if (old === now || old === 0 || now === 0) continue;
      Atomics.store(heap, i, old);
      const withOld = exports.get_threads_count();
      Atomics.store(heap, i, now);
      const withNew = exports.get_threads_count();
      if (withOld === previous && withNew === threads) found.push(i);
    }
    if (found.length === 1) {
      this.#address = found[0] * 4;
      this.#pools.set(previous, before[found[0]]);
    }
  }
}
