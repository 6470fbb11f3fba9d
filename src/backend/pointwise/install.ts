/**
 * Our pointwise (and depthwise 3x3) kernels on tfjs' `wasm` backend: choosing the build
 * (relaxed-SIMD fused multiply-add, SIMD mul + add, or none: XNNPACK's kernels stay), registering
 * `FusedConv2D`, `Conv2D`, `FusedDepthwiseConv2D` and `DepthwiseConv2dNative` over the originals,
 * and the threads.
 *
 * The choice, in order: `MOBILENET_EDGE_KERNELS` (`xnnpack`, `relaxed-simd`, `simd-muladd`,
 * `auto`) when set; XNNPACK when the backend runs without SIMD; the relaxed-SIMD build when the
 * runtime validates relaxed SIMD and compiles the module; else the mul + add build only if
 * {@linkcode MULADD_BEATS_XNNPACK}. The int8 kernel (`precision: "int8"`, {@linkcode INT8_KERNEL})
 * comes with the build ({@linkcode chooseInt8}): relaxed SIMD's dot product, or the mul + add
 * build's 16-bit one, which is also installed alone beside XNNPACK's float32 kernels when relaxed
 * SIMD is missing.
 *
 * Threads: with the threaded binary, a pool of our own workers (`pool.ts`) on the backend's
 * shared memory splits each GEMM with the calling thread, as many threads as XNNPACK's active
 * pool has (so the watchdog's and `setThreads`' choice applies to both). The workers start in
 * the background (while the model loads); until they are ready (or if they fail) the calling
 * thread does all the work. "Ready" is read from the pool's shared control block at each call,
 * so synchronous inferences one after another use the workers as soon as they have started,
 * without waiting for the event loop to deliver their messages. The output does not depend on the thread count or the split: every
 * output value is the bias plus the products in input-channel order, fused or not, in float32.
 *
 * @module
 */
import * as tf from "../../vendor/tfjs.js";
import type { KernelConfig } from "npm:@tensorflow/tfjs-core@4.22.0";
import { errorMessage, unrefTimer } from "../../_util.ts";
import type { LoadedModule } from "../emscripten_module.ts";
import { KERNELS_ENV, type KernelsRequest } from "../flags.ts";
import { importNodeWorker } from "../pthread_bridge.ts";
import { chunking, CHUNKS_PER_THREAD, DEFAULT_BLOCK_BYTES, rowBlock, type Tiling } from "./gemm.ts";
import {
  type ConvJob,
  type DepthwiseJob,
  depthwiseKernel,
  type GemmJob,
  type GemmRunner,
  HEAD_KERNEL,
  headKernel,
  matMulKernel,
  meanKernel,
  pointwiseKernel,
  SEPARABLE_KERNEL,
  separableKernel,
  type SpatialJob,
  type WasmBackendLike,
} from "./kernel.ts";
import {
  instantiateKernel,
  type KernelExports,
  kernelModule,
  type KernelVariant,
  probeRelaxedSimd,
} from "./module.ts";
import {
  DEFAULT_SCHEDULING,
  KernelPool,
  type PoolKernel,
  type RowKernel,
  type Scheduling,
  type SeparableCut,
  type ThreadStats,
  type WorkerClass,
} from "./pool.ts";
import { PackedWeights } from "./weights.ts";
import { HeapBlock } from "./heap_block.ts";
import { warmBands, warmUp } from "./warm.ts";
import {
  INT8_KERNEL,
  int8Depth,
  type Int8Job,
  int8Kernel,
  type Int8Kernels,
  int8Packer,
  type Int8Packing,
  type Int8Runner,
  quantizedRow,
} from "./int8.ts";

/** Which kernels run the pointwise convolutions. */
export type KernelsChoice = "relaxed-simd" | "simd-muladd" | "xnnpack";

/**
 * Whether the mul + add build replaces XNNPACK when relaxed SIMD is missing. Measured with
 * `bench/pointwise_bench.ts` (ours and XNNPACK's interleaved in one process) on this project's
 * 2-core x86-64 machine (AMD EPYC, Zen 5), 2026-11-30: 1.0/224 43.9 ms against XNNPACK's 37.8 on
 * one thread, 22.9 against 19.5 on two; the 1x1 layers at 27-30 GFLOP/s against 32-37. (An
 * earlier machine of the same kind had measured the opposite, 33-38 against 32-36 GFLOP/s.) So
 * without relaxed SIMD, XNNPACK's kernels stay; `MOBILENET_EDGE_KERNELS=simd-muladd` still forces
 * the mul + add build.
 */
export const MULADD_BEATS_XNNPACK = false;

/**
 * Whether, without relaxed SIMD, the int8 kernel's 16-bit dot product (`i32x4.dot_i16x8_s`, in
 * the mul + add build) replaces float32 for `precision: "int8"`. Measured with
 * `bench/pointwise_bench.ts` on this project's 2-core x86-64 machine (AMD EPYC, Zen 5): the 13
 * 1x1 layers of 1.0/224 on one thread at 40-64 GFLOP/s-equivalent, against 24-40 for our
 * mul + add float32 build and 32-37 for XNNPACK's float32.
 */
