/**
 * Our own threads for the pointwise kernel: `node:worker_threads` workers that each instantiate
 * the kernel module on the backend's shared `WebAssembly.Memory` and wait on a control block
 * (`Atomics.wait`/`notify` on a `SharedArrayBuffer`). A GEMM is cut into chunks (`gemm.ts`);
 * the caller posts the job, and it and the workers claim chunks with a compare-and-swap on one
 * counter until none is left; the caller then waits only for chunks already claimed, so a worker
 * that gets no CPU (a busy machine) delays nothing.
 *
 * A worker keeps the process alive only until it is ready (so that waiting for
 * {@linkcode KernelPool.ready} works); then it is unref'd, and an idle pool never keeps the
 * process alive. {@linkcode KernelPool.close} asks the workers to leave their loop and resolves
 * when all have exited.
 *
 * @module
 */
import type { Worker as NodeWorker } from "node:worker_threads";
import type { Chunking } from "./gemm.ts";

/**
 * Control block layout (Int32 words). A word that a thread writes for each chunk has a cache
 * line (16 words) of its own, so that the other threads' reads of the job's words, and their
 * own counters, do not miss on it: on this VM a line taken from the other core's cache costs
 * hundreds of nanoseconds, several times a chunk.
 */
const LINE = 16;
const GEN = 0; // job generation: bumped by the caller to post a job
const QUIT = 1; // 1: leave the loop
const FAILED = 2; // set by a worker whose chunk threw (a trap)
const LIMIT = 3; // workers (by slot) that may take part in this job
const PARK = 4; // a generation: workers spinning after that job go to sleep at once
const SPIN = 5; // microseconds a worker spins after a job before it sleeps
const STARTED = 6; // workers that have instantiated the kernel (before their "ready")
const SCHED = 7; // how chunks are shared: 0 dynamic, 1 affinity, 2 static
const PROFILE = 8; // 1: each thread adds up the time of its chunks (BUSY), for benches
const JOB = LINE; // the job, 20 words: see claimChunks
// A separable job's 1x1 half (see KernelPool.runSeparable): packed, bias, c, panels, n, mc,
// its clamp (float32 lo, hi), the column groups, the bytes of a thread's middle, the ranges,
// and the GEMM's tile rows (see separableChunk)
const EXTRA = JOB + 20;
const NEXT = 3 * LINE; // (generation tag << 10) | next unclaimed chunk
const DONE = 4 * LINE; // chunks finished in this job (each thread adds its own when it is done)
const TAKEN = 5 * LINE; // chunks the workers have run since the pool started (statistics)
// affinity/static: (tag << 10) | next chunk of each thread's range, a line each
const RANGES = 6 * LINE;
const MAX_TEAM = 8; // the caller and at most 7 workers (MAX_THREADS)
// profiling: the time each thread has spent in chunks, in tenths of a microsecond, a line each
const BUSY = RANGES + MAX_TEAM * LINE;
const WORDS = BUSY + MAX_TEAM * LINE;
if (EXTRA + 12 > NEXT) throw new Error("pool.ts: the job's words overlap NEXT");
const TAG_MASK = 0x3fffff; // 22 bits of generation in NEXT

/**
 * How long a worker spins on the generation word after a job before it sleeps (`Atomics.wait`),
 * in microseconds (a time, checked every 32 `Atomics.pause` rounds). Waking a sleeping worker
 * (`Atomics.notify`: a futex, on a VM an interrupt to an idle virtual CPU) takes tens of
 * microseconds, a good part of a small depthwise layer's share; the layers of one inference
 * follow each other within tens of microseconds of JavaScript, so a spin this long keeps the
 * workers awake through an inference and costs at most this much after it (and nothing on one
 * thread, where no job is posted). Measured on 1.0/224, 2 threads (model-only medians, one
 * process, interleaved): 0 us 16.21 ms, 30 us 15.92, 100 us 15.80, 200 us 15.45, 500 us 16.02,
 * 2000 us 16.82. {@linkcode KernelPool.park} ends a spin early (before an XNNPACK kernel runs);
 * {@linkcode KernelPool.spinMicros} changes it.
 */
