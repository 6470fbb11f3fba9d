/**
 * Packed filters, once per filter tensor and packing: the first pointwise convolution with a
 * filter packs it into column panels (`pw_pack`, or an int8 packing such as `q8_pack`) in memory
 * allocated with the backend's own `_malloc`; later ones reuse the panels. The blocks are freed
 * when the backend releases the filter's data (`disposeData`), or when the cache is cleared.
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

/** How a filter is packed: the float32 one of `pw_pack` by default. */
export interface Packer {
  /** Names the packing: a filter packed two ways keeps both blocks. */
  readonly key: string;
  /** Bytes of the block for a `[k, n]` filter. */
  bytes(k: number, n: number): number;
  /** Packs the row-major float32 `[k, n]` filter at `filter` into the block at `packed`. */
  pack(filter: number, packed: number, k: number, n: number): void;
}

/** Packed filters by the filter tensor's `dataId`, then by packing. */
export class PackedWeights {
  readonly #backend: WasmHeap;
  readonly #float: Packer;
  readonly #packed = new Map<object, Map<string, { pointer: number; bytes: number }>>();
  readonly #wrapped: WasmHeap["disposeData"];
  readonly #restore: () => void;
  #bytes = 0;

  /**
   * Creates an empty cache on `backend`, packing with `kernel`, and wraps the backend's
   * `disposeData` so that a filter's panels go with it.
   */
  constructor(backend: WasmHeap, kernel: KernelExports) {
    this.#backend = backend;
    this.#float = {
      key: "float32",
      bytes: (k, n) => kernel.pw_packed_floats(k, n) * 4,
      pack: (filter, packed, k, n) => kernel.pw_pack(filter, packed, k, n),
    };
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

  /** Blocks packed now (a filter packed two ways counts twice). */
  get size(): number {
    let count = 0;
    for (const blocks of this.#packed.values()) count += blocks.size;
    return count;
  }

  /** Bytes of packed panels held now. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * The panels of the filter `dataId` (a row-major `[k, n]` float32 block at `filter`),
   * packed by `packer` (default: `pw_pack`) on first use.
   *
   * @throws {Error} when `_malloc` fails.
   */
  get(dataId: object, filter: number, k: number, n: number, packer: Packer = this.#float): number {
    let blocks = this.#packed.get(dataId);
    const found = blocks?.get(packer.key);
    if (found) return found.pointer;
    const bytes = packer.bytes(k, n);
    const pointer = this.#backend.wasm._malloc(bytes) >>> 0;
    if (pointer === 0) throw new Error(`cannot allocate ${bytes} bytes for packed weights`);
    packer.pack(filter, pointer, k, n);
    if (!blocks) this.#packed.set(dataId, blocks = new Map());
    blocks.set(packer.key, { pointer, bytes });
    this.#bytes += bytes;
    return pointer;
  }

  #free(dataId: object): void {
    const blocks = this.#packed.get(dataId);
    if (!blocks) return;
    this.#packed.delete(dataId);
    for (const entry of blocks.values()) {
      this.#bytes -= entry.bytes;
      this.#backend.wasm._free(entry.pointer);
    }
  }

  /**
   * Frees every packed filter and gives the backend its own `disposeData` back. With
   * `release: false` (the backend is being dropped with its memory) nothing is freed.
   */
  clear(release = true): void {
    if (release) {
      for (const blocks of this.#packed.values()) {
        for (const { pointer } of blocks.values()) this.#backend.wasm._free(pointer);
      }
    }
    this.#packed.clear();
    this.#bytes = 0;
    this.#restore();
  }
}