export const DOT16_BEATS_FLOAT = true;

/** The kernels that tfjs' backend registry swaps, and ours for each. */
const KERNELS = [
  ["FusedConv2D", pointwiseKernel],
  ["Conv2D", pointwiseKernel],
  ["FusedDepthwiseConv2D", depthwiseKernel],
  ["DepthwiseConv2dNative", depthwiseKernel],
  ["_FusedMatMul", matMulKernel],
  ["Mean", meanKernel],
] as const;

/** What {@linkcode installPointwise} needs from the running backend. */
export interface PointwiseHost {
  /** tfjs' `BackendWasm` instance. */
  backend: WasmBackendLike;
  /** The backend's linear memory. */
  memory: WebAssembly.Memory;
  /** Whether the binary is the threaded one (shared memory). */
  shared: boolean;
  /** Whether the binary uses SIMD. */
  simd: boolean;
  /** Most threads XNNPACK's pool may get. */
  maxThreads: number;
  /** Threads of XNNPACK's active pool, read at each call. */
  threads(): number;
  /** The `node:worker_threads` Worker class (threaded binary only). */
  workerClass?: WorkerClass;
  /**
   * Imports the Worker class when the workers start, for a host without `workerClass` whose
   * workers are deferred: a cold start then does without Deno's Node layer.
   */
  loadWorkerClass?: () => Promise<WorkerClass>;
}

/**
 * Filters uploaded in the panel order of our float32 GEMM: `panel` columns per panel (the
 * layout of `pw_pack`, which `src/model/panels.ts` writes); `adopt` hands such a tensor (by its `dataId`, a `[k,
 * n]` matrix or `[1, 1, k, n]` filter) to our kernels, whose panels it then is. Only our kernels
 * read such a tensor correctly: `disable()` turns adopted filters back into row-major ones.
 */
export interface FilterPacking {
  /** Columns per panel; `n` must be a multiple of it. */
  readonly panel: number;
  /**
   * Takes the filter `dataId` (uploaded in panel order) as its own panels.
   *
   * @throws {RangeError} when `n` is not a multiple of the panel.
   */
  adopt(dataId: object, k: number, n: number): void;
}

/**
 * Rows of a depthwise output per thread below which a separable block runs as two jobs (see
 * `Runner.separable`): banded, 7 rows on 2 threads would split 4 to 3.
 */
const SEPARABLE_ROWS_PER_THREAD = 4;

/**
 * Multiply-adds below which a separable block's halving bands stop (see `Runner.#bands`): the
 * last band of a thread's range is at least this much work (and a pixel), about 20 us here.
 */
const SEPARABLE_CHUNK_MACS = 500_000;

/** Bytes between the threads' middles of a banded separable block: a page (see `separable`). */
const MIDDLE_ALIGN = 4096;

/** How separable blocks are cut into bands ({@linkcode PointwiseKernels.bands}). */
export interface Bands {
  /** Even bands per thread (0: the default, halving bands). */
  perThread: number;
  /** Output rows per thread a block needs to run banded (else as two jobs). */
  minRows: number;
  /** How the bands are shared between the threads. */
  scheduling: Scheduling;
  /** Whether a block of few rows per thread is cut in column groups (else: two jobs). */
  groups: boolean;
  /**
   * Halving bands stop at bands of about this many multiply-adds (0: the default, 500,000); a
   * band can be part of a row.
   */
  chunkMacs: number;
}

