/**
 * The globals of an edge platform that pretends to have threads, as Supabase Edge Functions do:
 * `SharedArrayBuffer` is an alias of `ArrayBuffer`, and creating a shared `WebAssembly.Memory`
 * throws "Creating a shared memory is not supported".
 *
 * @module
 */

/** The message Supabase Edge Functions throw for `new WebAssembly.Memory({shared: true})`. */
export const SHARED_MEMORY_ERROR = "Creating a shared memory is not supported";

/**
 * Replaces `WebAssembly.Memory` with a subclass that throws {@linkcode SHARED_MEMORY_ERROR} for
 * `shared: true` (or, with `silent`, quietly makes an unshared memory) and aliases
 * `SharedArrayBuffer` to `ArrayBuffer`. Returns the function that puts both back.
 */
export function emulateEdgeGlobals(options: { silent?: boolean } = {}): () => void {
  const wasm = Object.getOwnPropertyDescriptor(WebAssembly, "Memory")!;
  const shared = Object.getOwnPropertyDescriptor(globalThis, "SharedArrayBuffer")!;
  const RealMemory = WebAssembly.Memory;
  class EdgeMemory extends RealMemory {
    constructor(descriptor: WebAssembly.MemoryDescriptor) {
      if (descriptor?.shared && !options.silent) throw new TypeError(SHARED_MEMORY_ERROR);
      super({ ...descriptor, shared: false });
    }
  }
  Object.defineProperty(WebAssembly, "Memory", { ...wasm, value: EdgeMemory });
  Object.defineProperty(globalThis, "SharedArrayBuffer", { ...shared, value: ArrayBuffer });
  return () => {
    Object.defineProperty(WebAssembly, "Memory", wasm);
    Object.defineProperty(globalThis, "SharedArrayBuffer", shared);
  };
}
