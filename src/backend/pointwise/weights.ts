/**
 * Packed filters, once per filter tensor and packing: the first pointwise convolution with a
 * filter packs it into column panels (`pw_pack`, or an int8 packing such as `q8_pack`) in memory
 * allocated with the backend's own `_malloc`; later ones reuse the panels. The blocks are freed
 * when the backend releases the filter's data (`disposeData`), or when the cache is cleared.
 *
 * A filter uploaded already in the float32 panel order of `pw_pack` (a model's loader writes it,
 * `src/model/panels.ts`) is adopted
 * instead: its own memory is its panels, so a load touches its bytes once, not twice (the
 * packed copy was 10 MB of fresh pages on the first inference of 0.75/224). Its memory stays
 * tfjs': freed with the tensor, never by the cache. Putting XNNPACK's kernels back turns adopted
 * filters into row-major ones with their panels copied out ({@linkcode PackedWeights.unadopt}).
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

/** One packed block: at `pointer`, `bytes` long; adopted blocks are the filter's own memory. */
interface Block {
  pointer: number;
  bytes: number;
  /** The filter's `[k, n]` when the block is the filter tensor's own memory (adopted). */
  adopted?: { k: number; n: number };
}

/** Packed filters by the filter tensor's `dataId`, then by packing. */
export class PackedWeights {
  readonly #backend: WasmHeap;
  readonly #float: Packer;
  readonly #panel: number;
  readonly #packed = new Map<object, Map<string, Block>>();
  readonly #wrapped: WasmHeap["disposeData"];
  readonly #restore: () => void;
  #bytes = 0;

  /**
   * Creates an empty cache on `backend`, packing with `kernel`, and wraps the backend's
   * `disposeData` so that a filter's panels go with it.
   */
  constructor(backend: WasmHeap, kernel: KernelExports) {
    this.#backend = backend;
    this.#panel = kernel.pw_nr();
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

  /** Columns per panel of the float32 packing (`pw_nr`). */
  get panel(): number {
    return this.#panel;
  }

  /**
   * Takes the float32 filter `dataId`, whose data at `pointer` is already in `pw_pack`'s panel
   * order for this cache's panel, as its own panels.
   *
   * @throws {RangeError} when `n` is not a multiple of the panel, or the filter has panels.
   */
  adopt(dataId: object, pointer: number, k: number, n: number): void {
    if (n % this.#panel !== 0) {
      throw new RangeError(`${n} columns do not split into panels of ${this.#panel}`);
    }
    let blocks = this.#packed.get(dataId);
    if (blocks?.has(this.#float.key)) {
      throw new RangeError("this filter has float32 panels already");
    }
    if (!blocks) this.#packed.set(dataId, blocks = new Map());
    blocks.set(this.#float.key, { pointer, bytes: k * n * 4, adopted: { k, n } });
  }

  /**
   * Gives every adopted filter its row-major values back (for kernels that read them, such as
   * XNNPACK's), its panels moved to a block of their own: afterwards, every kernel reads what it
   * expects. `heap` views the backend's memory.
   *
   * @throws {Error} when `_malloc` fails.
   */
  unadopt(heap: () => Float32Array): void {
    for (const blocks of this.#packed.values()) {
      const block = blocks.get(this.#float.key);
      if (!block?.adopted) continue;
      const { k, n } = block.adopted;
      const pointer = this.#backend.wasm._malloc(block.bytes) >>> 0;
      if (pointer === 0) throw new Error(`cannot allocate ${block.bytes} bytes for packed weights`);
      const f32 = heap();
      const from = block.pointer / 4;
      const panels = f32.slice(from, from + k * n);
      f32.set(panels, pointer / 4);
      for (let p = 0; p < n; p += this.#panel) {
        for (let row = 0; row < k; row++) {
          const at = p * k + row * this.#panel;
          for (let j = 0; j < this.#panel; j++) f32[from + row * n + p + j] = panels[at + j];
        }
      }
      blocks.set(this.#float.key, { pointer, bytes: block.bytes });
      this.#bytes += block.bytes;
    }
  }

  #free(dataId: object): void {
    const blocks = this.#packed.get(dataId);
    if (!blocks) return;
    this.#packed.delete(dataId);
    for (const entry of blocks.values()) {
      if (entry.adopted) continue; // the tensor's own memory, which tfjs frees
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
        for (const { pointer, adopted } of blocks.values()) {
          if (!adopted) this.#backend.wasm._free(pointer);
        }
      }
    }
    this.#packed.clear();
    this.#bytes = 0;
    this.#restore();
  }
}