/** Our kernels on a running backend. */
export interface PointwiseKernels {
  /** Which kernels run the pointwise convolutions. */
  readonly kernels: KernelsChoice;
  /** Why (and which int8 kernels, and why). */
  readonly reason: string;
  /** Which kernels run {@linkcode INT8_KERNEL} (`none`: it is not registered). */
  readonly int8: Int8Kernels;
  /** Why those int8 kernels (or why none). */
  readonly int8Reason: string;
  /** Bytes of packed filters held now (adopted filters, being their tensors' memory, not counted). */
  readonly packedBytes: number;
  /**
   * How a model may upload its float32 1x1 filters already packed (see {@linkcode FilterPacking}),
   * or undefined while our float32 kernels are not the ones registered.
   */
  readonly filterPacking: FilterPacking | undefined;
  /**
   * The name of our kernel for a depthwise 3x3 and a 1x1 convolution as one call (inputs `x`,
   * `dwFilter`, `dwBias`, `pwFilter`, `pwBias`; attributes `strides`, `pad`, `dwActivation`,
   * `activation`) while our float32 kernels are registered, else undefined.
   */
  readonly separable: string | undefined;
  /**
   * The name of our kernel for a classifier on the last activation (inputs `x`, `filter`
   * `[channels, classes]`, `bias`: global average pooling, then the product, the logits) while
   * our float32 kernels are registered, else undefined.
   */
  readonly head: string | undefined;
  /** Wakes our sleeping workers ahead of an inference (they spin until its first job). */
  wake(): void;
  /**
   * How separable blocks are cut (for benches): `perThread` even bands per thread (0: the
   * default, halving bands) when a block has at least `minRows` output rows per thread (else two jobs).
   */
  bands: Bands;
  /**
   * Resolves when our workers are ready or have failed (at once without workers, or while they
   * are deferred).
   */
  readonly ready: Promise<void>;
  /**
   * Our workers: `none`, `deferred` (until {@linkcode PointwiseKernels.startWorkers}),
   * `starting`, `ready`, or why they failed (then one thread does it all).
   */
  readonly workers: string;
  /**
   * Starts deferred workers; resolves like {@linkcode PointwiseKernels.ready} (never rejects).
   * Does nothing when they started already, or without workers.
   */
  startWorkers(): Promise<void>;
  /** Chunks of GEMMs our workers have computed so far (the calling thread's not counted). */
  readonly workerChunks: number;
  /** Microseconds our workers spin after a job before they sleep (0 without workers; for benches). */
  spinMicros: number;
  /** How our workers share a job's chunks (see `KernelPool.scheduling`; for benches). */
  scheduling: Scheduling;
  /**
   * Whether our threads add up the time of their chunks, and the calling thread its waits for
   * the workers' last chunks (for benches; see `KernelPool.profiling`). Turning it on clears
   * {@linkcode PointwiseKernels.threadStats}.
   */
  profiling: boolean;
  /** What profiling has added up, or undefined without workers. */
  readonly threadStats: ThreadStats | undefined;
  /** Whether the kernels are registered (false after {@linkcode PointwiseKernels.disable}). */
  readonly enabled: boolean;
  /** Puts XNNPACK's kernels back, for comparisons; {@linkcode PointwiseKernels.enable} undoes it. */
  disable(): void;
  /** Registers our kernels again after {@linkcode PointwiseKernels.disable} (not after uninstall). */
  enable(): void;
  /** Puts the original kernels back, frees the packed filters, ends the workers. */
  uninstall(): Promise<void>;
}

const VARIANTS: Record<Exclude<KernelsChoice, "xnnpack">, KernelVariant> = {
  "relaxed-simd": "relaxed",
  "simd-muladd": "muladd",
};

/** Picks the build to try (or XNNPACK) and says why. */
export function chooseKernels(
  request: KernelsRequest,
  simd: boolean,
  relaxed: { ok: boolean; detail: string },
): { choice: KernelsChoice; why: string } {
  const forced = `${KERNELS_ENV}=${request}`;
  if (request === "xnnpack") return { choice: "xnnpack", why: forced };
  if (!simd) return { choice: "xnnpack", why: "no WASM SIMD" };
  if (request === "simd-muladd") return { choice: "simd-muladd", why: forced };
  if (relaxed.ok) {
    return { choice: "relaxed-simd", why: request === "auto" ? relaxed.detail : forced };
  }
  const without = request === "relaxed-simd"
    ? `relaxed-simd asked, but ${relaxed.detail}`
    : relaxed.detail;
  return MULADD_BEATS_XNNPACK
    ? { choice: "simd-muladd", why: `${without}; mul + add measured faster than XNNPACK` }
    : { choice: "xnnpack", why: `${without}; mul + add not faster than XNNPACK` };
}

/**
 * Which int8 kernels go with the float32 choice: relaxed SIMD's dot product with the relaxed
 * build; the 16-bit dot product with the mul + add build, which also runs it alone (beside
 * XNNPACK's float32 kernels) when relaxed SIMD is missing, if {@linkcode DOT16_BEATS_FLOAT};
 * none when SIMD is missing or XNNPACK is forced.
 */
export function chooseInt8(
  float: KernelsChoice,
  request: KernelsRequest,
  simd: boolean,
): { int8: Int8Kernels; why: string } {
  if (float === "relaxed-simd") return { int8: "relaxed-dot", why: "relaxed SIMD" };
  if (float === "simd-muladd") return { int8: "simd-dot16", why: "the mul + add build" };
  if (!simd) return { int8: "none", why: "no WASM SIMD: int8 runs as float32" };
  if (request === "xnnpack") {
    return { int8: "none", why: `${KERNELS_ENV}=xnnpack: int8 runs as float32` };
  }
  return DOT16_BEATS_FLOAT
    ? { int8: "simd-dot16", why: "no relaxed SIMD; the 16-bit dot measured faster than float32" }
    : { int8: "none", why: "no relaxed SIMD; the 16-bit dot not faster: int8 runs as float32" };
}

class Runner implements GemmRunner, Int8Runner {
  readonly kernel: KernelExports;
  readonly weights: PackedWeights;
  readonly tiling: Tiling;
  /** The int8 GEMM's tile. */
  readonly int8Tiling: Tiling;
  readonly #host: PointwiseHost;
  /** The quantized input of the int8 GEMM (grown as needed, freed at uninstall). */
  readonly #scratch: HeapBlock;
  /**
   * The middles of separable blocks cut for several threads: one a thread, each at the same
   * place from call to call (grown as needed, freed at uninstall); see `separable`.
   */
  readonly #middles: HeapBlock;
  /** Bands of a separable job per thread; 0: from the job's shape (see `separable`). */
  bandsPerThread = 0;
  /**
   * Whether blocks of few rows are cut in column groups (else: two jobs). Off: on this
   * project's VM no faster than two jobs, and slower when the second core is contended (two
   * coarse chunks).
   */
  bandGroups = false;
  /** How a separable job's bands are shared. */
  bandScheduling: Scheduling = "affinity";
  /** Separable jobs with at least this many rows per thread run banded. */
  bandRows = SEPARABLE_ROWS_PER_THREAD;
  /** Multiply-adds of a separable job's smallest halving band, about. */
  bandMacs = SEPARABLE_CHUNK_MACS;
  #pool?: KernelPool;
  #starting?: KernelPool;
  #onStarted?: () => void;

