/**
 * int8 storage (src/int8/storage.ts) and `convert --int8`: kernels stored as the int8 values the
 * kernel computes with, biases carrying the bias correction, a manifest with scales and no
 * means, and an int8 model on them giving the answers of the bundled int8 model.
 */
import { assert, assertAllClose, assertEquals } from "../_assert.ts";
import { encodePng } from "../_png.ts";
import { int8Storage, symmetricInt8 } from "../../src/int8/storage.ts";
import { buildArchitecture } from "../../src/model/architecture.ts";
import { foldBatchNorm } from "../../src/model/batch_norm.ts";
import { int8Layers } from "../../src/model/mobilenet.ts";
import { randomWeights } from "../../src/model/random_weights.ts";
import { dequantize } from "../../src/weights/quantize.ts";
import { main as convert } from "../../src/cli/convert.ts";
import { loadMobileNet } from "../../mod.ts";
import { mulberry32 } from "../../src/_util.ts";

Deno.test("symmetricInt8: per output channel, the largest weight at +-127, zero stays zero", () => {
  // [k = 3, n = 3]: channel 2 is all zeros
  const w = Float32Array.from([0.5, -1, 0, -0.25, 0.5, 0, 0.1, 0.25, 0]);
  const { bytes, quantization, decoded } = symmetricInt8(w, [1, 1, 3, 3]);
  assertEquals(quantization.zeroPoint, [128, 128, 128]);
  assertEquals(quantization.axis, 3);
  assertEquals(Array.from(bytes, (b) => b - 128), [127, -127, 0, -64, 64, 0, 25, 32, 0]);
  assertEquals(quantization.scale, [Math.fround(0.5 / 127), Math.fround(1 / 127), 1]);
  // the loader decodes the same values
  assertEquals(Array.from(dequantize(bytes, [1, 1, 3, 3], quantization)), Array.from(decoded));
});

Deno.test("int8Storage moves the bias correction into BatchNorm's beta and conv_preds' bias", () => {
  const options = { alpha: 0.25 };
  const arch = buildArchitecture(options);
  const weights = randomWeights(options, 9);
  const tensors = arch.weights.map((s) => ({
    name: s.name,
    shape: s.shape,
    data: weights.get(s.name)!,
  }));
  const random = mulberry32(2);
  const layers = int8Layers(arch);
  const means = Object.fromEntries(layers.map((l) => {
    const k = l === "conv_preds"
      ? arch.featureSize
      : arch.steps.find((s) => s.name === l)!.inChannels;
    return [l, Array.from({ length: k }, () => random() * 3)];
  }));
  const scales = Object.fromEntries(layers.filter((l) => l !== "conv_pw_2").map((l) => [l, 0.05]));
  const { tensors: out, encodings } = int8Storage(arch, tensors, {
    scales,
    means,
    calibration: "",
  });
  assertEquals(
    [...encodings.keys()],
    layers.filter((l) => l !== "conv_pw_2").map((l) => `${l}/kernel`),
  );
  const get = (list: typeof out, name: string) => list.find((t) => t.name === name)!.data;
  assertEquals(get(out, "conv_pw_2_bn/beta"), get(tensors, "conv_pw_2_bn/beta"), "left float32");
  // On inputs equal to the means, the stored (folded) layer gives the float32 layer's output.
  for (const layer of ["conv_pw_5", "conv_preds"]) {
    const n = layer === "conv_preds" ? 1000 : arch.steps.find((s) => s.name === layer)!.outChannels;
    const fold = (list: typeof out, kernel: Float32Array) => {
      if (layer === "conv_preds") return { kernel, bias: get(list, "conv_preds/bias") };
      const bn = (k: string) => get(list, `${layer}_bn/${k}`);
      return foldBatchNorm(kernel, {
        gamma: bn("gamma"),
        beta: bn("beta"),
        mean: bn("moving_mean"),
        variance: bn("moving_variance"),
      });
    };
    const { bytes, quantization } = encodings.get(`${layer}/kernel`)!;
    const shape = arch.weights.find((s) => s.name === `${layer}/kernel`)!.shape;
    const stored = fold(out, dequantize(bytes, shape, quantization));
    const original = fold(tensors, get(tensors, `${layer}/kernel`));
    const output = (f: { kernel: Float32Array; bias: Float32Array }) =>
      Array.from(
        { length: n },
        (_, c) => means[layer].reduce((sum, m, k) => sum + m * f.kernel[k * n + c], f.bias[c]),
      );
    assertAllClose(output(stored), output(original), 1e-3, layer);
  }
});

