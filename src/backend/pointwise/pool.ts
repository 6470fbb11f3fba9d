/**
 * Our own threads for the pointwise kernel: `node:worker_threads` workers that each instantiate
 * the kernel module on the backend's shared `WebAssembly.Memory` and wait on a control block
 * (`Atomics.wait`/`notify` on a `SharedArrayBuffer`). A GEMM is cut into shares; the caller
 * posts one to every worker, computes its own, and waits for the others.
 *
 * A worker keeps the process alive only until it is ready (so that waiting for
 * {@linkcode KernelPool.ready} works); then it is unref'd, and an idle pool never keeps the
 * process alive. {@linkcode KernelPool.close} asks the workers to leave their loop and resolves
 * when all have exited.
 *
 * @module
 */
import type { Worker as NodeWorker } from "node:worker_threads";
import type { Share } from "./gemm.ts";

/** Control block layout (Int32 words). */
const GEN = 0; // generation: bumped by the caller to post work
const PENDING = 1; // workers that have not finished the current generation
const QUIT = 2; // 1: leave the loop
const FAILED = 3; // set by a worker whose share threw (a trap)
const BASE = 16; // first worker slot
const SLOT = 16; // words per worker slot
// slot words: 0 has work, 1 a, 2 packed, 3 bias, 4 c, 5 m0, 6 m1, 7 p0, 8 p1, 9 k, 10 n,
// 11 lo (f32), 12 hi (f32), 13 mc

// An Atomics.load round of these loops takes about 15 ns in Deno 2.9 on x86-64.
/**
 * Spins of a worker on the generation word before it sleeps (about 30 us): in MobileNet the
 * next pointwise layer comes after a depthwise one (XNNPACK's threads), so a longer spin would
 * only take a core from them.
 */
const WORKER_SPINS = 2_000;
/** Spins of the caller on the pending count before it sleeps (about 300 us). */
const CALLER_SPINS = 20_000;

const WORKER_SOURCE = `"use strict";
const { parentPort, workerData } = require("node:worker_threads");
const process = require("node:process");
const { kernel, memory, control, slot } = workerData;
const run = new WebAssembly.Instance(kernel, { env: { memory } }).exports.pw_run;
const i32 = new Int32Array(control);
const f32 = new Float32Array(control);
const b = ${BASE} + slot * ${SLOT};
let gen = Atomics.load(i32, ${GEN});
parentPort.postMessage("ready");
work: for (;;) {
  for (let spins = ${WORKER_SPINS}; spins > 0 && Atomics.load(i32, ${GEN}) === gen; spins--);
  while (Atomics.load(i32, ${GEN}) === gen) {
    if (Atomics.load(i32, ${QUIT})) break work;
    Atomics.wait(i32, ${GEN}, gen);
  }
  gen = Atomics.load(i32, ${GEN});
  if (Atomics.load(i32, ${QUIT})) break;
  if (i32[b]) {
    try {
      run(i32[b + 1], i32[b + 2], i32[b + 3], i32[b + 4], i32[b + 5], i32[b + 6], i32[b + 7],
        i32[b + 8], i32[b + 9], i32[b + 10], f32[b + 11], f32[b + 12], i32[b + 13]);
    } catch {
      Atomics.store(i32, ${FAILED}, 1);
    }
  }
  if (Atomics.sub(i32, ${PENDING}, 1) === 1) Atomics.notify(i32, ${PENDING});
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

/** The fixed arguments of one GEMM, given to every share. */
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
    const control = new SharedArrayBuffer((BASE + SLOT * size) * 4);
    this.#i32 = new Int32Array(control);
    this.#f32 = new Float32Array(control);
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

  /** Workers in the pool. */
  get size(): number {
    return this.#workers.length;
  }

  /**
   * Runs `shares[0]` on the calling thread and `shares[1..]` on workers 0.., then returns when
   * all are done. At most `size + 1` shares; call only once {@linkcode KernelPool.ready} has
   * resolved.
   *
   * @throws {Error} when a worker's share trapped (the caller's own share throws as it is).
   */
  run(job: PoolJob, shares: Share[], own: (share: Share) => void): void {
    const i32 = this.#i32;
    const f32 = this.#f32;
    for (let w = 0; w < this.#workers.length; w++) {
      const b = BASE + w * SLOT;
      const share = shares[w + 1];
      i32[b] = share ? 1 : 0;
      if (!share) continue;
      i32[b + 1] = job.a;
      i32[b + 2] = job.packed;
      i32[b + 3] = job.bias;
      i32[b + 4] = job.c;
      i32[b + 5] = share.m0;
      i32[b + 6] = share.m1;
      i32[b + 7] = share.p0;
      i32[b + 8] = share.p1;
      i32[b + 9] = job.k;
      i32[b + 10] = job.n;
      f32[b + 11] = job.lo;
      f32[b + 12] = job.hi;
      i32[b + 13] = job.mc;
    }
    Atomics.store(i32, PENDING, this.#workers.length);
    Atomics.add(i32, GEN, 1);
    Atomics.notify(i32, GEN);
    try {
      own(shares[0]);
    } finally {
      this.#wait();
    }
    if (Atomics.exchange(i32, FAILED, 0)) throw new Error("a pointwise worker's share trapped");
  }

  #wait(): void {
    const i32 = this.#i32;
    for (let spins = CALLER_SPINS; spins > 0 && Atomics.load(i32, PENDING) !== 0; spins--);
    for (let left; (left = Atomics.load(i32, PENDING)) !== 0;) Atomics.wait(i32, PENDING, left);
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
