/**
 * Start-up calibration: times 1 thread against the pool on a small MobileNet-like workload (one
 * depthwise-separable block at 56x56, ~27 M multiply-adds) and tells which is faster right now.
 * It detects cores taken by other processes before the first inference; the watchdog of
 * `watchdog.ts` follows later changes.
 *
 * @module
 */
import * as tf from "../vendor/tfjs.js";
import type { PoolSwitch } from "./pools.ts";
import { median } from "../_util.ts";

/** Result of {@linkcode calibrate}. */
export interface Calibration {
  /** Pool size that was compared with 1 thread. */
  threads: number;
  /** Median time of the workload on 1 thread, in milliseconds. */
  singleMs: number;
  /** Median time of the workload on the pool, in milliseconds. */
  threadedMs: number;
  /** The thread count chosen (and left active). */
  chosen: number;
  /** Wall time of the whole calibration, in milliseconds. */
  totalMs: number;
}

/** Options of {@linkcode calibrate}. */
export interface CalibrateOptions {
  /** Timed runs per thread count, alternating. @default {5} */
  rounds?: number;
  /** The pool is chosen only below `upRatio` times the 1-thread time. @default {0.9} */
  upRatio?: number;
}

/**
 * Times 1 thread and `threads` threads on the calibration workload and leaves the faster one
 * active (the pool only if clearly faster). Needs the tfjs WASM backend active and both pools
 * switchable by pointer. Creates and disposes its own tensors.
 */
export function calibrate(
  pools: PoolSwitch,
  threads: number,
  options: CalibrateOptions = {},
): Calibration {
  const rounds = options.rounds ?? 5;
  const upRatio = options.upRatio ?? 0.9;
  const start = performance.now();
  // Constant values: the kernels' cost does not depend on them, and filling is much faster
  // than generating random numbers in JS.
  const weights = {
    x: tf.fill([1, 56, 56, 64], 0.5) as tf.Tensor4D,
    dw: tf.fill([3, 3, 64, 1], 0.1) as tf.Tensor4D,
    dwBias: tf.fill([64], 0.01) as tf.Tensor1D,
    pw: tf.fill([1, 1, 64, 128], 0.02) as tf.Tensor4D,
    pwBias: tf.fill([128], 0.01) as tf.Tensor1D,
  };
  const run = (): number => {
    const t0 = performance.now();
    tf.tidy(() => {
      const h = tf.fused.depthwiseConv2d({
        x: weights.x,
        filter: weights.dw,
        strides: 1,
        pad: "same",
        bias: weights.dwBias,
        activation: "relu6",
      });
      tf.fused.conv2d({
        x: h,
        filter: weights.pw,
        strides: 1,
        pad: "same",
        bias: weights.pwBias,
        activation: "relu6",
      });
    });
    return performance.now() - t0;
  };
  const times = new Map<number, number[]>([[1, []], [threads, []]]);
  const on = (n: number): void => {
    if (!pools.useExisting(n)) throw new Error(`calibration cannot switch to ${n} threads`);
  };
  try {
    for (const n of [1, threads]) {
      on(n);
      run(); // warm-up: creates the XNNPACK operators and packs the weights
    }
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 ? [threads, 1] : [1, threads];
      for (const n of order) {
        on(n);
        times.get(n)!.push(run());
      }
    }
  } finally {
    tf.dispose(Object.values(weights));
  }
  const singleMs = median(times.get(1)!);
  const threadedMs = median(times.get(threads)!);
  const chosen = threadedMs < singleMs * upRatio ? threads : 1;
  on(chosen);
  return { threads, singleMs, threadedMs, chosen, totalMs: performance.now() - start };
}
