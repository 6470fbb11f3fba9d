import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import { assertAllClose, assertEquals, assertStrictEquals, assertThrows } from "../_assert.ts";
import { foldBatchNorm } from "../../src/model/batch_norm.ts";
import { BATCH_NORM_EPSILON, buildArchitecture } from "../../src/model/architecture.ts";
import { MobileNetNetwork } from "../../src/model/mobilenet.ts";
import { randomWeights } from "../../src/model/random_weights.ts";
import { initBackend } from "../../src/backend/wasm.ts";

Deno.test("folding matches conv followed by BatchNorm (conv and depthwise kernels)", async () => {
  await initBackend();
  const bn = {
    gamma: new Float32Array([1.5, 0.5, 2]),
    beta: new Float32Array([0.1, -0.2, 0.3]),
    mean: new Float32Array([0.5, -1, 2]),
    variance: new Float32Array([4, 0.25, 1]),
  };
  const x = tf.randomNormal([1, 5, 5, 3], 0, 1, "float32", 3) as tf.Tensor4D;
  // conv [3, 3, 2 -> 3], input with 2 channels
  const x2 = tf.randomNormal([1, 5, 5, 2], 0, 1, "float32", 4) as tf.Tensor4D;
  const convKernel = tf.randomNormal([3, 3, 2, 3], 0, 1, "float32", 5) as tf.Tensor4D;
  const dwKernel = tf.randomNormal([3, 3, 3, 1], 0, 1, "float32", 6) as tf.Tensor4D;
  const gb = [bn.mean, bn.variance, bn.beta, bn.gamma].map((v) => tf.tensor1d(v));
  for (
    const [input, kernel, depthwise] of [[x2, convKernel, false], [x, dwKernel, true]] as const
  ) {
    const folded = foldBatchNorm(kernel.dataSync() as Float32Array, bn);
    const reference = tf.tidy(() => {
      const y = depthwise
        ? tf.depthwiseConv2d(input, kernel, 1, "same")
        : tf.conv2d(input, kernel, 1, "same");
      return tf.batchNorm(y, gb[0], gb[1], gb[2], gb[3], BATCH_NORM_EPSILON);
    });
    const fused = tf.tidy(() => {
      const f = tf.tensor4d(folded.kernel, kernel.shape);
      const y = depthwise
        ? tf.depthwiseConv2d(input, f, 1, "same")
        : tf.conv2d(input, f, 1, "same");
      return tf.add(y, tf.tensor1d(folded.bias));
    });
    assertAllClose(fused.dataSync(), reference.dataSync(), 1e-5, depthwise ? "depthwise" : "conv");
    tf.dispose([reference, fused]);
  }
  tf.dispose([x, x2, convKernel, dwKernel, ...gb]);
  assertThrows(
    () => foldBatchNorm(new Float32Array(10), { ...bn, beta: new Float32Array(2) }),
    RangeError,
    "beta",
  );
  assertThrows(() => foldBatchNorm(new Float32Array(10), bn), RangeError, "3 output channels");
});

Deno.test("fused and unfused networks agree on random 1.0/224 weights, depth multiplier 2", async () => {
  await initBackend();
  for (const options of [{ alpha: 1 }, { alpha: 0.5, depthMultiplier: 2, resolution: 128 }]) {
    const arch = buildArchitecture(options);
    const weights = randomWeights(options, 11);
    const [fused, unfused] = [true, false].map((f) => {
      const net = new MobileNetNetwork(arch, { fused: f });
      for (const [name, data] of weights) net.addWeight(name, data);
      return net;
    });
    const r = arch.config.resolution;
    const x = tf.randomUniform([2, r, r, 3], -1, 1, "float32", 5) as tf.Tensor4D;
    for (const output of ["logits", "features"] as const) {
      const a = fused.run(x, output);
      const b = unfused.run(x, output);
      assertEquals(a.shape, b.shape);
      const scale = Math.max(...(b.dataSync() as Float32Array).map(Math.abs));
      assertAllClose(
        a.dataSync(),
        b.dataSync(),
        1e-4 * Math.max(1, scale),
        `${JSON.stringify(options)} ${output}`,
      );
      tf.dispose([a, b]);
    }
    tf.dispose(x);
    fused.dispose();
    unfused.dispose();
  }
});

Deno.test("a network refuses a weight of the wrong size and runs only when complete", async () => {
  await initBackend();
  const arch = buildArchitecture({ alpha: 0.25 });
  const net = new MobileNetNetwork(arch);
  assertThrows(() => net.addWeight("conv1/kernel", new Float32Array(5)), Error, "[3,3,3,8]");
  const x = tf.zeros([1, 224, 224, 3]) as tf.Tensor4D;
  assertThrows(() => net.run(x), Error, "missing 137 weights");
  assertEquals(net.missingWeights()[0], "conv1/kernel");
  net.dispose();
  x.dispose();
});

Deno.test("foldBatchNorm into a scratch array gives the same values and leaves the kernel as is", () => {
  const kernel = Float32Array.from({ length: 24 }, (_, i) => (i - 11) / 7);
  const bn = {
    gamma: Float32Array.of(1.5, 0.5, 2),
    beta: Float32Array.of(0.1, -0.2, 0.3),
    mean: Float32Array.of(0.05, 0.5, -1),
    variance: Float32Array.of(1, 0.25, 4),
  };
  const fresh = foldBatchNorm(kernel, bn);
  const scratch = new Float32Array(40).fill(NaN);
  const into = foldBatchNorm(kernel, bn, undefined, scratch);
  assertEquals(Array.from(into.kernel), Array.from(fresh.kernel));
  assertEquals(Array.from(into.bias), Array.from(fresh.bias));
  assertStrictEquals(into.kernel.buffer, scratch.buffer);
  assertEquals(kernel[0], Math.fround(-11 / 7), "the kernel itself is not changed");
  assertThrows(() => foldBatchNorm(kernel, bn, undefined, new Float32Array(23)), RangeError);
});