export const WORKER_SPIN_US = 200;
/** How jobs are shared by default ({@linkcode KernelPool.scheduling}). */
export const DEFAULT_SCHEDULING: Scheduling = "dynamic";

/**
 * Spins of the caller on the finished-chunk count before it sleeps (about 300 us). 100,000
 * (about 1.5 ms) measured 1.02x faster in two runs of two 2-thread processes taking turns, but
 * burns the caller's core for longer whenever a worker is held up (a busy machine), so it stays.
 */
const CALLER_SPINS = 20_000;

/** How a job's chunks are shared between the threads; see {@linkcode KernelPool.scheduling}. */
export type Scheduling = "dynamic" | "affinity" | "static";

const SCHEDULINGS: readonly Scheduling[] = ["dynamic", "affinity", "static"];

/**
 * The next chunk thread `me` of a team of `team` runs, or -1 when none is left for it. Dynamic:
 * one counter, every thread takes the next chunk. Affinity: the chunks are cut into one
 * contiguous range per thread, in order (the caller the first); a thread takes the chunks of
 * its own range first, then those left in the others'. So each thread works on the same rows
 * of the image from layer to layer (they stay in its own cache), and one that gets less CPU
 * leaves its chunks to the others. Static: its own range only. Compiled twice, like
 * {@linkcode claimChunks}.
 */
function claimIndex(i32: Int32Array, tag: number, count: number, me: number): number {
  const mode = Atomics.load(i32, SCHED);
  if (mode === 0) {
    for (;;) {
      const v = Atomics.load(i32, NEXT);
      const index = v & 1023;
      if (v >>> 10 !== tag || index >= count) return -1;
      if (Atomics.compareExchange(i32, NEXT, v, v + 1) === v) return index;
    }
  }
  const team = Atomics.load(i32, LIMIT) + 1; // the workers and the caller
  for (let step = 0; step < (mode === 2 ? 1 : team); step++) {
    const r = (me + step) % team;
    const word = RANGES + r * LINE;
    const end = Math.floor(((r + 1) * count) / team);
    for (;;) {
      const v = Atomics.load(i32, word);
      const index = v & 1023;
      if (v >>> 10 !== tag || index >= end) break;
      if (Atomics.compareExchange(i32, word, v, v + 1) === v) return index;
    }
  }
  return -1;
}

/**
 * Claims chunks of the current job one at a time and runs them with the kernel instance `k`:
 * the same loop for the caller and for the workers. Returns when no chunk of generation `tag` is
 * left. Compiled twice: in the workers from its source text, and here.
 *
 * Job words (from JOB): 0-12 the kernel's arguments, 13 how many of them, 14 chunks, 15 the
 * kernel (0: `pw_run`, 1: `dw_run`, 2: `cv_run`, 3: `q8_run`, 4: `q8_quant`, 5: separable), 16
 * rows in all and 17 rows per chunk (row kernels), 18 and 19 the clamp (float32). A GEMM's
 * arguments (`pw_run`'s, and the int8 `q8_run`'s) are a, packed, bias, c, m, k, n, mc, rows,
 * panels, panelChunks, panelCount; a row kernel's are its leading ones, before the row range
 * `[r0, r1)` and the clamp. A separable chunk: see {@linkcode separableChunk}. Each thread adds
 * the chunks it ran to DONE once, when it finds none left: one write to that shared line a job.
 */