const TFJS_025 = new URL("../fixtures/tfjs_layers/mobilenet_v1_0.25_224/", import.meta.url);

/** A temporary folder with two random 48x48 photos in `photos/`. */
async function photoDir(prefix: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix });
  const random = mulberry32(4);
  await Deno.mkdir(`${dir}/photos`);
  for (let i = 0; i < 2; i++) {
    const rgba = Uint8Array.from(
      { length: 48 * 48 * 4 },
      (_, j) => (j % 4 === 3 ? 255 : random() * 255),
    );
    await Deno.writeFile(`${dir}/photos/${i}.png`, await encodePng(rgba, 48, 48));
  }
  return dir;
}

/** Runs `deno task convert` in-process with `args`; returns its exit code and printed lines. */
async function runConvert(args: string[]): Promise<{ code: number; lines: string[] }> {
  const { log, error } = console;
  const lines: string[] = [];
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  console.error = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    return { code: await convert(args), lines };
  } finally {
    console.log = log;
    console.error = error;
  }
}

/** The converted weights in `dir` load as an int8 model whose probabilities sum to 1. */
async function assertLoadsAsInt8(dir: string): Promise<void> {
  const model = await loadMobileNet({ model: dir, precision: "int8", threads: 1 });
  assertEquals(model.precision, "int8");
  const probs = model.predict({ data: new Float32Array(224 * 224 * 3), shape: [1, 224, 224, 3] });
  assertAllClose([probs.reduce((a, b) => a + b, 0)], [1], 1e-4);
  await model.dispose();
}

Deno.test("convert --int8 calibrates, stores the int8 kernels, and loads as an int8 model", async () => {
  const dir = await photoDir("int8_convert_");
  const { code, lines } = await runConvert([
    TFJS_025.pathname,
    `${dir}/out`,
    "--int8",
    `${dir}/photos`,
  ]);
  assertEquals(code, 0, lines.join("\n"));
  try {
    const manifest = JSON.parse(await Deno.readTextFile(`${dir}/out/manifest.json`));
    assertEquals(manifest.formatVersion, 2);
    assertEquals(manifest.int8.means, undefined, "the correction is in the biases");
    assertEquals(Object.keys(manifest.int8.scales).length, 14);
    assert(manifest.int8.calibration.includes("2 photos"), manifest.int8.calibration);
    const pw = manifest.tensors.find((t: { name: string }) => t.name === "conv_pw_7/kernel");
    assertEquals(pw.byteLength, 128 * 128);
    assertEquals(pw.quantization.zeroPoint[0], 128);
    const dw = manifest.tensors.find((t: { name: string }) =>
      t.name === "conv_dw_7/depthwise_kernel"
    );
    assertEquals(dw.quantization, undefined, "depthwise kernels stay float32");
    await assertLoadsAsInt8(`${dir}/out/`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("convert --int8 --float --wide: layers left float32 stay float32 in the shards, wide ones get levels 254", async () => {
  const dir = await photoDir("int8_convert_layers_");
  try {
    const refused = await runConvert([TFJS_025.pathname, `${dir}/x`, "--wide", "all"]);
    assertEquals(refused.code, 2);
    assert(refused.lines[0].includes("--float and --wide need --int8"), refused.lines[0]);
    const { code, lines } = await runConvert([
      TFJS_025.pathname,
      `${dir}/out`,
      ..."--int8 PHOTOS --float conv_pw_1,conv_pw_2 --wide all".split(" ")
        .map((a) => a === "PHOTOS" ? `${dir}/photos` : a),
    ]);
    assertEquals(code, 0, lines.join("\n"));
    const manifest = JSON.parse(await Deno.readTextFile(`${dir}/out/manifest.json`));
    assertEquals(Object.keys(manifest.int8.scales).length, 12);
    assertEquals(manifest.int8.scales.conv_pw_1, undefined);
    assertEquals(
      Object.keys(manifest.int8.levels).sort(),
      Object.keys(manifest.int8.scales).sort(),
    );
    assert(Object.values(manifest.int8.levels).every((l) => l === 254));
    const kernel = (name: string) =>
      manifest.tensors.find((t: { name: string }) => t.name === `${name}/kernel`);
    assertEquals(kernel("conv_pw_1").quantization, undefined, "left float32");
    assertEquals(kernel("conv_pw_3").byteLength, 32 * 32, "stored as int8: 32 -> 32 at 0.25");
    await assertLoadsAsInt8(`${dir}/out/`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