  /** `pool`: our workers, used once ready; until then, multi-threaded calls go to XNNPACK. */
  constructor(host: PointwiseHost, kernel: KernelExports) {
    this.#host = host;
    this.kernel = kernel;
    this.weights = new PackedWeights(host.backend, kernel);
    this.#scratch = new HeapBlock(host.backend.wasm, "int8 activations");
    this.#middles = new HeapBlock(host.backend.wasm, "separable blocks' middle activations");
    this.tiling = { mr: kernel.pw_mr(), nr: kernel.pw_nr(), blockBytes: DEFAULT_BLOCK_BYTES };
    this.int8Tiling = { mr: kernel.q8_mr(), nr: kernel.q8_nr(), blockBytes: DEFAULT_BLOCK_BYTES };
  }

  /** Takes `pool` into use (it is ready). */
  usePool(pool: KernelPool): void {
    this.#pool = pool;
    this.#starting = undefined;
  }

  /** Stops using any pool (it failed to start, or is closing): one thread from now on. */
  dropPool(): void {
    this.#pool = undefined;
    this.#starting = undefined;
  }

  /**
   * The pool whose workers are starting: taken into use as soon as its control block says that
   * all have started, even if the event loop has not delivered their `ready` messages (a burst
   * of synchronous inferences right after the load would otherwise all run on one thread).
   */
  startingPool(pool: KernelPool | undefined, onStarted: () => void): void {
    this.#starting = pool;
    this.#onStarted = onStarted;
  }