function claimChunks(
  i32: Int32Array,
  f32: Float32Array,
  tag: number,
  k: PoolKernel,
  worker: boolean,
  me = 0,
): void {
  const j = JOB;
  const args = Array.from(i32.subarray(j, j + i32[j + 13]));
  const count = i32[j + 14], op = i32[j + 15], total = i32[j + 16], per = i32[j + 17];
  const lo = f32[j + 18], hi = f32[j + 19];
  const [a, b, bias, c, m, kk, n, mc, rows, panels, panelChunks, panelCount] = args;
  const rowKernel = op === 1 ? k.dw_run : op === 2 ? k.cv_run : k.q8_quant;
  const gemm = op === 3 ? k.q8_run : k.pw_run;
  const timed = Atomics.load(i32, PROFILE) === 1;
  let done = 0; // added to DONE once, when this thread finds no chunk left
  let busy = 0; // milliseconds in this job's chunks, when timed
  for (;;) {
    const index = claimIndex(i32, tag, count, me);
    if (index < 0) {
      if (done === 0) return;
      if (timed) Atomics.add(i32, BUSY + me * LINE, Math.round(busy * 1e4));
      if (worker) Atomics.add(i32, TAKEN, done);
      if (Atomics.add(i32, DONE, done) + done === count) Atomics.notify(i32, DONE);
      return;
    }
    const t0 = timed ? performance.now() : 0;
    try {
      if (op === 5) {
        separableChunk(i32, f32, k, args, index, count, total, per, lo, hi, me);
      } else if (op === 0 || op === 3) {
        const r = Math.floor(index / panelChunks);
        const m0 = r * rows;
        const q0 = (index - r * panelChunks) * panels;
        const m1 = Math.min(m, m0 + rows), q1 = Math.min(panelCount, q0 + panels);
        gemm(a, b, bias, c, m0, m1, q0, q1, kk, n, lo, hi, mc);
      } else {
        const r0 = index * per;
        rowKernel(...args, r0, Math.min(total, r0 + per), lo, hi);
      }
    } catch {
      Atomics.store(i32, FAILED, 1);
    }
    if (timed) busy += performance.now() - t0;
    done++;
  }
}

/**
 * Runs chunk `index` of a separable job (kernel 5) on thread `me` (the caller 0, a worker its
 * slot + 1): `dw_px` on its output pixels into the thread's own middle, then `pw_run` on those
 * pixels and the panels of its group, with the words from EXTRA (0 packed, 1 bias, 2 c, 3
 * panels, 4 n, 5 mc, 6-7 the clamp, 8 groups, 9 the bytes of a thread's middle, 10 ranges,
 * 11 the GEMM's tile rows). A chunk is (band, group). With `per` rows a band, the rows
 * are cut into `ranges` even ranges (one a thread), and each range into bands of `per` rows,
 * the last one shorter. With `per` 0, the pixels (row after row) are cut into `ranges` ranges,
 * even but for their starts, which fall on whole tiles of the GEMM (196 pixels, tiles of 6, as
 * 96 and 100: a tile of fewer rows only at the end of the last range), and each range into as
 * many halving bands as a range has chunks, their ends rounded to whole tiles: 96 pixels in 5 as
 * 48, 24, 12, 6, 6 (the last takes the rest). A band is empty when its range is shorter than
 * another. Compiled twice, like {@linkcode claimChunks}.
 */
