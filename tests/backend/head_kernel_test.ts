/**
 * Our classifier kernel (`HEAD_KERNEL`): bit for bit what `tf.mean`, `tf.fused.matMul` and
 * `tf.softmax` give one after the other, on 1 and 2 threads, for a batch, and for a shape our
 * kernels do not take (then it runs as the registered kernels); it goes and comes back with
 * `disable()`/`enable()`; and a network runs its top through it.
 */
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import { assert, assertEquals, assertStrictEquals } from "../_assert.ts";
import { activeKernels } from "../../src/backend/wasm.ts";
import { HEAD_KERNEL } from "../../src/backend/pointwise/kernel.ts";
import { buildArchitecture } from "../../src/model/architecture.ts";
import { MobileNetNetwork } from "../../src/model/mobilenet.ts";
import { loadWeights } from "../../src/weights/loader.ts";
import { assertSwapsWithXnnpack, withKernels } from "./_kernels.ts";

/** [x shape, classes]: MobileNet 0.25's top, a batch of two, 6 channels (not ours). */
const CASES: [[number, number, number, number], number][] = [
  [[1, 7, 7, 256], 1001],
  [[2, 7, 7, 64], 10],
  [[1, 3, 3, 6], 5],
];

function reference(x: tf.Tensor4D, filter: tf.Tensor2D, bias: tf.Tensor1D, softmax: boolean) {
  return tf.tidy(() => {
    const logits = tf.fused.matMul({ a: tf.mean(x, [1, 2]) as tf.Tensor2D, b: filter, bias });
    return (softmax ? tf.softmax(logits) : logits).dataSync();
  });
}

for (const threads of [1, 2]) {
  Deno.test(`head kernel, ${threads} thread(s): the values of mean, matMul and softmax`, async () => {
    await withKernels("relaxed-simd", threads, () => {
      assertStrictEquals(activeKernels()!.head, HEAD_KERNEL);
      const before = tf.engine().state.numTensors;
      CASES.forEach(([shape, classes], i) => {
        tf.tidy(() => {
          const x = tf.randomUniform(shape, 0, 6, "float32", i) as tf.Tensor4D;
          const filter = tf.randomNormal([shape[3], classes], 0, 0.1, "float32", i + 1);
          const bias = tf.randomNormal([classes], 0, 1, "float32", i + 2) as tf.Tensor1D;
          for (const softmax of [false, true]) {
            const inputs = { x, filter, bias };
            const out = tf.engine().runKernel(HEAD_KERNEL, inputs, { softmax }) as tf.Tensor;
            assertEquals(out.shape, [shape[0], classes]);
            const want = reference(x, filter as tf.Tensor2D, bias, softmax);
            assertEquals(out.dataSync(), want, `[${shape}] -> ${classes}, softmax ${softmax}`);
          }
        });
      });
      assertEquals(tf.engine().state.numTensors, before, "no tensor left behind");
    });
  });
}

Deno.test("head kernel: unregistered while XNNPACK's kernels run, back with ours", () =>
  assertSwapsWithXnnpack(HEAD_KERNEL, (k) => k.head));

Deno.test("head kernel: a network's top runs through it, with the same values", async () => {
  const { manifest, tensors } = await loadWeights(
    new URL("../../weights/mobilenet_v1_0.25_224/", import.meta.url),
  );
  await withKernels("relaxed-simd", 2, async () => {
    const kernels = activeKernels()!;
    const arch = buildArchitecture({ alpha: manifest.model.alpha });
    const build = (head: string | undefined) => {
      const network = new MobileNetNetwork(arch, { separable: kernels.separable, head });
      for (const [name, data] of tensors) network.addWeight(name, data);
      return network;
    };
    const [ours, ops] = [build(kernels.head), build(undefined)];
    const before = tf.engine().state.numTensors;
    const input = tf.randomUniform([1, 224, 224, 3], -1, 1, "float32", 5) as tf.Tensor4D;
    for (const output of ["probabilities", "logits"] as const) {
      const profile = await tf.profile(() => ours.run(input, output));
      assert(profile.kernelNames.includes(HEAD_KERNEL), `${output}: ${profile.kernelNames}`);
      assert(!profile.kernelNames.includes("_FusedMatMul"), `${output}: no separate product`);
      tf.dispose(profile.result as tf.Tensor);
      const [a, b] = [ours.run(input, output), ops.run(input, output)];
      assertEquals(a.dataSync(), b.dataSync(), output);
      tf.dispose([a, b]);
    }
    const features = await tf.profile(() => ours.run(input, "features"));
    assert(!features.kernelNames.includes(HEAD_KERNEL), "features: pooled only");
    tf.dispose(features.result as tf.Tensor);
    input.dispose();
    assertEquals(tf.engine().state.numTensors, before, "no tensor left behind");
    ours.dispose();
    ops.dispose();
  });
});