  /**
   * Threads for the next GEMM: XNNPACK's active count, or 1 while our workers start (or if they
   * failed). The result does not depend on it: every output is the same sum in the same order.
   */
  #threads(): number {
    let pool = this.#pool;
    if (!pool) {
      if (!this.#starting?.started) return 1;
      pool = this.#starting;
      this.usePool(pool);
      this.#onStarted?.();
    }
    return Math.max(1, Math.min(this.#host.threads(), pool.size + 1));
  }

  delegate(): void {
    this.#pool?.park();
  }

  /**
   * Wakes our workers ahead of an inference when it will run on more than one thread: between
   * inferences they sleep (the gap outlasts their spin), and waking one from a job's own notify
   * costs tens of microseconds on a VM, at every inference's first layer.
   */
  wake(): void {
    if (this.#threads() > 1) this.#pool?.wake();
  }

  pack(dataId: object, filter: number, k: number, n: number): number {
    return this.weights.get(dataId, filter, k, n);
  }

  /** {@linkcode FilterPacking.adopt} on the backend's tensor `dataId`. */
  adopt(dataId: object, k: number, n: number): void {
    const map = this.#host.backend.dataIdMap;
    const data = map.has(dataId) ? map.get(dataId) : undefined;
    if (!data || data.dtype !== "float32" || data.shape.reduce((a, b) => a * b, 1) !== k * n) {
      throw new RangeError(`adopt: not a float32 [${k}, ${n}] tensor of this backend`);
    }
    this.weights.adopt(dataId, data.memoryOffset, k, n);
  }

  /** Adopted filters back to row-major (see {@linkcode PackedWeights.unadopt}). */
  unadopt(): void {
    this.weights.unadopt(() => new Float32Array(this.#host.memory.buffer));
  }

  run(job: GemmJob): void {
    const mc = rowBlock(job.k, this.tiling);
    const threads = this.#threads();
    const { a, packed, bias, c, m, k, n, lo, hi } = job;
    const run = this.kernel.pw_run;
    if (threads <= 1) {
      return run(a, packed, bias, c, 0, m, 0, Math.ceil(n / this.tiling.nr), k, n, lo, hi, mc);
    }
    const chunks = chunking(m, n, threads, this.tiling);
    const kernel = this.kernel as unknown as PoolKernel;
    this.#pool!.run({ a, packed, bias, c, k, n, lo, hi, mc }, chunks, threads - 1, kernel);
  }

  depthwise(job: DepthwiseJob, threads = this.#threads()): void {
    const { x, w, bias, y, h, width, channels, oh, ow, stride, padTop, padLeft } = job;
    const lead = [x, w, bias, y, h, width, channels, oh, ow, stride, padTop, padLeft];
    this.#rows("dw_run", lead, job, threads);
  }

  separable(dw: Omit<DepthwiseJob, "y">, pw: Omit<GemmJob, "a">): void {
    const threads = this.#threads();
    const banded = threads <= 1 || dw.rows < 2 ? undefined : this.#bands(dw, pw.n, threads);
    const cut = banded && (banded.groups === 1 || this.bandGroups) ? banded : undefined;
    if (cut) {
      // One middle a thread, for a chunk at a time (at most a range's pixels), kept from call
      // to call (1.2 MB for 0.75/224 on 2 threads): thread t's starts at `t * stride` of the
      // kept block, whatever the layer, so the lines it writes are always that thread's, in
      // its own cache. Middles taken fresh from the heap at each call (thread 1's where another
      // layer's thread 0 wrote) ran 1-2.4% slower on 2 threads (0.75/224, one process).
      const bytes = this.#rangePixels(dw, cut) * dw.channels * 4;
      const stride = Math.ceil(bytes / MIDDLE_ALIGN) * MIDDLE_ALIGN;
      const y = this.#middles.at(stride * threads);
      this.#banded(dw, y, pw, { ...cut, middleBytes: stride }, threads);
      return;
    }
    // The whole middle (one thread, or a block of few rows as two jobs), for this call only,
    // as tfjs' own outputs: the freed block serves the next, and nothing stays held between
    // inferences. Kept like the bands' (two jobs on 2 threads), it measured the same.
    const heap = this.#host.backend.wasm;
    const y = heap._malloc(dw.rows * dw.ow * dw.channels * 4) >>> 0;
    if (y === 0) throw new Error("cannot allocate a separable block's middle activation");
    try {
      this.depthwise({ ...dw, y }, threads);
      this.run({ ...pw, a: y });
    } finally {
      heap._free(y);
    }
  }

  /** The pixels of a cut's longest range (its largest chunk, at most). */
  #rangePixels(dw: Omit<DepthwiseJob, "y">, cut: Omit<SeparableCut, "middleBytes">): number {
    const ranges = cut.ranges ?? 1;
    const units = cut.rowsPerChunk ? dw.rows : dw.rows * dw.ow;
    // a range of pixels starts on a whole tile: up to half a tile longer than an even share
    if (!cut.rowsPerChunk) return Math.ceil(units / ranges) + this.tiling.mr;
    return Math.ceil(units / ranges) * dw.ow;
  }

  /** {@linkcode Runner.separable} in bands (and column groups) on our workers. */
  #banded(
    dw: Omit<DepthwiseJob, "y">,
    y: number,
    pw: Omit<GemmJob, "a">,
    cut: SeparableCut,
    threads: number,
  ): void {
    const { x, w, bias, h, width, channels, oh, ow, stride, padTop, padLeft } = dw;
    const lead = [x, w, bias, y, h, width, channels, oh, ow, stride, padTop, padLeft];
    const gemm = {
      packed: pw.packed,
      bias: pw.bias,
      c: pw.c,
      panels: Math.ceil(pw.n / this.tiling.nr),
      n: pw.n,
      mc: rowBlock(pw.k, this.tiling),
      mr: this.tiling.mr,
    };
    const clamps = { lo: dw.lo, hi: dw.hi, pwLo: pw.lo, pwHi: pw.hi };
    const kernel = this.kernel as unknown as PoolKernel;
    const pool = this.#pool!;
    pool.runSeparable(lead, gemm, clamps, cut, threads - 1, kernel, this.bandScheduling);
  }

  /**
   * How a separable block is cut: the output into one range of pixels a thread (even, its start on
   * a whole tile), shared by affinity, and each range into halving bands of pixels on whole tiles,
   * down to about `bandMacs` multiply-adds (14x14 at 0.75: 96 and 100 pixels, each as 48, 24 or 30,
   * 12, 6, and the rest), or into `bandsPerThread` even bands of rows. A thread runs its own bands
   * big first, and the faster thread then takes the slower one's last, small bands: this VM's two
   * cores often differ in speed by 10-40% for minutes, and one band a thread (the old cut at 14x14)
   * then left the faster one idle, 1.12-1.21x slower than four even bands. The caller then waits
   * only for the other thread's last band, at most `bandMacs` of work: halving rows down to one row
   * left it waiting for up to a row, 1/14 of a 14x14 layer. Each band reads the whole 1x1 filter
   * (from L2 after the first), and a band's last tile is exactly its rows (`tile_left`), so small
   * bands cost little. With too few rows (fewer than `bandRows` a thread: a 7x7 block), one band
   * and a group of columns per thread (or, unless `bandGroups`, two jobs, each cut finely).
   */
  #bands(
    dw: Omit<DepthwiseJob, "y">,
    n: number,
    threads: number,
  ): Omit<SeparableCut, "middleBytes"> {
    const { rows, ow, channels } = dw;
    if (rows < this.bandRows * threads) {
      return { rows, rowsPerChunk: rows, groups: threads };
    }
    const perThread = this.bandsPerThread;
    if (perThread) {
      const rowsPerChunk = Math.ceil(Math.ceil(rows / threads) / perThread);
      return { rows, rowsPerChunk, groups: 1, ranges: threads };
    }
    const smallest = Math.floor((rows * ow) / threads); // pixels of the shortest range
    const least = Math.max(1, Math.ceil(this.bandMacs / (channels * (9 + n))));
    const bands = Math.max(1, Math.floor(Math.log2(smallest / least)) + 1);
    return { rows, rowsPerChunk: 0, groups: 1, ranges: threads, bands: Math.min(bands, 16) };
  }

  conv(job: ConvJob): void {
    const { x, packed, bias, y, h, width, cin, n, oh, ow, stride, padTop, padLeft } = job;
    const lead = [x, packed, bias, y, h, width, cin, n, oh, ow, stride, padTop, padLeft];
    // shared like the blocks' bands: the first block reads the rows its thread made
    this.#rows("cv_run", lead, job, undefined, this.bandScheduling);
  }

  packInt8(
    dataId: object,
    filter: number,
    k: number,
    n: number,
    packing: Int8Packing,
  ): { packed: number; bias: number } {
    const packed = this.weights.get(dataId, filter, k, n, int8Packer(this.kernel, packing));
    return { packed, bias: packed + this.kernel.q8_bias_offset(int8Depth(k, packing.levels), n) };
  }

  int8(job: Int8Job): void {
    const { x, packed, bias, c, m, k, n, inv, levels, lo, hi } = job;
    const kp = quantizedRow(int8Depth(k, levels)); // bytes of a quantized row
    const q = this.#scratch.at(m * kp);
    const threads = this.#threads();
    this.#rows("q8_quant", [x, q, k], { rows: m, lo: inv, hi: levels }, threads);
    const { mr, nr, blockBytes } = this.int8Tiling;
    const mc = Math.max(mr, Math.floor(blockBytes / kp / mr) * mr); // rows of kp bytes
    if (threads <= 1) {
      return this.kernel.q8_run(q, packed, bias, c, 0, m, 0, Math.ceil(n / nr), kp, n, lo, hi, mc);
    }
    const chunks = chunking(m, n, threads, this.int8Tiling);
    const kernel = this.kernel as unknown as PoolKernel;
    this.#pool!.run(
      { a: q, packed, bias, c, k: kp, n, lo, hi, mc },
      chunks,
      threads - 1,
      kernel,
      "q8_run",
    );
  }

  /** Frees the blocks kept from call to call (the backend stays). */
  freeBlocks(): void {
    this.#scratch.free();
    this.#middles.free();
  }

  /**
   * Runs `fn(...lead, r0, r1, lo, hi)` over `job.rows` rows, on `threads` threads (default: as
   * many as are active).
   */
  #rows(
    fn: RowKernel,
    lead: number[],
    job: Pick<SpatialJob, "rows" | "lo" | "hi">,
    threads = this.#threads(),
    scheduling?: Scheduling,
  ): void {
    const { rows, lo, hi } = job;
    const kernel = this.kernel as unknown as PoolKernel;
    if (threads <= 1 || rows < 2) return kernel[fn](...lead, 0, rows, lo, hi);
    const per = Math.ceil(rows / Math.min(rows, CHUNKS_PER_THREAD * threads));
    this.#pool!.runRows(fn, lead, rows, per, job, threads - 1, kernel, scheduling);
  }