function separableChunk(
  i32: Int32Array,
  f32: Float32Array,
  k: PoolKernel,
  args: number[],
  index: number,
  count: number,
  total: number,
  per: number,
  lo: number,
  hi: number,
  me: number,
): void {
  const groups = i32[EXTRA + 8], panels = i32[EXTRA + 3], ranges = i32[EXTRA + 10];
  const band = Math.floor(index / groups), group = index - band * groups;
  const inRange = count / groups / ranges, range = Math.floor(band / inRange);
  const j = band - range * inRange;
  const [x, w, b, , h, width, channels, oh, ow, stride, padTop, padLeft] = args;
  const units = per ? total : total * ow; // rows, or pixels
  const align = i32[EXTRA + 11];
  // where range r starts: rows evenly, or pixels on the nearest whole tile of the GEMM, so that
  // only the last range ends in a tile of fewer rows
  const cut = (r: number) =>
    r >= ranges
      ? units
      : per
      ? Math.floor((r * units) / ranges)
      : Math.round((r * units) / ranges / align) * align;
  const start = cut(range);
  const size = cut(range + 1) - start;
  let q0, q1;
  if (per) {
    q0 = Math.min(start + j * per, start + size) * ow;
    q1 = Math.min(start + size, start + (j + 1) * per) * ow;
  } else {
    // the bands' ends, on whole tiles of the GEMM (`align` rows) from the range's start
    const end = (i: number) => Math.min(size, Math.round((size - (size >> i)) / align) * align);
    q0 = start + end(j);
    q1 = start + (j === inRange - 1 ? size : end(j + 1));
  }
  if (q0 >= q1) return;
  const p0 = Math.floor((group * panels) / groups);
  const p1 = Math.floor(((group + 1) * panels) / groups);
  const y = args[3] + me * i32[EXTRA + 9]; // this thread's middle: the band's pixels from its start
  k.dw_px(x, w, b, y, h, width, channels, oh, ow, stride, padTop, padLeft, q0, q1, lo, hi);
  const n = i32[EXTRA + 4], c = i32[EXTRA + 2] + q0 * n * 4;
  k.pw_run(
    y,
    i32[EXTRA],
    i32[EXTRA + 1],
    c,
    0,
    q1 - q0,
    p0,
    p1,
    channels,
    n,
    f32[EXTRA + 6],
    f32[EXTRA + 7],
    i32[EXTRA + 5],
  );
}

const WORKER_SOURCE = `"use strict";
const { parentPort, workerData } = require("node:worker_threads");
const process = require("node:process");
const { kernel, memory, control, slot } = workerData;
const k = new WebAssembly.Instance(kernel, { env: { memory } }).exports;
const i32 = new Int32Array(control);
const f32 = new Float32Array(control);
const LINE = ${LINE}, SCHED = ${SCHED}, NEXT = ${NEXT}, LIMIT = ${LIMIT}, RANGES = ${RANGES};
const JOB = ${JOB}, EXTRA = ${EXTRA}, FAILED = ${FAILED}, TAKEN = ${TAKEN}, DONE = ${DONE};
const PROFILE = ${PROFILE}, BUSY = ${BUSY};
const claimIndex = ${claimIndex.toString()};
const separableChunk = ${separableChunk.toString()};
const claimChunks = ${claimChunks.toString()};
let gen = Atomics.load(i32, ${GEN});
Atomics.add(i32, ${STARTED}, 1);
parentPort.postMessage("ready");
const pause = typeof Atomics.pause === "function" ? Atomics.pause : () => {};
function spin() {
  const until = performance.now() + Atomics.load(i32, ${SPIN}) / 1000;
  for (;;) {
    for (let i = 0; i < 32; i++) {
      if (Atomics.load(i32, ${GEN}) !== gen) return;
      pause();
    }
    if (Atomics.load(i32, ${PARK}) === gen || performance.now() > until) return;
  }
}
work: for (;;) {
  spin();
  while (Atomics.load(i32, ${GEN}) === gen) {
    if (Atomics.load(i32, ${QUIT})) break work;
    Atomics.wait(i32, ${GEN}, gen);
    spin(); // woken without a job (wake()): one is coming, wait for it awake
  }
  gen = Atomics.load(i32, ${GEN});
  if (Atomics.load(i32, ${QUIT})) break;
  if (slot < Atomics.load(i32, ${LIMIT})) claimChunks(i32, f32, gen & ${TAG_MASK}, k, true, slot + 1);
}
process.exit(0);
`;

/** The `node:worker_threads` Worker class. */
export type WorkerClass = typeof NodeWorker;

/** Live workers of every pool (for leak checks). */
const live = new Set<NodeWorker>();

