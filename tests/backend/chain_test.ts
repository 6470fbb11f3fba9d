/**
 * Several depthwise-separable blocks in one call of our block kernel (`SEPARABLE_KERNEL` with
 * `blockStrides`): bit for bit the blocks called one by one, on 1 and 2 threads and however cut;
 * on 2 threads, a run of banded blocks is one job of our pool; no tensor data is left behind;
 * a call with a block our kernels do not take runs block by block.
 */
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import { assert, assertEquals, assertStrictEquals } from "../_assert.ts";
import { activeKernels } from "../../src/backend/wasm.ts";
import { SEPARABLE_KERNEL } from "../../src/backend/pointwise/kernel.ts";
import type { Bands } from "../../src/backend/pointwise/install.ts";
import { withKernels } from "./_kernels.ts";

type Chain = { shape: [number, number, number, number]; blocks: [number, 1 | 2][] };

/** Input shape, then each block's 1x1 output channels and stride. */
const MOBILENET_LIKE: Chain = {
  // 56x56 -> 28x28 -> 14x14 (five blocks of one shape: outputs share memory) -> 7x7
  shape: [1, 56, 56, 16],
  blocks: [[32, 1], [32, 2], [64, 1], [64, 2], [64, 1], [64, 1], [64, 1], [64, 1], [128, 2], [
    128,
    1,
  ]],
};
const CHAINS: Chain[] = [
  MOBILENET_LIKE,
  // a batch of two, odd sizes, stride 2 on an odd height
  { shape: [2, 15, 13, 8], blocks: [[16, 1], [16, 2], [24, 1], [24, 1]] },
  // the second block has 6 channels (not ours): the call runs block by block
  { shape: [1, 12, 12, 8], blocks: [[6, 1], [16, 1], [16, 1]] },
];

const CUT: Bands = {
  perThread: 0,
  minRows: 4,
  scheduling: "affinity",
  groups: false,
  chunkMacs: 0,
};
const CUTS: Bands[] = [
  CUT, // the default: halving bands of pixels, one chain job for the banded blocks
  { ...CUT, chain: false }, // every block a job of its own
  { ...CUT, minRows: 1, chunkMacs: 1 }, // bands down to a pixel, the 7x7 blocks in the chain too
  { ...CUT, perThread: 3, minRows: 1 }, // even bands of rows, some of them empty
  { ...CUT, minRows: 1, chunkMacs: 200_000 },
];

/** The inputs of a call of the whole chain (block `b > 0`'s names with `b` appended). */
function chainInputs(chain: Chain, seed: number): Record<string, tf.Tensor> {
  const inputs: Record<string, tf.Tensor> = {
    x: tf.randomUniform(chain.shape, -1, 2, "float32", seed),
  };
  let c = chain.shape[3];
  chain.blocks.forEach(([n], b) => {
    const s = b === 0 ? "" : String(b);
    const k = seed + 10 * (b + 1);
    inputs[`dwFilter${s}`] = tf.randomNormal([3, 3, c, 1], 0, 0.5, "float32", k);
    inputs[`dwBias${s}`] = tf.randomNormal([c], 0, 1, "float32", k + 1);
    inputs[`pwFilter${s}`] = tf.randomNormal([1, 1, c, n], 0, 1 / Math.sqrt(c), "float32", k + 2);
    inputs[`pwBias${s}`] = tf.randomNormal([n], 0, 0.5, "float32", k + 3);
    c = n;
  });
  return inputs;
}

const ATTRS = { pad: "same", dwActivation: "relu6", activation: "relu6" };

/** The whole chain as one call. */
function asOneCall(chain: Chain, inputs: Record<string, tf.Tensor>): tf.Tensor {
  const strides = chain.blocks.map(([, stride]) => stride);
  const attrs = { ...ATTRS, strides: strides[0], blockStrides: strides };
  return tf.engine().runKernel(SEPARABLE_KERNEL, inputs, attrs) as tf.Tensor;
}

/** The chain's blocks called one by one. */
function blockByBlock(chain: Chain, inputs: Record<string, tf.Tensor>): tf.Tensor {
  let x = inputs.x;
  chain.blocks.forEach(([, stride], b) => {
    const s = b === 0 ? "" : String(b);
    const one = {
      x,
      dwFilter: inputs[`dwFilter${s}`],
      dwBias: inputs[`dwBias${s}`],
      pwFilter: inputs[`pwFilter${s}`],
      pwBias: inputs[`pwBias${s}`],
    };
    x = tf.engine().runKernel(SEPARABLE_KERNEL, one, { ...ATTRS, strides: stride }) as tf.Tensor;
  });
  return x;
}

