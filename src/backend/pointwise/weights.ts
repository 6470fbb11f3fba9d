/**
 * Packed filters, once per filter tensor: the first pointwise convolution with a filter packs it
 * into column panels (`pw_pack`) in memory allocated with the backend's own `_malloc`; later
 * ones reuse the panels. The block is freed when the backend releases the filter's data
 * (`disposeData`), or when the cache is cleared.
 *
 * @module
 */
import type { KernelExports } from "./module.ts";

/** The part of tfjs' `BackendWasm` that the cache uses. */
export interface WasmHeap {
  /** The emscripten module: its allocator. */
  wasm: { _malloc(bytes: number): number; _free(pointer: number): void };
  /** Releases a tensor's data (tfjs' method; wrapped while the cache is alive). */
  disposeData(dataId: object, force?: boolean): boolean;
}

/** Packed filters by the filter tensor's `dataId`. */
export class PackedWeights {
  readonly #backend: WasmHeap;
  readonly #kernel: KernelExports;
  readonly #packed = new Map<object, { pointer: number; bytes: number }>();
  readonly #wrapped: WasmHeap["disposeData"];
  readonly #restore: () => void;
  #bytes = 0;

  /**
   * Creates an empty cache on `backend`, packing with `kernel`, and wraps the backend's
   * `disposeData` so that a filter's panels go with it.
   */
  constructor(backend: WasmHeap, kernel: KernelExports) {
    this.#backend = backend;
    this.#kernel = kernel;
    const own = Object.hasOwn(backend, "disposeData") ? backend.disposeData : undefined;
    const original = backend.disposeData;
    this.#wrapped = (dataId: object, force?: boolean): boolean => {
      const released = original.call(backend, dataId, force);
      if (released) this.#free(dataId);
      return released;
    };
    backend.disposeData = this.#wrapped;
    this.#restore = () => {
      if (backend.disposeData !== this.#wrapped) return; // wrapped again since: leave it
      if (own) backend.disposeData = own;
      else delete (backend as { disposeData?: unknown }).disposeData;
    };
  }

  /** Filters packed now. */
  get size(): number {
    return this.#packed.size;
  }

  /** Bytes of packed panels held now. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * The panels of the filter `dataId` (a row-major `[k, n]` float32 block at `filter`),
   * packed on first use.
   *
   * @throws {Error} when `_malloc` fails.
   */
  get(dataId: object, filter: number, k: number, n: number): number {
    const found = this.#packed.get(dataId);
    if (found) return found.pointer;
    const bytes = this.#kernel.pw_packed_floats(k, n) * 4;
    const pointer = this.#backend.wasm._malloc(bytes) >>> 0;
    if (pointer === 0) throw new Error(`cannot allocate ${bytes} bytes for packed weights`);
    this.#kernel.pw_pack(filter, pointer, k, n);
    this.#packed.set(dataId, { pointer, bytes });
    this.#bytes += bytes;
    return pointer;
  }

  #free(dataId: object): void {
    const entry = this.#packed.get(dataId);
    if (!entry) return;
    this.#packed.delete(dataId);
    this.#bytes -= entry.bytes;
    this.#backend.wasm._free(entry.pointer);
  }

  /**
   * Frees every packed filter and gives the backend its own `disposeData` back. With
   * `release: false` (the backend is being dropped with its memory) nothing is freed.
   */
  clear(release = true): void {
    if (release) {
      for (const { pointer } of this.#packed.values()) this.#backend.wasm._free(pointer);
    }
    this.#packed.clear();
    this.#bytes = 0;
    this.#restore();
  }
}
