/**
 * The ONNX export computes the same network as ours: the exported 0.25/224 model, run in
 * onnxruntime-web (one thread, no workers), gives the reference probabilities and logits on the
 * stored inputs; a headless, depth-multiplier-2 network at an odd resolution gives the same
 * features as `MobileNetNetwork` on the tfjs WASM backend; and the layout helpers are checked
 * on their own.
 */
import * as ort from "npm:onnxruntime-web@1.30.0";
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import { assert, assertAllClose, assertEquals, assertThrows } from "../_assert.ts";
import { readInput, readReference } from "../_fixtures.ts";
import { buildArchitecture } from "../../src/model/architecture.ts";
import { MobileNetNetwork } from "../../src/model/mobilenet.ts";
import { randomWeights } from "../../src/model/random_weights.ts";
import { initBackend } from "../../src/backend/wasm.ts";
import { loadWeights } from "../../src/weights/loader.ts";
import { WeightsError } from "../../src/errors.ts";
import {
  exportOnnx,
  kerasToOnnxKernel,
  ONNX_INPUT_NAME,
  type OnnxExportOptions,
  samePadding,
} from "../../bench/export/onnx.ts";

// One thread: ORT-web then runs on the calling thread and starts no worker.
ort.env.wasm.numThreads = 1;

async function run(
  model: Uint8Array,
  input: Float32Array,
  shape: number[],
): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(model);
  try {
    const results = await session.run({ [ONNX_INPUT_NAME]: new ort.Tensor(input, shape) });
    const out: Record<string, Float32Array> = {};
    for (const [name, tensor] of Object.entries(results)) {
      out[name] = (tensor.data as Float32Array).slice();
      tensor.dispose();
    }
    return out;
  } finally {
    await session.release();
  }
}

async function bundled025(options?: OnnxExportOptions): Promise<Uint8Array> {
  const { tensors } = await loadWeights(
    new URL("../../weights/mobilenet_v1_0.25_224/", import.meta.url),
  );
  return exportOnnx(buildArchitecture({ alpha: 0.25 }), tensors, options);
}

Deno.test("exported 0.25/224 in onnxruntime-web gives the reference probabilities (2e-4), batch of 5", async () => {
  const reference = (await readReference("0.25_224")).filter((e) => e.probs);
  assertEquals(reference.length, 5);
  const size = 224 * 224 * 3;
  const batch = new Float32Array(size * reference.length);
  for (let i = 0; i < reference.length; i++) {
    batch.set(await readInput(reference[i].file), i * size);
  }
  const { probabilities } = await run(await bundled025(), batch, [reference.length, 224, 224, 3]);
  assertEquals(probabilities.length, 1000 * reference.length);
  reference.forEach((entry, i) => {
    assertAllClose(
      probabilities.subarray(i * 1000, (i + 1) * 1000),
      entry.probs!,
      2e-4,
      `${entry.file} probabilities`,
    );
  });
});

Deno.test("exported 0.25/224 with NCHW input and logits output gives the reference logits (5e-3)", async () => {
  const [entry] = (await readReference("0.25_224")).filter((e) => e.logits);
  const nhwc = await readInput(entry.file);
  const nchw = new Float32Array(nhwc.length);
  const pixels = 224 * 224;
  for (let p = 0; p < pixels; p++) {
    for (let c = 0; c < 3; c++) nchw[c * pixels + p] = nhwc[p * 3 + c];
  }
  const model = await bundled025({ inputLayout: "nchw", batch: 1, output: "logits" });
  const { logits } = await run(model, nchw, [1, 3, 224, 224]);
  assertAllClose(logits, entry.logits!, 5e-3, `${entry.file} logits`);
});

Deno.test("headless export (depth multiplier 2, max pooling, odd resolution 75) matches MobileNetNetwork features", async () => {
  const options = {
    alpha: 0.25,
    depthMultiplier: 2,
    resolution: 75,
    includeTop: false,
    pooling: "max" as const,
  };
  const arch = buildArchitecture(options);
  const weights = randomWeights(options, 7);
  const shape = [2, 75, 75, 3];
  const input = new Float32Array(2 * 75 * 75 * 3).map((_, i) => Math.sin(i * 0.37));
  const { features } = await run(exportOnnx(arch, weights), input, shape);

  await initBackend();
  const network = new MobileNetNetwork(arch);
  try {
    for (const [name, data] of weights) network.addWeight(name, data);
    const x = tf.tensor4d(input, shape as [number, number, number, number]);
    const out = network.run(x, "features");
    const expected = out.dataSync() as Float32Array;
    x.dispose();
    out.dispose();
    assertEquals(features.length, 2 * arch.featureSize);
    const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    assert(scale > 0.1, `features are all near zero (max ${scale}); the test would prove nothing`);
    assertAllClose(features, expected, 1e-4 * scale, "features");
  } finally {
    network.dispose();
  }
});

Deno.test("samePadding follows TensorFlow: the odd pixel goes after", () => {
  assertEquals(samePadding(224, 3, 2), [0, 1]);
  assertEquals(samePadding(112, 3, 1), [1, 1]);
  assertEquals(samePadding(75, 3, 2), [1, 1]);
  assertEquals(samePadding(7, 1, 1), [0, 0]);
});

Deno.test("kerasToOnnxKernel moves [kh, kw, in, out] to [out, in, kh, kw]", () => {
  // kh = 1, kw = 2, in = 2, out = 3; each value spells its (o, i, x) index as digits.
  const keras = new Float32Array(12);
  for (let x = 0; x < 2; x++) {
    for (let i = 0; i < 2; i++) {
      for (let o = 0; o < 3; o++) keras[(x * 2 + i) * 3 + o] = 100 * o + 10 * i + x;
    }
  }
  assertEquals(
    [...kerasToOnnxKernel(keras, 1, 2, 2, 3)],
    [0, 1, 10, 11, 100, 101, 110, 111, 200, 201, 210, 211],
  );
  assertThrows(() => kerasToOnnxKernel(keras, 3, 3, 2, 3), RangeError);
});

Deno.test("exportOnnx refuses missing or mis-sized weights and bad options", () => {
  const arch = buildArchitecture({ alpha: 0.25 });
  const weights = randomWeights({ alpha: 0.25 });
  const missing = new Map(weights);
  missing.delete("conv_pw_5_bn/moving_variance");
  const error = assertThrows(() => exportOnnx(arch, missing), WeightsError, "conv_pw_5_bn");
  assertEquals(error.code, "MISSING_TENSOR");
  const short = new Map(weights).set("conv_preds/bias", new Float32Array(10));
  assertEquals(assertThrows(() => exportOnnx(arch, short), WeightsError).code, "SHAPE_MISMATCH");
  assertThrows(() => exportOnnx(arch, weights, { batch: 0 }), RangeError);
  assertThrows(
    () => exportOnnx(arch, weights, { inputLayout: "nchwc" as "nchw" }),
    RangeError,
  );
});
