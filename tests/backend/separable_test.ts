/**
 * Our depthwise-separable block kernel (`SEPARABLE_KERNEL`): bit for bit what the depthwise and
 * the 1x1 kernels give one after the other, however it is cut (bands, column groups, two jobs),
 * on 1 and 2 threads; what it does not take runs as those two kernels; it goes and comes back
 * with `disable()`/`enable()`.
 */
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import { assert, assertEquals, assertStrictEquals } from "../_assert.ts";
import { activeKernels } from "../../src/backend/wasm.ts";
import { SEPARABLE_KERNEL } from "../../src/backend/pointwise/kernel.ts";
import type { Bands } from "../../src/backend/pointwise/install.ts";
import { assertSwapsWithXnnpack, withKernels } from "./_kernels.ts";

/** [x shape, 1x1 output channels, stride] */
const CASES: [[number, number, number, number], number, 1 | 2][] = [
  [[1, 112, 112, 24], 48, 1], // many rows: bands
  [[1, 28, 28, 64], 32, 2],
  [[2, 14, 14, 32], 64, 1], // a batch of two
  [[1, 7, 7, 64], 128, 1], // few rows per thread: two jobs (or column groups)
  [[1, 9, 11, 8], 16, 2], // odd sizes
  // 512 channels: the depthwise part runs pixel-major, bands' part rows too
  [[1, 10, 10, 512], 16, 1],
  [[1, 9, 9, 512], 8, 2],
  [[1, 5, 5, 6], 12, 1], // 6 channels: not ours, the two registered kernels
];

const CUT: Bands = {
  perThread: 0,
  minRows: 4,
  scheduling: "affinity",
  groups: false,
  chunkMacs: 0,
};
const CUTS: Bands[] = [
  CUT, // the default: halving bands of pixels
  { ...CUT, perThread: 4, minRows: 1, scheduling: "dynamic" },
  { ...CUT, perThread: 1, minRows: 1, scheduling: "static" },
  // uneven ranges (3 and 4 rows of a 7-row block): even bands of 1 row, and an empty one
  { ...CUT, perThread: 4, minRows: 1 },
  // halving bands of pixels down to one pixel: bands that start and end inside rows, ranges
  // that split a row (a 7x7 block: 24 and 25 pixels), empty bands
  { ...CUT, minRows: 1, chunkMacs: 1 },
  // one band a range, a range ending inside a row (9x11 at stride 2: 15 pixels a thread)
  { ...CUT, minRows: 1, chunkMacs: 100_000 },
  { ...CUT, scheduling: "dynamic", groups: true },
];

function block(shape: [number, number, number, number], n: number, stride: 1 | 2, seed: number) {
  const c = shape[3];
  return {
    x: tf.randomUniform(shape, -1, 2, "float32", seed),
    dwFilter: tf.randomNormal([3, 3, c, 1], 0, 0.5, "float32", seed + 1),
    dwBias: tf.randomNormal([c], 0, 1, "float32", seed + 2),
    pwFilter: tf.randomNormal([1, 1, c, n], 0, 1 / Math.sqrt(c), "float32", seed + 3),
    pwBias: tf.randomNormal([n], 0, 1, "float32", seed + 4),
    stride,
  };
}

for (const threads of [1, 2]) {
  Deno.test(`separable block kernel, ${threads} thread(s): the two kernels' values, however cut`, async () => {
    await withKernels("relaxed-simd", threads, () => {
      const kernels = activeKernels()!;
      assertStrictEquals(kernels.separable, SEPARABLE_KERNEL);
      const before = tf.engine().state.numTensors;
      const chunks = kernels.workerChunks;
      CASES.forEach(([shape, n, stride], i) => {
        tf.tidy(() => {
          const b = block(shape, n, stride, 10 * i);
          const two = tf.fused.conv2d({
            x: tf.fused.depthwiseConv2d({
              x: b.x as tf.Tensor4D,
              filter: b.dwFilter as tf.Tensor4D,
              bias: b.dwBias,
              strides: stride,
              pad: "same",
              activation: "relu6",
            }),
            filter: b.pwFilter as tf.Tensor4D,
            bias: b.pwBias,
            strides: 1,
            pad: "same",
            activation: "relu6",
          }).dataSync();
          const { stride: _, ...inputs } = b;
          const attrs = {
            strides: stride,
            pad: "same",
            dwActivation: "relu6",
            activation: "relu6",
          };
          for (const cut of CUTS) {
            kernels.bands = cut;
            const one = tf.engine().runKernel(SEPARABLE_KERNEL, inputs, attrs) as tf.Tensor;
            const [batch, h, w] = shape;
            assertEquals(one.shape, [batch, Math.ceil(h / stride), Math.ceil(w / stride), n]);
            assertEquals(
              one.dataSync(),
              two,
              `[${shape}] -> ${n} s${stride} ${JSON.stringify(cut)}`,
            );
          }
        });
      });
      kernels.bands = CUT;
      assertEquals(tf.engine().state.numTensors, before, "no tensor left behind");
      if (threads > 1) assert(kernels.workerChunks > chunks, "the worker took chunks");
    });
  });
}

Deno.test("separable block kernel: unregistered while XNNPACK's kernels run, back with ours", () =>
  assertSwapsWithXnnpack(SEPARABLE_KERNEL, (k) => k.separable, 2));

Deno.test("kernel pool profiling: each thread's chunk time and the caller's waits, only while on", async () => {
  await withKernels("relaxed-simd", 2, () => {
    const kernels = activeKernels()!;
    assertEquals(kernels.profiling, false);
    const { stride: _, ...inputs } = block([1, 56, 56, 32], 64, 1, 70);
    const attrs = { strides: 1, pad: "same", dwActivation: "relu6", activation: "relu6" };
    const run = () =>
      tf.tidy(() =>
        (tf.engine().runKernel(SEPARABLE_KERNEL, inputs, attrs) as tf.Tensor).dataSync()
      );
    const reference = run();
    kernels.profiling = true;
    let runs = 0;
    const t0 = performance.now();
    // bounded: a worker that gets no CPU on a busy machine leaves its chunks to the caller
    while (runs < 300 && (runs < 5 || kernels.threadStats!.chunkMs[1] === 0)) {
      assertEquals(run(), reference, "profiling changes no value");
      runs++;
    }
    const wall = performance.now() - t0;
    const stats = kernels.threadStats!;
    assertEquals(stats.jobs, runs, "one banded job a call");
    assertEquals(stats.chunkMs.length, 2, "the caller and one worker");
    assert(stats.chunkMs.every((ms) => ms > 0), `both threads ran chunks: ${stats.chunkMs}`);
    assert(stats.chunkMs[0] + stats.waitMs <= wall, "the caller's chunks and waits fit its time");
    assert(stats.chunkMs[1] <= wall, "so do the worker's chunks");
    kernels.profiling = false;
    run();
    assertEquals(kernels.threadStats, stats, "nothing is added while off");
    kernels.profiling = true;
    assertEquals(kernels.threadStats, { jobs: 0, waitMs: 0, chunkMs: [0, 0] }, "on again: cleared");
    kernels.profiling = false;
    tf.dispose(Object.values(inputs));
  });
});
