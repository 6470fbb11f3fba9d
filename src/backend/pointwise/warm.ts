/**
 * The kernels' warm-up: one small call of each export (`pw_pack`, `pw_run`, `dw_run`, `cv_run`,
 * `gap_run`) right after the module is instantiated, on zeros in scratch memory of the backend's
 * heap. V8 runs a WebAssembly function first in its baseline compiler (Liftoff), which runs these
 * SIMD loops about 50 times slower than the optimizing compiler (TurboFan), and only switches a
 * function at its next call once it has run long enough. Without a warm-up, the first inference
 * ran most of its 1x1 layers and the whole filter packing on Liftoff code (the first classify
 * took 10-15 times a warm one). The warm-up calls cost a few milliseconds on Liftoff and set the
 * optimizing compiles going on V8's background threads while the weights load; the first
 * inference then runs optimized code. Results are thrown away; the calls change nothing else.
 * `dw_px`, which only separable blocks cut for several threads run, is warmed when the workers
 * start ({@linkcode warmBands}).
 *
 * @module
 */
import type { KernelExports } from "./module.ts";
import type { WasmHeap } from "./weights.ts";

/** Sizes of the warm-up calls: enough work in each loop for V8 to tier it up. */
const PW = { m: 384, k: 256, n: 64 };
const DW = { side: 24, channels: 64 };
const CV = { side: 32, cin: 3, n: 32 };

/**
 * Runs `fn` with zeroed, 16-byte aligned blocks of `floats[i]` floats each in `heap`'s memory,
 * then frees them. Never throws: a failed warm-up only means a slower first inference.
 */
function withScratch(
  heap: WasmHeap,
  memory: WebAssembly.Memory,
  floats: number[],
  fn: (at: number[]) => void,
): void {
  const total = floats.reduce((sum, n) => sum + n + 4, 0) * 4;
  let base = 0;
  try {
    base = heap.wasm._malloc(total) >>> 0;
    if (base === 0) return;
    new Float32Array(memory.buffer, base, total / 4).fill(0);
    const at: number[] = [];
    let offset = (base + 15) & ~15;
    for (const n of floats) {
      at.push(offset);
      offset += (n * 4 + 15) & ~15;
    }
    fn(at);
  } catch {
    // a warm-up that fails costs nothing but speed
  } finally {
    if (base !== 0) heap.wasm._free(base);
  }
}

/**
 * Runs each kernel once on zeros in a scratch block of `heap`'s memory, then frees it. Never
 * throws: a failed warm-up only means a slower first inference.
 */
export function warmUp(kernel: KernelExports, heap: WasmHeap, memory: WebAssembly.Memory): void {
  const pwPacked = kernel.pw_packed_floats(PW.k, PW.n);
  const cvPacked = kernel.pw_packed_floats(9 * CV.cin, CV.n);
  const dwPixels = DW.side * DW.side * DW.channels;
  const floats = [
    PW.m * PW.k, // a
    PW.k * PW.n, // b, also the cv filter [9 * cin, n] (smaller)
    pwPacked,
    PW.m * PW.n, // c
    dwPixels, // dw x, also the cv input and gap input
    9 * DW.channels, // dw w
    dwPixels, // dw y, also the cv output and gap output
    cvPacked,
  ];
  withScratch(heap, memory, floats, ([a, b, packed, c, x, w, y, cvPack]) => {
    kernel.pw_pack(b, packed, PW.k, PW.n);
    kernel.pw_run(
      a,
      packed,
      0,
      c,
      0,
      PW.m,
      0,
      Math.ceil(PW.n / kernel.pw_nr()),
      PW.k,
      PW.n,
      0,
      6,
      96,
    );
    const s = DW.side;
    kernel.dw_run(x, w, 0, y, s, s, DW.channels, s, s, 1, 1, 1, 0, s, 0, 6);
    kernel.pw_pack(b, cvPack, 9 * CV.cin, CV.n);
    const half = CV.side / 2;
    kernel.cv_run(
      x,
      cvPack,
      0,
      y,
      CV.side,
      CV.side,
      CV.cin,
      CV.n,
      half,
      half,
      2,
      0,
      0,
      0,
      half,
      0,
      6,
    );
    kernel.gap_run(x, y, DW.side * DW.side, DW.channels, 0, 1);
  });
}

/**
 * Runs `dw_px`, the depthwise kernel of separable blocks cut for several threads, once: when the
 * workers start, so that a single-thread start-up does not pay for it (0.7 ms on Liftoff).
 */
export function warmBands(kernel: KernelExports, heap: WasmHeap, memory: WebAssembly.Memory): void {
  const s = DW.side;
  const pixels = s * s * DW.channels;
  withScratch(heap, memory, [pixels, 9 * DW.channels, pixels], ([x, w, y]) => {
    // rows and, at either end, part of one
    kernel.dw_px(x, w, 0, y, s, s, DW.channels, s, s, 1, 1, 1, 3, s * s - 3, 0, 6);
  });
}
