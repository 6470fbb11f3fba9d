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

/** Control block layout (Int32 words). */
const GEN = 0; // job generation: bumped by the caller to post a job
const QUIT = 1; // 1: leave the loop
const FAILED = 2; // set by a worker whose chunk threw (a trap)
const NEXT = 3; // (generation tag << 10) | next unclaimed chunk
const DONE = 4; // chunks finished in this job
const LIMIT = 5; // workers (by slot) that may take part in this job
const TAKEN = 6; // chunks the workers have run since the pool started (statistics)
const PARK = 7; // a generation: workers spinning after that job go to sleep at once
const JOB = 8; // the job: 15 words, the op (0: GEMM, 1: depthwise, 2: 3x3 conv), 3 more; see run*()
const SPIN = JOB + 20; // microseconds a worker spins after a job before it sleeps
const STARTED = SPIN + 1; // workers that have instantiated the kernel (before their "ready")
const WORDS = STARTED + 1;
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
/** Spins of the caller on the finished-chunk count before it sleeps (about 300 us). */
const CALLER_SPINS = 20_000;

/**
 * Claims chunks of the current job one at a time and runs them with the kernel instance `k`:
 * the same loop for the caller and for the workers. Returns when no chunk of generation `tag` is
 * left. Compiled twice: in the workers from its source text, and here.
 *
 * Job words (from JOB): GEMM (op 0): a, packed, bias, c, m, k, n, mc, rows, panels,
 * panelChunks, panelCount, count, lo, hi; depthwise (op 1): x, w, bias, y, H, W, C, OH, OW,
 * stride, padT, padL, count, lo, hi, op, rows in all, rows per chunk; 3x3 convolution (op 2): x,
 * packed, bias, y, H, W, Cin, N, OH, OW, stride, padT, count, lo, hi, op, rows in all, rows per
 * chunk, padL.
 */
function claimChunks(
  i32: Int32Array,
  f32: Float32Array,
  tag: number,
  k: PoolKernel,
  worker: boolean,
): void {
  const j = 8; // JOB
  const op = i32[j + 15];
  const count = i32[j + 12], lo = f32[j + 13], hi = f32[j + 14];
  const a = i32[j], b = i32[j + 1], bias = i32[j + 2], c = i32[j + 3];
  const p4 = i32[j + 4], p5 = i32[j + 5], p6 = i32[j + 6], p7 = i32[j + 7], p8 = i32[j + 8];
  const p9 = i32[j + 9], p10 = i32[j + 10], p11 = i32[j + 11];
  const total = i32[j + 16], per = i32[j + 17], p12 = i32[j + 18];
  for (;;) {
    const v = Atomics.load(i32, 3); // NEXT
    const index = v & 1023;
    if (v >>> 10 !== tag || index >= count) return;
    if (Atomics.compareExchange(i32, 3, v, v + 1) !== v) continue;
    try {
      if (op === 0) {
        // rows p8 per chunk, panels p9 per chunk, p10 panel chunks, p11 panels, m = p4
        const r = Math.floor(index / p10);
        const m0 = r * p8;
        const q0 = (index - r * p10) * p9;
        k.pw_run(
          a,
          b,
          bias,
          c,
          m0,
          Math.min(p4, m0 + p8),
          q0,
          Math.min(p11, q0 + p9),
          p5,
          p6,
          lo,
          hi,
          p7,
        );
      } else {
        const r0 = index * per, r1 = Math.min(total, r0 + per);
        if (op === 1) k.dw_run(a, b, bias, c, p4, p5, p6, p7, p8, p9, p10, p11, r0, r1, lo, hi);
        else k.cv_run(a, b, bias, c, p4, p5, p6, p7, p8, p9, p10, p11, p12, r0, r1, lo, hi);
      }
    } catch {
      Atomics.store(i32, 2, 1); // FAILED
    }
    if (worker) Atomics.add(i32, 6, 1); // TAKEN
    if (Atomics.add(i32, 4, 1) + 1 === count) Atomics.notify(i32, 4); // DONE
  }
}