  mean(x: number, y: number, images: number, pixels: number, channels: number): void {
    this.kernel.gap_run(x, y, pixels, channels, 0, images);
  }
}

function register(configs: KernelConfig[]): void {
  for (const config of configs) {
    if (tf.getKernel(config.kernelName, "wasm")) tf.unregisterKernel(config.kernelName, "wasm");
    tf.registerKernel(config);
  }
}

/** How long our workers may take to start before the kernels give up on them. */
export const POOL_START_TIMEOUT_MS = 20_000;

/**
 * Starts the pool (the host is threaded; see `wanted` in {@linkcode installPointwise}) in the
 * background; `onReady` gets it once all workers are ready. The promise resolves then, or once
 * the start failed or timed out (the pool closed); it never rejects.
 */
function startPool(
  host: PointwiseHost,
  workerClass: WorkerClass,
  module: WebAssembly.Module,
  onReady: (pool: KernelPool) => void,
  onFailure: (why: string) => void,
): { pool?: KernelPool; ready: Promise<void>; note: string } {
  let pool: KernelPool;
  try {
    pool = new KernelPool(workerClass, module, host.memory, host.maxThreads - 1);
  } catch (error) {
    return { ready: Promise.resolve(), note: `, no workers (${errorMessage(error)})` };
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("timeout")), POOL_START_TIMEOUT_MS);
    // the workers keep the process alive while they start, not this timer
    unrefTimer(timer);
  });
  const ready = Promise.race([pool.ready, timeout]).then(
    () => onReady(pool),
    (error) => {
      onFailure(`failed: ${errorMessage(error)}`);
      return pool.close();
    },
  ).finally(() => clearTimeout(timer));
  return { pool, ready, note: `, ${pool.size} worker${pool.size > 1 ? "s" : ""}` };
}

/**
 * Chooses, builds and registers our pointwise kernels on the running `wasm` backend (and the
 * int8 kernel, see {@linkcode chooseInt8}), and starts their workers (with `deferWorkers`, only
 * when {@linkcode PointwiseKernels.startWorkers} is called; until then one thread does it all).
 * Never throws: when something fails, XNNPACK's kernels stay and `reason` says why.
 */