/** Tensor data held by the backend (tensors and the kernels' own outputs). */
const dataIds = () => (tf.engine().backend as unknown as { numDataIds(): number }).numDataIds();

for (const threads of [1, 2]) {
  Deno.test(`separable blocks in one call, ${threads} thread(s): the blocks one by one, however cut`, async () => {
    await withKernels("relaxed-simd", threads, () => {
      const kernels = activeKernels()!;
      assertStrictEquals(kernels.separable, SEPARABLE_KERNEL);
      const chunks = kernels.workerChunks;
      CHAINS.forEach((chain, i) => {
        const inputs = chainInputs(chain, 100 * i);
        const reference = tf.tidy(() => blockByBlock(chain, inputs).dataSync());
        const [batch, h, w] = chain.shape;
        const scale = chain.blocks.reduce((s, [, stride]) => s * stride, 1);
        for (const cut of CUTS) {
          kernels.bands = cut;
          const before = dataIds();
          const out = asOneCall(chain, inputs);
          const what = `[${chain.shape}] ${JSON.stringify(cut)}`;
          assertEquals(out.shape, [
            batch,
            Math.ceil(h / scale),
            Math.ceil(w / scale),
            chain.blocks.at(-1)![0],
          ]);
          assertEquals(out.dataSync(), reference, what);
          out.dispose();
          assertEquals(dataIds(), before, `${what}: no intermediate output left behind`);
        }
        tf.dispose(Object.values(inputs));
      });
      kernels.bands = CUT;
      if (threads > 1) assert(kernels.workerChunks > chunks, "the worker took chunks");
    });
  });
}

Deno.test("separable blocks in one call, 2 threads: a run of banded blocks is one job", async () => {
  await withKernels("relaxed-simd", 2, () => {
    const kernels = activeKernels()!;
    const inputs = chainInputs(MOBILENET_LIKE, 7);
    const jobs = (cut: Bands) => {
      kernels.bands = cut;
      kernels.profiling = true;
      tf.tidy(() => asOneCall(MOBILENET_LIKE, inputs).dataSync());
      const stats = kernels.threadStats!;
      kernels.profiling = false;
      return stats;
    };
    // 8 blocks of 56, 28 and 14 rows as one job, the two 7x7 ones two jobs each
    assertEquals(jobs(CUT).jobs, 1 + 2 * 2);
    assertEquals(jobs({ ...CUT, chain: false }).jobs, 8 + 2 * 2);
    const stats = jobs({ ...CUT, minRows: 1 });
    assertEquals(stats.jobs, 1, "all ten blocks banded: one job");
    assertEquals(stats.stallMs.length, 2, "each thread's waits for the other's bands");
    assert(stats.stallMs.every((ms) => ms >= 0 && ms < stats.chunkMs[0] + stats.chunkMs[1]));
    kernels.bands = CUT;
    tf.dispose(Object.values(inputs));
  });
});

Deno.test("separable blocks in one call, 2 threads: a worker that starts late never reads rows not yet made", async () => {
  await withKernels("relaxed-simd", 2, () => {
    const kernels = activeKernels()!;
    // the worker sleeps after every job, so it joins each one late, while the caller has gone
    // on to the next blocks' bands; bands down to a pixel
    kernels.spinMicros = 0;
    kernels.bands = { ...CUT, minRows: 1, chunkMacs: 1 };
    const chain: Chain = {
      shape: [1, 16, 16, 8],
      blocks: [[8, 1], [8, 1], [8, 1], [8, 1], [8, 1], [8, 1]],
    };
    const inputs = chainInputs(chain, 3);
    kernels.bands = { ...CUT, chain: false };
    const reference = tf.tidy(() => asOneCall(chain, inputs).dataSync());
    kernels.bands = { ...CUT, minRows: 1, chunkMacs: 1 };
    const chunks = kernels.workerChunks;
    for (let i = 0; i < 300; i++) {
      assertEquals(tf.tidy(() => asOneCall(chain, inputs).dataSync()), reference, `call ${i}`);
    }
    assert(kernels.workerChunks > chunks, "the worker took chunks");
    kernels.bands = CUT;
    tf.dispose(Object.values(inputs));
  });
});
