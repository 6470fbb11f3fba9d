/**
 * A block of the backend's heap that the runner keeps from call to call: grown when a call needs
 * more, and freed only by {@linkcode HeapBlock.free} (when our kernels are uninstalled). Its start
 * is on a cache line.
 *
 * @module
 */
import type { WasmHeap } from "./weights.ts";

/** Bytes of a cache line: where a block starts. */
export const LINE_BYTES = 64;

/** The emscripten allocator of the backend's heap. */
export type Allocator = WasmHeap["wasm"];

/** A kept, growing block of the backend's heap. */
export class HeapBlock {
  readonly #heap: Allocator;
  readonly #what: string;
  #pointer = 0;
  #start = 0;
  #bytes = 0;

  /** `what` names the block in the error when the heap has no room for it. */
  constructor(heap: Allocator, what: string) {
    this.#heap = heap;
    this.#what = what;
  }

  /** Bytes the block holds now (0 before its first use and after {@linkcode HeapBlock.free}). */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * The block's start (on a cache line), at least `bytes` long: the same block as the last call
   * when that is long enough, else a new one (the old one freed, its contents lost).
   *
   * @example
   * ```ts ignore
   * const middles = new HeapBlock(backend.wasm, "the middles");
   * const y = middles.at(2 * 4096); // kept: the next call for as much gets the same block
   * ```
   * @throws {Error} when the heap has no room for it.
   */
  at(bytes: number): number {
    if (this.#bytes >= bytes) return this.#start;
    this.free();
    const pointer = this.#heap._malloc(bytes + LINE_BYTES) >>> 0;
    if (pointer === 0) throw new Error(`cannot allocate ${bytes} bytes for ${this.#what}`);
    this.#pointer = pointer;
    this.#start = Math.ceil(pointer / LINE_BYTES) * LINE_BYTES;
    this.#bytes = bytes;
    return this.#start;
  }

  /** Frees the block (the next {@linkcode HeapBlock.at} allocates a new one). */
  free(): void {
    if (this.#pointer) this.#heap._free(this.#pointer);
    this.#pointer = this.#start = this.#bytes = 0;
  }
}