/** Workers started by any {@linkcode KernelPool} that have not exited. */
export function liveKernelWorkers(): number {
  return live.size;
}

/** What {@linkcode KernelPool.profiling} adds up (for benches). */
export interface ThreadStats {
  /** Jobs posted. */
  jobs: number;
  /** Milliseconds the caller waited, after its last chunk of a job, for the others' chunks. */
  waitMs: number;
  /** Milliseconds each thread spent running chunks: the caller first, then each worker by slot. */
  chunkMs: number[];
}

/** The kernels of an instance, as the pool calls them. */
export interface PoolKernel {
  pw_run(...args: number[]): void;
  dw_run(...args: number[]): void;
  dw_px(...args: number[]): void;
  cv_run(...args: number[]): void;
  q8_run(...args: number[]): void;
  q8_quant(...args: number[]): void;
}

/** The kernels that split their work by output rows ({@linkcode KernelPool.runRows}). */
export type RowKernel = "dw_run" | "cv_run" | "q8_quant";

/** The GEMM kernels ({@linkcode KernelPool.run}): float32, or int8 (same arguments). */
export type GemmKernel = "pw_run" | "q8_run";

const ROW_OPS: Record<RowKernel, number> = { dw_run: 1, cv_run: 2, q8_quant: 4 };

/** How {@linkcode KernelPool.runSeparable} cuts a block. */
export interface SeparableCut {
  /** Output rows. */
  rows: number;
  /** Rows of a band, at most; 0: halving bands of pixels (see `bands`). */
  rowsPerChunk: number;
  /** Groups of the 1x1 convolution's column panels. */
  groups: number;
  /** Bytes of a thread's middle (the caller's first, then each worker's, by slot). */
  middleBytes: number;
  /** Even ranges the rows are cut into before bands (one a thread). @default {1} */
  ranges?: number;
  /**
   * With `rowsPerChunk` 0: the halving bands of each range (of pixels), at least 1. The range's
   * last band is then `1 / 2 ** (bands - 1)` of it.
   */
  bands?: number;
}

/** The arguments of one GEMM that every chunk shares. */
export interface PoolJob {
  a: number;
  packed: number;
  bias: number;
  c: number;
  k: number;
  n: number;
  lo: number;
  hi: number;
  mc: number;
}

/** A pool of kernel workers on one shared memory. */
export class KernelPool {
  readonly #workers: NodeWorker[] = [];
  readonly #exits: Promise<void>[] = [];
  readonly #i32: Int32Array;
  readonly #f32: Float32Array;
  #closed = false;
  #gen = 0;
  #scheduling = SCHEDULINGS.indexOf(DEFAULT_SCHEDULING);
  /** While profiling: jobs posted, and the caller's time waiting for others' chunks (ms). */
  #waits = { jobs: 0, ms: 0 };
  /** Resolves when every worker is ready; rejects when one fails to start. */
  readonly ready: Promise<void>;