export function installPointwise(
  host: PointwiseHost,
  request: KernelsRequest,
  deferWorkers = false,
): PointwiseKernels {
  const { choice, why } = chooseKernels(request, host.simd, probeRelaxedSimd());
  const int8 = chooseInt8(choice, request, host.simd);
  // XNNPACK's float32 kernels may still come with the mul + add build's int8 kernel
  const variant = choice !== "xnnpack"
    ? VARIANTS[choice]
    : int8.int8 === "simd-dot16"
    ? "muladd"
    : undefined;
  const floatReason = `kernels: ${choice} (${why})`;
  if (!variant) return xnnpackOnly(floatReason, int8.why);
  let module: WebAssembly.Module;
  let kernel: KernelExports;
  try {
    module = kernelModule(variant, host.shared);
    kernel = instantiateKernel(module, host.memory);
  } catch (error) {
    const failed = `${variant} build failed: ${errorMessage(error)}`;
    return choice === "xnnpack"
      ? xnnpackOnly(floatReason, `${failed}: int8 runs as float32`)
      : xnnpackOnly(`kernels: xnnpack (${choice} failed: ${errorMessage(error)})`, failed);
  }
  warmUp(kernel, host.backend, host.memory); // the first inference runs optimized code
  const runner = new Runner(host, kernel);
  const wanted = host.shared && host.maxThreads > 1 &&
    (host.workerClass !== undefined || deferWorkers && host.loadWorkerClass !== undefined);
  let workers = wanted && deferWorkers ? "deferred" : "none";
  let pool: KernelPool | undefined;
  let ready = Promise.resolve();
  let closed = false;
  let workerClass = host.workerClass;
  const startWorkers = (): Promise<void> => {
    if (!wanted || closed || pool || workers !== "deferred" && workers !== "none") return ready;
    if (!workerClass) {
      workers = "starting";
      ready = host.loadWorkerClass!().then((loaded) => {
        workerClass = loaded;
        workers = "deferred";
        return closed ? undefined : startWorkers();
      }, (error) => {
        workers = `failed: ${errorMessage(error)}`;
      });
      return ready;
    }
    workers = "none";
    warmBands(kernel, host.backend, host.memory); // what only several threads run
    const started = startPool(host, workerClass, module, (p) => {
      workers = "ready";
      runner.usePool(p);
    }, (why) => {
      workers = why;
      runner.dropPool();
    });
    pool = started.pool;
    ready = started.ready;
    if (!pool) workers = started.note.replace(/^, /, "");
    else if (workers === "none") {
      workers = "starting";
      runner.startingPool(pool, () => workers = "ready");
    }
    return ready;
  };
  const size = host.maxThreads - 1;
  const note = !wanted
    ? ""
    : `, ${size} worker${size > 1 ? "s" : ""}${deferWorkers ? " after the first inference" : ""}`;
  if (!deferWorkers) startWorkers();
  const tile = (t: Tiling) => `${t.mr}x${t.nr} tile`;
  const floatPart = choice === "xnnpack"
    ? floatReason
    : `kernels: ${choice} (${why}; ${tile(runner.tiling)}${note})`;
  const int8Reason = `${int8.why}; ${tile(runner.int8Tiling)}`;
  const state = registered(runner, () => pool, {
    kernels: choice,
    reason: `${floatPart}; int8: ${int8.int8} (${int8Reason}${choice === "xnnpack" ? note : ""})`,
    int8: int8.int8,
    int8Reason,
    ready: () => ready,
    workers: () => workers,
    startWorkers,
    close: () => closed = true,
  });
  state.enable();
  return state;
}

/** The state when XNNPACK's kernels stay and no int8 kernel runs: nothing registered. */
function xnnpackOnly(reason: string, int8Why: string): PointwiseKernels {
  return {
    kernels: "xnnpack",
    reason: `${reason}; int8: none (${int8Why})`,
    int8: "none",
    int8Reason: int8Why,
    packedBytes: 0,
    filterPacking: undefined,
    separable: undefined,
    head: undefined,
    wake() {},
    bands: {
      perThread: 0,
      minRows: 0,
      scheduling: DEFAULT_SCHEDULING,
      groups: false,
      chunkMacs: 0,
    },
    enabled: false,
    ready: Promise.resolve(),
    workers: "none",
    startWorkers: () => Promise.resolve(),
    workerChunks: 0,
    spinMicros: 0,
    scheduling: DEFAULT_SCHEDULING,
    profiling: false,
    threadStats: undefined,
    disable() {},
    enable() {},
    uninstall: () => Promise.resolve(),
  };
}

/**
 * Our kernels for the float32 kernel names (or, when XNNPACK's float32 kernels stay, the
 * originals behind a call that parks our workers first), the int8 kernel, and the switch between
 * ours and the originals.
 */