const WORKER_SOURCE = `"use strict";
const { parentPort, workerData } = require("node:worker_threads");
const process = require("node:process");
const { kernel, memory, control, slot } = workerData;
const k = new WebAssembly.Instance(kernel, { env: { memory } }).exports;
const i32 = new Int32Array(control);
const f32 = new Float32Array(control);
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
  }
  gen = Atomics.load(i32, ${GEN});
  if (Atomics.load(i32, ${QUIT})) break;
  if (slot < Atomics.load(i32, ${LIMIT})) claimChunks(i32, f32, gen & ${TAG_MASK}, k, true);
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

/** The kernels of an instance, as the pool calls them. */
export interface PoolKernel {
  pw_run(...args: number[]): void;
  dw_run(...args: number[]): void;
  cv_run(...args: number[]): void;
}

/**
 * What a 3x3 convolution job (depthwise or of few channels) holds besides its filter: input `x`
 * (`h` x `width` pixels), bias (0: none), output `y` (`oh` x `ow`), stride, top and left padding,
 * `rows` = batch x output height (the unit of its chunks), clamp `[lo, hi]`.
 */
export interface SpatialJob {
  x: number;
  bias: number;
  y: number;
  h: number;
  width: number;
  oh: number;
  ow: number;
  stride: number;
  padTop: number;
  padLeft: number;
  rows: number;
  lo: number;
  hi: number;
}

/** A depthwise 3x3 convolution: `dw_run`'s arguments, the filter `w` as tfjs holds it. */
export interface DepthwiseJob extends SpatialJob {
  w: number;
  channels: number;
}

/**
 * A 3x3 convolution of few input channels: `cv_run`'s arguments, `packed` the filter packed as a
 * `[9 * cin, n]` GEMM operand.
 */
export interface ConvJob extends SpatialJob {
  packed: number;
  cin: number;
  n: number;
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

  /** Microseconds a worker spins after a job before it sleeps ({@linkcode WORKER_SPIN_US}). */
  get spinMicros(): number {
    return Atomics.load(this.#i32, SPIN);
  }

  set spinMicros(us: number) {
    if (!Number.isInteger(us) || us < 0) throw new RangeError(`spin must be >= 0 us, got ${us}`);
    Atomics.store(this.#i32, SPIN, us);
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
   * are done. `kernel` is the caller's instance. Call only once {@linkcode KernelPool.ready} has
   * resolved.
   *
   * @throws {Error} when a chunk trapped (out-of-bounds pointers).
   */
  run(job: PoolJob, chunks: Chunking, workers: number, kernel: PoolKernel): void {
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
      chunks.count,
    ], JOB);
    this.#i32[JOB + 15] = 0;
    this.#post(job.lo, job.hi, chunks.count, workers, kernel);
  }

  /**
   * Runs the depthwise convolution `job` (`dw_run`'s arguments but the row range) in chunks of
   * `rowsPerChunk` output rows, like {@linkcode KernelPool.run}.
   *
   * @throws {Error} when a chunk trapped (out-of-bounds pointers).
   */
  runDepthwise(job: DepthwiseJob, rowsPerChunk: number, workers: number, kernel: PoolKernel): void {
    const count = Math.ceil(job.rows / rowsPerChunk);
    const { x, w, bias, y, h, width, channels, oh, ow, stride, padTop, padLeft } = job;
    this.#i32.set([x, w, bias, y, h, width, channels, oh, ow, stride, padTop, padLeft, count], JOB);
    this.#i32[JOB + 15] = 1;
    this.#i32[JOB + 16] = job.rows;
    this.#i32[JOB + 17] = rowsPerChunk;
    this.#post(job.lo, job.hi, count, workers, kernel);
  }

  /**
   * Runs the 3x3 convolution `job` (`cv_run`'s arguments but the row range) in chunks of
   * `rowsPerChunk` output rows, like {@linkcode KernelPool.run}.
   *
   * @throws {Error} when a chunk trapped (out-of-bounds pointers).
   */
  runConv(job: ConvJob, rowsPerChunk: number, workers: number, kernel: PoolKernel): void {
    const count = Math.ceil(job.rows / rowsPerChunk);
    const { x, packed, bias, y, h, width, cin, n, oh, ow, stride, padTop } = job;
    this.#i32.set([x, packed, bias, y, h, width, cin, n, oh, ow, stride, padTop, count], JOB);
    this.#i32[JOB + 15] = 2;
    this.#i32[JOB + 16] = job.rows;
    this.#i32[JOB + 17] = rowsPerChunk;
    this.#i32[JOB + 18] = job.padLeft;
    this.#post(job.lo, job.hi, count, workers, kernel);
  }

  #post(lo: number, hi: number, count: number, workers: number, kernel: PoolKernel): void {
    const i32 = this.#i32;
    const f32 = this.#f32;
    f32[JOB + 13] = lo;
    f32[JOB + 14] = hi;
    const gen = (this.#gen = (this.#gen + 1) | 0);
    const tag = gen & TAG_MASK;
    Atomics.store(i32, LIMIT, workers);
    Atomics.store(i32, DONE, 0);
    Atomics.store(i32, NEXT, tag << 10);
    Atomics.store(i32, GEN, gen);
    Atomics.notify(i32, GEN);
    claimChunks(i32, f32, tag, kernel, false);
    for (let spins = CALLER_SPINS; spins > 0 && Atomics.load(i32, DONE) !== count; spins--);
    for (let done; (done = Atomics.load(i32, DONE)) !== count;) Atomics.wait(i32, DONE, done);
    // Close this job before the next one's words are written: a worker still entering
    // claimChunks with this tag may read the next job's words (its count among them), and must
    // then find no chunk left to claim. Without this, it could claim "chunk count" of this tag
    // with the next job's arguments, and its extra DONE would make the caller wait forever.
    Atomics.store(i32, NEXT, (tag << 10) | 1023);
    if (Atomics.exchange(i32, FAILED, 0)) throw new Error("a pointwise kernel chunk trapped");
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