  /**
   * Starts `size` workers running `module` (a shared-memory kernel build) on `memory`.
   *
   * @throws {RangeError} when `size` is not a positive integer.
   */
  constructor(
    workerClass: WorkerClass,
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    size: number,
  ) {
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`pool size must be >= 1, got ${size}`);
    }
    const control = new SharedArrayBuffer(WORDS * 4);
    this.#i32 = new Int32Array(control);
    this.#f32 = new Float32Array(control);
    this.#i32[SPIN] = WORKER_SPIN_US;
    const readies: Promise<void>[] = [];
    for (let slot = 0; slot < size; slot++) {
      const worker = new workerClass(WORKER_SOURCE, {
        eval: true,
        name: "mobilenet-edge-pointwise",
        workerData: { kernel: module, memory, control, slot },
      });
      live.add(worker);
      this.#workers.push(worker);
      const ready = Promise.withResolvers<void>();
      readies.push(ready.promise);
      ready.promise.finally(() => worker.unref()).catch(() => {});
      worker.on("message", (message: unknown) => {
        if (message === "ready") ready.resolve();
      });
      worker.on("error", (error: unknown) => ready.reject(error));
      this.#exits.push(
        new Promise<void>((resolve) =>
          worker.once("exit", () => {
            live.delete(worker);
            ready.reject(new Error("a pointwise worker exited before it was ready"));
            resolve();
          })
        ),
      );
    }
    this.ready = Promise.all(readies).then(() => {});
    this.ready.catch(() => {});
  }

  /** Chunks the workers have run so far (the caller's are not counted). */
  get workerChunks(): number {
    return Atomics.load(this.#i32, TAKEN);
  }

  /**
   * Whether each thread adds up the time of its chunks, and the caller its waits for the others'
   * last chunks (for benches: it costs two `performance.now()` a chunk). Turning it on clears
   * {@linkcode KernelPool.stats}.
   */
  get profiling(): boolean {
    return Atomics.load(this.#i32, PROFILE) === 1;
  }

  set profiling(on: boolean) {
    if (on) {
      this.#waits = { jobs: 0, ms: 0 };
      for (let t = 0; t < MAX_TEAM; t++) Atomics.store(this.#i32, BUSY + t * LINE, 0);
    }
    Atomics.store(this.#i32, PROFILE, on ? 1 : 0);
  }

  /** What {@linkcode KernelPool.profiling} has added up since it was turned on. */
  get stats(): ThreadStats {
    const chunkMs = [];
    for (let t = 0; t <= this.#workers.length; t++) {
      chunkMs.push(Atomics.load(this.#i32, BUSY + t * LINE) / 1e4);
    }
    return { jobs: this.#waits.jobs, waitMs: this.#waits.ms, chunkMs };
  }

  /** Microseconds a worker spins after a job before it sleeps ({@linkcode WORKER_SPIN_US}). */
  get spinMicros(): number {
    return Atomics.load(this.#i32, SPIN);
  }

  set spinMicros(us: number) {
    if (!Number.isInteger(us) || us < 0) throw new RangeError(`spin must be >= 0 us, got ${us}`);
    Atomics.store(this.#i32, SPIN, us);
  }

  /**
   * How a job's chunks are shared: `dynamic` (every thread takes the next chunk), `affinity`
   * (each thread its own contiguous share first, the same rows from layer to layer, then what
   * the others left) or `static` (each its own share only). For benches; see
   * {@linkcode DEFAULT_SCHEDULING}.
   */
  get scheduling(): Scheduling {
    return SCHEDULINGS[this.#scheduling];
  }

  set scheduling(mode: Scheduling) {
    const index = SCHEDULINGS.indexOf(mode);
    if (index < 0) {
      throw new RangeError(`scheduling must be ${SCHEDULINGS.join(", ")}, got ${mode}`);
    }
    this.#scheduling = index;
  }

  /**
   * Whether every worker has its kernel instance and is in its loop, read from the shared
   * control block: true before {@linkcode KernelPool.ready} resolves when the event loop has not
   * turned since (synchronous calls one after another).
   */
  get started(): boolean {
    return Atomics.load(this.#i32, STARTED) === this.#workers.length;
  }

  /** Workers in the pool. */
  get size(): number {
    return this.#workers.length;
  }

  /**
   * Runs the GEMM `job` cut as `chunks` on the calling thread and `workers` workers (at most
   * {@linkcode KernelPool.size}), each taking chunks until none is left, and returns when all
   * are done. `kernel` is the caller's instance; `fn` the GEMM (`q8_run`: the int8 one). Call
   * only once {@linkcode KernelPool.ready} has resolved.
   *
   * @throws {Error} when a chunk trapped (out-of-bounds pointers).
   */
  run(
    job: PoolJob,
    chunks: Chunking,
    workers: number,
    kernel: PoolKernel,
    fn: GemmKernel = "pw_run",
  ): void {
    this.#i32.set([
      job.a,
      job.packed,
      job.bias,
      job.c,
      chunks.m,
      job.k,
      job.n,
      job.mc,
      chunks.rows,
      chunks.panels,
      chunks.panelChunks,
      chunks.panelCount,
    ], JOB);
    const header = { op: fn === "q8_run" ? 3 : 0, argc: 12, count: chunks.count, rows: 0, per: 0 };
    this.#post({ ...header, lo: job.lo, hi: job.hi }, workers, kernel);
  }

  /**
   * Runs the row kernel `fn` over `rows` output rows in chunks of `rowsPerChunk`, like
   * {@linkcode KernelPool.run}: `fn(...lead, r0, r1, lo, hi)` for each chunk `[r0, r1)`. `lead`
   * holds at most 13 arguments.
   *
   * @throws {Error} when a chunk trapped (out-of-bounds pointers).
   */
  runRows(
    fn: RowKernel,
    lead: readonly number[],
    rows: number,
    rowsPerChunk: number,
    clamp: { lo: number; hi: number },
    workers: number,
    kernel: PoolKernel,
    scheduling: Scheduling = this.scheduling,
  ): void {
    this.#i32.set(lead, JOB);
    const header = {
      op: ROW_OPS[fn],
      argc: lead.length,
      count: Math.ceil(rows / rowsPerChunk),
      rows,
      per: rowsPerChunk,
    };
    this.#post({ ...header, ...clamp }, workers, kernel, scheduling);
  }

  /**
   * A depthwise 3x3 convolution and the 1x1 convolution of its output, chunk by chunk: a chunk is a
   * band of output pixels and a group of the 1x1 convolution's column panels (`groups` groups). The
   * output is first cut into `ranges` even ranges (default 1; give one a thread, so that affinity
   * hands each thread a range of the same size), of rows or (`rowsPerChunk` 0) of pixels (each
   * range starting on a whole GEMM tile, `mr` rows), then each range into bands of `rowsPerChunk`
   * rows, or into `bands` halving bands of pixels on whole tiles: 96 pixels in 5 as 48, 24, 12, 6,
   * 6. A chunk runs `dw_px` on its band into its thread's middle (`lead`'s `y` plus `slot *
   * middleBytes`, the caller's slot 0), then `pw_run` on those pixels and the panels of its group.
   * So a thread consumes the pixels it has just made, from its own cache, one job does the work of
   * two, and a band can be smaller than a row (a row of a 14x14 layer is 1/14 of it). With groups,
   * each chunk makes its band's whole depthwise output, which is small beside its share of the 1x1
   * one. `scheduling` is this job's (default the pool's).
   *
   * @throws {Error} when a chunk trapped (out-of-bounds pointers).
   */
  runSeparable(
    lead: readonly number[],
    pw: {
      packed: number;
      bias: number;
      c: number;
      panels: number;
      n: number;
      mc: number;
      mr: number;
    },
    clamps: { lo: number; hi: number; pwLo: number; pwHi: number },
    cut: SeparableCut,
    workers: number,
    kernel: PoolKernel,
    scheduling: Scheduling = this.scheduling,
  ): void {
    const { rows, rowsPerChunk, groups, middleBytes, ranges = 1, bands = 1 } = cut;
    if (!Number.isInteger(ranges) || ranges < 1 || ranges > rows) {
      throw new RangeError(`a separable job needs 1 to ${rows} row ranges, got ${ranges}`);
    }
    if (!Number.isInteger(bands) || bands < 1 || ranges * bands * groups > 1023) {
      throw new RangeError(`a separable job's ranges need 1 or more bands, got ${bands}`);
    }
    this.#i32.set(lead, JOB);
    this.#i32.set([pw.packed, pw.bias, pw.c, pw.panels, pw.n, pw.mc], EXTRA);
    this.#f32[EXTRA + 6] = clamps.pwLo;
    this.#f32[EXTRA + 7] = clamps.pwHi;
    this.#i32.set([groups, middleBytes, ranges, pw.mr], EXTRA + 8);
    const inRange = rowsPerChunk ? Math.ceil(Math.ceil(rows / ranges) / rowsPerChunk) : bands;
    const count = ranges * inRange * groups;
    const header = { op: 5, argc: lead.length, count, rows, per: rowsPerChunk };
    this.#post({ ...header, lo: clamps.lo, hi: clamps.hi }, workers, kernel, scheduling);
  }

  /** Writes the job's header (its arguments are written), runs it, waits for every chunk. */
  #post(
    job: {
      op: number;
      argc: number;
      count: number;
      rows: number;
      per: number;
      lo: number;
      hi: number;
    },
    workers: number,
    kernel: PoolKernel,
    scheduling: Scheduling = this.scheduling,
  ): void {
    const i32 = this.#i32;
    const f32 = this.#f32;
    const { count } = job;
    const mode = SCHEDULINGS.indexOf(scheduling);
    i32.set([job.argc, count, job.op, job.rows, job.per], JOB + 13);
    f32[JOB + 18] = job.lo;
    f32[JOB + 19] = job.hi;
    const gen = (this.#gen = (this.#gen + 1) | 0);
    const tag = gen & TAG_MASK;
    Atomics.store(i32, SCHED, mode);
    Atomics.store(i32, LIMIT, workers);
    Atomics.store(i32, DONE, 0);
    Atomics.store(i32, NEXT, tag << 10);
    if (mode !== 0) {
      for (let r = 0; r <= workers; r++) {
        Atomics.store(
          i32,
          RANGES + r * LINE,
          (tag << 10) | Math.floor((r * count) / (workers + 1)),
        );
      }
    }
    Atomics.store(i32, GEN, gen);
    Atomics.notify(i32, GEN);
    claimChunks(i32, f32, tag, kernel, false);
    const waiting = Atomics.load(i32, PROFILE) === 1 ? performance.now() : undefined;
    for (let spins = CALLER_SPINS; spins > 0 && Atomics.load(i32, DONE) !== count; spins--);
    for (let done; (done = Atomics.load(i32, DONE)) !== count;) Atomics.wait(i32, DONE, done);
    if (waiting !== undefined) {
      this.#waits.jobs++;
      this.#waits.ms += performance.now() - waiting;
    }
    // Close this job before the next one's words are written: a worker still entering
    // claimChunks with this tag may read the next job's words (its count among them), and must
    // then find no chunk left to claim. Without this, it could claim "chunk count" of this tag
    // with the next job's arguments, and its extra DONE would make the caller wait forever.
    Atomics.store(i32, NEXT, (tag << 10) | 1023);
    for (let r = 0; r < MAX_TEAM; r++) Atomics.store(i32, RANGES + r * LINE, (tag << 10) | 1023);
    if (Atomics.exchange(i32, FAILED, 0)) throw new Error("a pointwise kernel chunk trapped");
  }

  /** Wakes sleeping workers to spin for a job that is about to come (the next inference). */
  wake(): void {
    if (!this.#closed) Atomics.notify(this.#i32, GEN);
  }

  /**
   * Asks the workers to stop spinning after the last job and sleep now (when other threads, such
   * as XNNPACK's, are about to need the cores).
   */
  park(): void {
    Atomics.store(this.#i32, PARK, this.#gen);
  }

  /** Asks every worker to leave and resolves when all have exited. Idempotent. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      Atomics.store(this.#i32, QUIT, 1);
      Atomics.add(this.#i32, GEN, 1);
      Atomics.notify(this.#i32, GEN);
      // a worker that never got going (or is stuck) is ended the hard way after a while
      const timer = setTimeout(() => this.#workers.forEach((w) => void w.terminate()), 2000);
      try {
        await Promise.all(this.#exits);
      } finally {
        clearTimeout(timer);
      }
    }
    await Promise.all(this.#exits);
  }
}