function registered(
  runner: Runner,
  pool: () => KernelPool | undefined,
  fixed: {
    kernels: KernelsChoice;
    reason: string;
    int8: Int8Kernels;
    int8Reason: string;
    ready: () => Promise<void>;
    workers: () => string;
    startWorkers: () => Promise<void>;
    close: () => void;
  },
): PointwiseKernels {
  const originals = KERNELS.map(([name]) => tf.getKernel(name, "wasm"));
  const ours = originals.map((original, i) => ({
    ...original,
    kernelFunc: fixed.kernels === "xnnpack"
      ? (args: Parameters<typeof original.kernelFunc>[0]) => {
        runner.delegate();
        return original.kernelFunc(args);
      }
      : KERNELS[i][1](original, runner),
  }));
  const int8: KernelConfig = {
    kernelName: INT8_KERNEL,
    backendName: "wasm",
    kernelFunc: int8Kernel(runner),
  };
  // our float32 kernels only: the block kernel has no original to fall back to
  const extra: KernelConfig[] = fixed.kernels === "xnnpack" ? [] : [
    { kernelName: SEPARABLE_KERNEL, backendName: "wasm", kernelFunc: separableKernel(runner) },
    { kernelName: HEAD_KERNEL, backendName: "wasm", kernelFunc: headKernel(runner) },
  ];
  let enabled = false;
  let installed = true;
  const state: PointwiseKernels = {
    kernels: fixed.kernels,
    reason: fixed.reason,
    get ready() {
      return fixed.ready();
    },
    startWorkers: fixed.startWorkers,
    int8: fixed.int8,
    int8Reason: fixed.int8Reason,
    get packedBytes() {
      return runner.weights.bytes;
    },
    get filterPacking() {
      if (!enabled || fixed.kernels === "xnnpack") return undefined;
      return {
        panel: runner.weights.panel,
        adopt: (dataId: object, k: number, n: number) => runner.adopt(dataId, k, n),
      };
    },
    get enabled() {
      return enabled;
    },
    get workers() {
      return fixed.workers();
    },
    get workerChunks() {
      return pool()?.workerChunks ?? 0;
    },
    get spinMicros() {
      return pool()?.spinMicros ?? 0;
    },
    set spinMicros(us: number) {
      const p = pool();
      if (p) p.spinMicros = us;
    },
    get scheduling() {
      return pool()?.scheduling ?? DEFAULT_SCHEDULING;
    },
    set scheduling(mode: Scheduling) {
      const p = pool();
      if (p) p.scheduling = mode;
    },
    get profiling() {
      return pool()?.profiling ?? false;
    },
    set profiling(on: boolean) {
      const p = pool();
      if (p) p.profiling = on;
    },
    get threadStats() {
      return pool()?.stats;
    },
    get bands() {
      const { bandsPerThread: perThread, bandRows: minRows, bandScheduling: scheduling } = runner;
      return {
        perThread,
        minRows,
        scheduling,
        groups: runner.bandGroups,
        chunkMacs: runner.bandMacs,
      };
    },
    set bands(value: Bands) {
      runner.bandsPerThread = value.perThread;
      runner.bandMacs = value.chunkMacs || SEPARABLE_CHUNK_MACS;
      runner.bandRows = value.minRows;
      runner.bandScheduling = value.scheduling;
      runner.bandGroups = value.groups;
    },
    wake() {
      runner.wake();
    },
    get separable() {
      return enabled && extra.length > 0 ? SEPARABLE_KERNEL : undefined;
    },
    get head() {
      return enabled && extra.length > 0 ? HEAD_KERNEL : undefined;
    },
    disable() {
      runner.delegate();
      if (enabled) {
        register(originals);
        for (const { kernelName } of extra) tf.unregisterKernel(kernelName, "wasm");
        runner.unadopt(); // XNNPACK reads filters row-major
      }
      enabled = false;
    },
    enable() {
      if (!installed) return;
      if (!enabled) register([...ours, int8, ...extra]);
      enabled = true;
    },
    async uninstall() {
      fixed.close();
      state.disable();
      if (installed && tf.getKernel(INT8_KERNEL, "wasm")) tf.unregisterKernel(INT8_KERNEL, "wasm");
      installed = false;
      runner.weights.clear();
      runner.freeBlocks();
      await pool()?.close();
    },
  };
  return state;
}

/**
 * {@linkcode installPointwise} on a backend started by `wasm.ts`: `request` comes from
 * {@linkcode KERNELS_ENV} (default `auto`), threads follow XNNPACK's active pool.
 */
export async function installKernels(
  backend: unknown,
  loaded: LoadedModule,
  request: KernelsRequest = "auto",
  deferWorkers = false,
): Promise<PointwiseKernels> {
  let workerClass: WorkerClass | undefined;
  const threaded = loaded.bridge !== undefined && loaded.maxThreads > 1;
  if (threaded && !deferWorkers) {
    try {
      workerClass = await importNodeWorker();
    } catch { /* no workers: our kernels run on the calling thread, XNNPACK when threaded */ }
  }
  return installPointwise(
    {
      backend: backend as WasmBackendLike,
      memory: loaded.memory,
      shared: loaded.memory.buffer instanceof SharedArrayBuffer,
      simd: loaded.binary !== "tfjs-backend-wasm.wasm",
      maxThreads: loaded.maxThreads,
      threads: () => loaded.exports.get_threads_count(),
      workerClass,
      loadWorkerClass: threaded && deferWorkers ? importNodeWorker : undefined,
    },
    request,
    deferWorkers,
  );
}
