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
// profiling: the time each thread has waited, in a chain job, for the others' bands, a line each
const STALL = BUSY + MAX_TEAM * LINE;
// A chain job (see KernelPool.runChain): a descriptor of CHAIN_WORDS words a block (see
// claimChain), then a word for each band of every block, set to the job's tag by the thread that
// ran the band (FLAGS)
const CHAIN = STALL + MAX_TEAM * LINE;
const CHAIN_WORDS = 32;
/** Blocks a chain job holds at most ({@linkcode KernelPool.runChain}). */
export const MAX_CHAIN = 16;
const FLAGS = CHAIN + MAX_CHAIN * CHAIN_WORDS;
const MAX_FLAGS = 1024;
const WORDS = FLAGS + MAX_FLAGS;
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

/** `Atomics.pause` where there is one (a spin-wait hint). */
const pause = typeof Atomics.pause === "function" ? Atomics.pause : () => {};

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
 * kernel (0: `pw_run`, 1: `dw_run`, 2: `cv_run`, 3: `q8_run`, 4: `q8_quant`, 5: separable, 6:
 * a chain of separable blocks, see {@linkcode claimChain}), 16 rows in all and 17 rows per chunk
 * (row kernels), 18 and 19 the clamp (float32). A GEMM's arguments (`pw_run`'s, and the int8
 * `q8_run`'s) are a, packed, bias, c, m, k, n, mc, rows, panels, panelChunks, panelCount; a row
 * kernel's are its leading ones, before the row range `[r0, r1)` and the clamp. A separable
 * chunk: see {@linkcode separableChunk}. Each thread adds the chunks it ran to DONE once, when it
 * finds none left: one write to that shared line a job.
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
  if (i32[j + 15] === 6) return claimChain(i32, f32, tag, k, worker, me);
  const args = Array.from(i32.subarray(j, j + i32[j + 13]));
  const count = i32[j + 14], op = i32[j + 15], total = i32[j + 16], per = i32[j + 17];
  const lo = f32[j + 18], hi = f32[j + 19];
  const [a, b, bias, c, m, kk, n, mc, rows, panels, panelChunks, panelCount] = args;
  const rowKernel = op === 1 ? k.dw_run : op === 2 ? k.cv_run : k.q8_quant;
  const gemm = op === 3 ? k.q8_run : k.pw_run;
  const timed = Atomics.load(i32, PROFILE) === 1;
  let done = 0; // added to DONE once, when this thread finds no chunk left
  let busy = 0; // milliseconds in this job's chunks, when timed
  for (let index; (index = claimIndex(i32, tag, count, me)) >= 0; done++) {
    const t0 = timed ? performance.now() : 0;
    try {
      if (op === 5) {
        separableChunk(i32, f32, k, args, index, count, total, per, lo, hi, me, EXTRA, 0);
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
  }
  report(i32, me, worker, count, done, busy, 0);
}

/**
 * Adds what thread `me` did in a job of `count` chunks to the shared words, once, when it finds
 * no chunk left: `done` chunks to DONE (waking the caller when they are the last), and when
 * profiling, `busy` and `stall` milliseconds to its BUSY and STALL lines. Compiled twice, like
 * {@linkcode claimChunks}.
 */
function report(
  i32: Int32Array,
  me: number,
  worker: boolean,
  count: number,
  done: number,
  busy: number,
  stall: number,
): void {
  if (done === 0) return;
  if (Atomics.load(i32, PROFILE) === 1) {
    Atomics.add(i32, BUSY + me * LINE, Math.round(busy * 1e4));
    Atomics.add(i32, STALL + me * LINE, Math.round(stall * 1e4));
  }
  if (worker) Atomics.add(i32, TAKEN, done);
  if (Atomics.add(i32, DONE, done) + done === count) Atomics.notify(i32, DONE);
}

/**
 * The output pixels `[q0, q1)` of band `index` of a separable job of `count` chunks, `total`
 * rows of `ow` pixels, `per` rows a band (0: halving bands), its words from `e` (the layout of
 * EXTRA). A chunk is (band, group). With `per` rows a band, the rows are cut into `ranges` even
 * ranges (one a thread), and each range into bands of `per` rows, the last one shorter. With
 * `per` 0, the pixels (row after row) are cut into `ranges` even ranges, and each range into as
 * many halving bands as a range has chunks, their ends rounded to whole tiles: 98 pixels in 5,
 * tiles of 6, as 48, 24, 12, 6, 8 (the last takes the rest). A band is empty when its range is
 * shorter than another. With `mirror`, an even range followed by another runs its bands from its
 * end down (the biggest first, next to the following range): two threads' first bands then meet
 * at their ranges' boundary. Compiled twice, like {@linkcode claimChunks}.
 */
function bandPixels(
  i32: Int32Array,
  e: number,
  index: number,
  count: number,
  total: number,
  per: number,
  ow: number,
  mirror: number,
): [number, number] {
  const groups = i32[e + 8], ranges = i32[e + 10];
  const band = Math.floor(index / groups);
  const inRange = count / groups / ranges, range = Math.floor(band / inRange);
  const j = band - range * inRange;
  const units = per ? total : total * ow; // rows, or pixels
  const start = Math.floor((range * units) / ranges);
  const size = Math.floor(((range + 1) * units) / ranges) - start;
  let a, b; // from the range's start, in units
  if (per) {
    a = Math.min(j * per, size);
    b = Math.min(size, (j + 1) * per);
  } else {
    // the bands' ends, on whole tiles of the GEMM (`align` rows) from the range's start
    const align = i32[e + 11];
    const end = (i: number) => Math.min(size, Math.round((size - (size >> i)) / align) * align);
    a = end(j);
    b = j === inRange - 1 ? size : end(j + 1);
  }
  if (mirror && range % 2 === 0 && range + 1 < ranges) [a, b] = [size - b, size - a];
  const scale = per ? ow : 1;
  return [(start + a) * scale, (start + b) * scale];
}

/**
 * Runs chunk `index` of a separable job (kernel 5, or a block of a chain) on thread `me` (the
 * caller 0, a worker its slot + 1): `dw_px` on the output pixels of its band (see
 * {@linkcode bandPixels}) into the thread's own middle, then `pw_run` on those pixels and the
 * panels of its group, with the words from `e` (EXTRA for kernel 5: 0 packed, 1 bias, 2 c, 3
 * panels, 4 n, 5 mc, 6-7 the clamp, 8 groups, 9 the bytes of a thread's middle, 10 ranges, 11
 * the GEMM's tile rows). Compiled twice, like {@linkcode claimChunks}.
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
  e: number,
  mirror: number,
): void {
  const groups = i32[e + 8], panels = i32[e + 3];
  const [x, w, b, , h, width, channels, oh, ow, stride, padTop, padLeft] = args;
  const [q0, q1] = bandPixels(i32, e, index, count, total, per, ow, mirror);
  if (q0 >= q1) return;
  const group = index % groups;
  const p0 = Math.floor((group * panels) / groups);
  const p1 = Math.floor(((group + 1) * panels) / groups);
  const y = args[3] + me * i32[e + 9]; // this thread's middle: the band's pixels from its start
  k.dw_px(x, w, b, y, h, width, channels, oh, ow, stride, padTop, padLeft, q0, q1, lo, hi);
  const n = i32[e + 4], c = i32[e + 2] + q0 * n * 4;
  k.pw_run(
    y,
    i32[e],
    i32[e + 1],
    c,
    0,
    q1 - q0,
    p0,
    p1,
    channels,
    n,
    f32[e + 6],
    f32[e + 7],
    i32[e + 5],
  );
}

/**
 * A chain job (kernel 6, {@linkcode KernelPool.runChain}): separable blocks one after the other,
 * each reading the one before's output, in one job. Its block `b`'s descriptor is at `CHAIN + b
 * * CHAIN_WORDS`: 0-11 the separable arguments, 12-23 the words of EXTRA's layout, 24 rows, 25
 * rows a band, 26 chunks (one range a thread, in the order of the team), 27-28 the depthwise
 * clamp (float32), 29 the chunks of a range in the blocks before, 30 its first word in FLAGS, 31
 * mirror (see {@linkcode bandPixels}). JOB's word 0 holds the blocks. A thread takes the bands
 * of block `b` (its own range first, then the others' left), and only then those of block `b +
 * 1`; before it runs a band, it waits for the bands of the block before that made the rows the
 * band reads (their FLAGS words), and after, it sets the band's word. So a thread goes on to the
 * next block as soon as the rows it needs are made, not when the whole block is. Every band
 * waits only for bands of an earlier block, which have all been claimed by then: a band is never
 * waited for before a thread runs it. Compiled twice, like {@linkcode claimChunks}.
 */
function claimChain(
  i32: Int32Array,
  f32: Float32Array,
  tag: number,
  k: PoolKernel,
  worker: boolean,
  me: number,
): void {
  // bounded: a worker that enters the job late may read the next job's words
  const blocks = Math.min(i32[JOB], MAX_CHAIN), team = Atomics.load(i32, LIMIT) + 1;
  const timed = Atomics.load(i32, PROFILE) === 1;
  let done = 0, busy = 0, stall = 0;
  for (let b = 0; b < blocks; b++) {
    const d = CHAIN + b * CHAIN_WORDS;
    const args = Array.from(i32.subarray(d, d + 12));
    const count = i32[d + 26], total = i32[d + 24], per = i32[d + 25], mirror = i32[d + 31];
    const lo = f32[d + 27], hi = f32[d + 28];
    for (let index; (index = claimBand(i32, tag, d, team, me)) >= 0; done++) {
      const t0 = timed ? performance.now() : 0;
      if (b > 0) {
        const [q0, q1] = bandPixels(i32, d + 12, index, count, total, per, args[8], mirror);
        if (q0 < q1) awaitRows(i32, tag, d, q0, q1);
      }
      const t1 = timed ? performance.now() : 0;
      try {
        separableChunk(i32, f32, k, args, index, count, total, per, lo, hi, me, d + 12, mirror);
      } catch {
        Atomics.store(i32, FAILED, 1);
      }
      Atomics.store(i32, FLAGS + i32[d + 30] + index, tag);
      if (timed) {
        stall += t1 - t0;
        busy += performance.now() - t1;
      }
    }
  }
  report(i32, me, worker, i32[JOB + 14], done, busy, stall);
}

/**
 * The next band of a chain's block (descriptor at `d`) for thread `me` of a team of `team`, or
 * -1 when every band of the block is claimed. The block's bands of range `r` are the chunks
 * `[seg, seg + inRange)` of RANGES' counter `r`, which runs through the blocks one after the
 * other. Compiled twice, like {@linkcode claimChunks}.
 */
function claimBand(i32: Int32Array, tag: number, d: number, team: number, me: number): number {
  const inRange = i32[d + 26] / team;
  const seg = i32[d + 29], end = seg + inRange;
  for (let step = 0; step < team; step++) {
    const r = (me + step) % team;
    const word = RANGES + r * LINE;
    for (;;) {
      const v = Atomics.load(i32, word);
      const index = v & 1023;
      if (v >>> 10 !== tag || index >= end) break;
      if (Atomics.compareExchange(i32, word, v, v + 1) === v) return r * inRange + index - seg;
    }
  }
  return -1;
}

/**
 * Waits until every band of the block before `d` that made a row read by output pixels `[q0,
 * q1)` of block `d` has set its FLAGS word to `tag` (or a chunk failed). The rows read are those
 * of a 3x3 window at the block's stride and top padding, image by image of the batch. Compiled
 * twice, like {@linkcode claimChunks}.
 */
function awaitRows(i32: Int32Array, tag: number, d: number, q0: number, q1: number): void {
  const h = i32[d + 4], w = i32[d + 5], oh = i32[d + 7], ow = i32[d + 8];
  const stride = i32[d + 9], padTop = i32[d + 10];
  const o0 = Math.floor(q0 / ow), o1 = Math.floor((q1 - 1) / ow); // first and last output rows
  const n0 = Math.floor(o0 / oh), n1 = Math.floor(o1 / oh); // their images
  const from = (n0 * h + Math.max(0, (o0 - n0 * oh) * stride - padTop)) * w;
  const to = (n1 * h + Math.min(h - 1, (o1 - n1 * oh) * stride - padTop + 2) + 1) * w;
  const p = d - CHAIN_WORDS;
  const count = i32[p + 26], flags = FLAGS + i32[p + 30];
  for (let i = 0; i < count; i++) {
    const [p0, p1] = bandPixels(
      i32,
      p + 12,
      i,
      count,
      i32[p + 24],
      i32[p + 25],
      i32[p + 8],
      i32[p + 31],
    );
    if (p0 >= to || p1 <= from || Atomics.load(i32, flags + i) === tag) continue;
    for (let spins = 0; Atomics.load(i32, flags + i) !== tag; spins++) {
      if (Atomics.load(i32, FAILED) !== 0) return;
      // a thread that gets no CPU (a busy machine): sleep in short naps, not spin
      if (spins < 20_000) pause();
      else Atomics.wait(i32, flags + i, Atomics.load(i32, flags + i), 0.05);
    }
  }
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
const STALL = ${STALL}, CHAIN = ${CHAIN}, CHAIN_WORDS = ${CHAIN_WORDS}, FLAGS = ${FLAGS};
const MAX_CHAIN = ${MAX_CHAIN};
const pause = typeof Atomics.pause === "function" ? Atomics.pause : () => {};
const claimIndex = ${claimIndex.toString()};
const report = ${report.toString()};
const bandPixels = ${bandPixels.toString()};
const separableChunk = ${separableChunk.toString()};
const claimBand = ${claimBand.toString()};
const awaitRows = ${awaitRows.toString()};
const claimChain = ${claimChain.toString()};
const claimChunks = ${claimChunks.toString()};
let gen = Atomics.load(i32, ${GEN});
Atomics.add(i32, ${STARTED}, 1);
parentPort.postMessage("ready");
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
  /**
   * Milliseconds each thread waited, in chain jobs, for another thread's bands of the block
   * before (in the same order).
   */
  stallMs: number[];
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

/** The 1x1 half of a separable job ({@linkcode KernelPool.runSeparable}). */
export interface SeparableGemm {
  packed: number;
  bias: number;
  c: number;
  panels: number;
  n: number;
  mc: number;
  mr: number;
}

/** The clamps of a separable job: the depthwise half's, and the 1x1 half's. */
export interface SeparableClamps {
  lo: number;
  hi: number;
  pwLo: number;
  pwHi: number;
}

/** A block of a chain job ({@linkcode KernelPool.runChain}): what a separable job takes. */
export interface ChainBlock {
  /** The depthwise arguments: x, w, bias, y, h, width, channels, oh, ow, stride, padTop, padLeft. */
  lead: readonly number[];
  pw: SeparableGemm;
  clamps: SeparableClamps;
  cut: SeparableCut;
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
      for (let t = 0; t < MAX_TEAM; t++) {
        Atomics.store(this.#i32, BUSY + t * LINE, 0);
        Atomics.store(this.#i32, STALL + t * LINE, 0);
      }
    }
    Atomics.store(this.#i32, PROFILE, on ? 1 : 0);
  }

  /** What {@linkcode KernelPool.profiling} has added up since it was turned on. */
  get stats(): ThreadStats {
    const chunkMs = [], stallMs = [];
    for (let t = 0; t <= this.#workers.length; t++) {
      chunkMs.push(Atomics.load(this.#i32, BUSY + t * LINE) / 1e4);
      stallMs.push(Atomics.load(this.#i32, STALL + t * LINE) / 1e4);
    }
    return { jobs: this.#waits.jobs, waitMs: this.#waits.ms, chunkMs, stallMs };
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
   * A depthwise 3x3 convolution and the 1x1 convolution of its output, chunk by chunk: a chunk
   * is a band of output pixels and a group of the 1x1 convolution's column panels (`groups`
   * groups). The output is first cut into `ranges` even ranges (default 1; give one a thread,
   * so that affinity hands each thread a range of the same size), of rows or (`rowsPerChunk` 0)
   * of pixels, then each range into bands of `rowsPerChunk` rows, or into `bands` halving
   * bands of pixels on whole GEMM tiles (`mr` rows): 98 pixels in 5 as 48, 24, 12, 6, 8. A
   * chunk runs `dw_px` on its band into its thread's middle (`lead`'s `y` plus `slot *
   * middleBytes`, the caller's slot 0), then `pw_run` on those pixels and the panels of its
   * group. So a thread consumes the pixels it has just made, from its own cache, one job does
   * the work of two, and a band can be smaller than a row (a row of a 14x14 layer is 1/14 of
   * it). With groups, each chunk makes its band's whole depthwise output, which is small beside
   * its share of the 1x1 one. `scheduling` is this job's (default the pool's).
   *
   * @throws {RangeError} for a cut of no ranges or bands, or of more than 1023 chunks.
   * @throws {Error} when a chunk trapped (out-of-bounds pointers).
   */
  runSeparable(
    lead: readonly number[],
    pw: SeparableGemm,
    clamps: SeparableClamps,
    cut: SeparableCut,
    workers: number,
    kernel: PoolKernel,
    scheduling: Scheduling = this.scheduling,
  ): void {
    const { count } = this.#writeSeparable({ lead, pw, clamps, cut }, JOB, EXTRA);
    const header = { op: 5, argc: lead.length, count, rows: cut.rows, per: cut.rowsPerChunk };
    this.#post({ ...header, lo: clamps.lo, hi: clamps.hi }, workers, kernel, scheduling);
  }

  /**
   * Separable blocks one after the other, each reading the output of the one before (its `x` the
   * one before's `c`), as one job: each block is cut as {@linkcode KernelPool.runSeparable} cuts
   * it, in one range of pixels or rows a thread (`ranges` = `workers + 1`, no column groups), and
   * shared by affinity, each thread's range's bands made from the boundary with the next range
   * outward. A thread goes on to a band of the next block as soon as the bands of this block that
   * made the rows it reads are done, so the threads do not wait for each other at every block,
   * and a block costs no hand-off. The values are those of the blocks run one by one.
   *
   * @throws {RangeError} for no blocks or more than {@linkcode MAX_CHAIN}, or a block not cut in
   * one range a thread without groups, or too many bands in all.
   * @throws {Error} when a chunk trapped (out-of-bounds pointers).
   */
  runChain(blocks: readonly ChainBlock[], workers: number, kernel: PoolKernel): void {
    if (blocks.length < 1 || blocks.length > MAX_CHAIN) {
      throw new RangeError(`a chain job holds 1 to ${MAX_CHAIN} blocks, got ${blocks.length}`);
    }
    let seg = 0, flags = 0;
    blocks.forEach((block, b) => {
      const { cut, clamps } = block;
      if (cut.groups !== 1 || (cut.ranges ?? 1) !== workers + 1) {
        throw new RangeError("a chain's blocks are cut in one range a thread, without groups");
      }
      const d = CHAIN + b * CHAIN_WORDS;
      const { count, inRange } = this.#writeSeparable(block, d, d + 12);
      this.#i32.set([cut.rows, cut.rowsPerChunk, count], d + 24);
      this.#f32[d + 27] = clamps.lo;
      this.#f32[d + 28] = clamps.hi;
      this.#i32.set([seg, flags, 1], d + 29);
      seg += inRange;
      flags += count;
    });
    if (seg > 1023 || flags > MAX_FLAGS) {
      throw new RangeError(`a chain job has at most 1023 bands a thread, got ${seg}`);
    }
    this.#i32.fill(-1, FLAGS, FLAGS + flags);
    this.#i32[JOB] = blocks.length;
    const header = { op: 6, argc: 0, count: flags, rows: 0, per: 0, lo: 0, hi: 0 };
    this.#post(header, workers, kernel, "affinity");
  }

  /**
   * Writes a separable block's arguments at `leadAt` and its other words at `extraAt` (EXTRA's
   * layout); returns its chunks, and those of a range.
   */
  #writeSeparable(
    block: ChainBlock,
    leadAt: number,
    extraAt: number,
  ): { count: number; inRange: number } {
    const { lead, pw, clamps, cut } = block;
    const { rows, rowsPerChunk, groups, middleBytes, ranges = 1, bands = 1 } = cut;
    if (!Number.isInteger(ranges) || ranges < 1 || ranges > rows) {
      throw new RangeError(`a separable job needs 1 to ${rows} row ranges, got ${ranges}`);
    }
    if (!Number.isInteger(bands) || bands < 1 || ranges * bands * groups > 1023) {
      throw new RangeError(`a separable job's ranges need 1 or more bands, got ${bands}`);
    }
    this.#i32.set(lead, leadAt);
    this.#i32.set([pw.packed, pw.bias, pw.c, pw.panels, pw.n, pw.mc], extraAt);
    this.#f32[extraAt + 6] = clamps.pwLo;
    this.#f32[extraAt + 7] = clamps.pwHi;
    this.#i32.set([groups, middleBytes, ranges, pw.mr], extraAt + 8);
    const inRange = rowsPerChunk ? Math.ceil(Math.ceil(rows / ranges) / rowsPerChunk) : bands;
    return { count: ranges * inRange * groups, inRange };
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
          // a chain's counters run through its blocks, each from 0 (see claimBand)
          (tag << 10) | (job.op === 6 ? 0 : Math.floor((r * count) / (workers + 1))),
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
