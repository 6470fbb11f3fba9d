/**
 * Transparent huge pages for a WebAssembly memory, on Linux, when the process may call native
 * code (`--allow-ffi`).
 *
 * A cold start writes some 20 MB of fresh WASM memory: the weights, the first inference's
 * activations, the first image. On this project's VM the first touch of a 4 KiB page costs 5-25
 * µs (the host backs the guest's memory lazily), so those pages cost more than the copies
 * themselves. V8 maps WASM memory itself, so glibc's `glibc.malloc.hugetlb=1` tunable (which
 * the `classify` task sets for malloc) does not reach it, and Linux's THP setting is usually
 * `madvise`: a region gets 2 MiB pages only when asked. {@linkcode adviseHugePages} asks, with
 * `madvise(MADV_HUGEPAGE)` from libc through Deno's FFI. It is a hint: the values are the same
 * either way.
 *
 * It never prompts: without a granted `ffi` permission (edge functions, the least-privilege
 * `deno task serve`, `classify:small-board`), on another OS, without `libc.so.6`, or with
 * `MOBILENET_EDGE_HUGE_PAGES=0` (2 MiB pages can raise the peak RSS by a few MiB), it does
 * nothing and says why.
 *
 * @module
 */
import { readEnv } from "./_util.ts";

/** Set to `0` to keep 4 KiB pages even with `--allow-ffi`. */
export const HUGE_PAGES_ENV = "MOBILENET_EDGE_HUGE_PAGES";

/** `madvise` advice: back the range with transparent huge pages where possible. */
const MADV_HUGEPAGE = 14;

/**
 * Bytes advised from a memory's start, so that the memory's later growth is covered too. V8
 * reserves more than this for every 32-bit WASM memory on 64-bit Linux (8 GiB with its guard
 * regions), so the range stays within the memory's own reservation.
 */
export const HUGE_PAGES_WINDOW = 1 << 30;

const SYMBOLS = {
  madvise: { parameters: ["pointer", "usize", "i32"], result: "i32" },
} as const;

/** libc, opened once (Deno compiles a call stub per symbol: about 3 ms the first time). */
let libc: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;

/**
 * Asks Linux to back `memory` (and its growth, up to {@linkcode HUGE_PAGES_WINDOW}) with
 * transparent huge pages.
 *
 * @example
 * ```ts
 * import { adviseHugePages } from "./huge_pages.ts";
 * const memory = new WebAssembly.Memory({ initial: 256 });
 * console.log(adviseHugePages(memory)); // "on (madvise)", or why not
 * ```
 *
 * @returns `"on (madvise)"`, or why not (`"off: ..."`).
 */
export function adviseHugePages(memory: WebAssembly.Memory): string {
  const deno = (globalThis as { Deno?: typeof Deno }).Deno;
  if (deno?.build?.os !== "linux") return "off: not Linux";
  if (readEnv(HUGE_PAGES_ENV) === "0") return `off: ${HUGE_PAGES_ENV}=0`;
  let granted = false;
  try {
    granted = deno.permissions.querySync({ name: "ffi" }).state === "granted";
  } catch {
    // a runtime without the permissions API or FFI (an edge runtime)
  }
  if (!granted || typeof deno.dlopen !== "function") return "off: no --allow-ffi";
  try {
    libc ??= deno.dlopen("libc.so.6", SYMBOLS);
  } catch {
    return "off: no libc.so.6";
  }
  try {
    const base = deno.UnsafePointer.of(memory.buffer as ArrayBuffer);
    const advise = (bytes: number) => libc!.symbols.madvise(base, BigInt(bytes), MADV_HUGEPAGE);
    if (advise(HUGE_PAGES_WINDOW) === 0) return "on (madvise)";
    // a window larger than the memory's reservation (some part not mapped): its current size
    if (advise(memory.buffer.byteLength) === 0) return "on (madvise, its current size)";
    return "off: madvise failed";
  } catch (error) {
    return `off: ${error instanceof Error ? error.message : String(error)}`;
  }
}
