/**
 * int8 calibration (src/int8/calibrate.ts) and its command (src/cli/calibrate.ts): the error a
 * clip makes, the clip chosen, per-channel means, a whole network's calibration, the photos it
 * reads, and the manifest the command writes (its weights' identity unchanged).
 */
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import { assert, assertAllClose, assertEquals, assertRejects, assertThrows } from "../_assert.ts";
import { encodePng } from "../_png.ts";
import {
  ActivationHistogram,
  bestClip,
  calibrateNetwork,
  LayerStats,
  photoInputs,
} from "../../src/int8/calibrate.ts";
import { main } from "../../src/cli/calibrate.ts";
import { buildArchitecture } from "../../src/model/architecture.ts";
import { inputChannels, int8Layers, MobileNetNetwork } from "../../src/model/mobilenet.ts";
import { randomWeights } from "../../src/model/random_weights.ts";
import { initBackend } from "../../src/backend/wasm.ts";
import { validateManifest } from "../../src/weights/manifest.ts";
import { weightsId } from "../../src/weights/identity.ts";
import { isInt8Scale, mulberry32 } from "../../src/_util.ts";

Deno.test("the quantization error of a clip: values on the grid cost nothing, clipped ones do", () => {
  const h = new ActivationHistogram();
  h.add([0, 0, 6, 6]);
  assertEquals(h.total, 4);
  assertEquals(h.max, 6);
  // bin centres sit 0.00005 off the grid at 0 and 6
  assert(h.error(6) < 1e-8, `${h.error(6)}`);
  // clipped at 3: the two 6s are 3 off
  assertAllClose([h.error(3)], [(2 * 9) / 4], 1e-3);
  assertThrows(() => h.add([1, -0.5]), RangeError, ">= 0");
  assertThrows(() => h.add([NaN]), RangeError);
});

Deno.test("bestClip keeps the whole range for spread values and cuts a near outlier", () => {
  const random = mulberry32(7);
  const spread = new ActivationHistogram();
  spread.add(Float32Array.from({ length: 100_000 }, () => random() * 6));
  assert(bestClip(spread) > 5.9, `${bestClip(spread)}`);
  const small = new ActivationHistogram();
  small.add(Float32Array.from({ length: 100_000 }, () => random()));
  small.add([1.5]);
  const clip = bestClip(small);
  assert(clip >= 0.99 && clip < 1.4, `${clip}`);
  assertEquals(bestClip(new ActivationHistogram()), 6 / 127, "nothing seen: one step");
});

Deno.test("LayerStats averages each channel, channels last", () => {
  const stats = new LayerStats(3);
  stats.add([1, 2, 3, 3, 4, 5]);
  stats.add([2, 0, 1]);
  assertEquals(stats.count, 3);
  assertEquals(stats.means(), [2, 2, 3]);
  assertThrows(() => stats.add([1, 2]), RangeError, "rows of 3 channels");
  assertEquals(new LayerStats(2).means(), [0, 0]);
});

Deno.test("a network's calibration covers every int8 layer, and an int8 network runs on it", async () => {
  await initBackend({ threads: 1 });
  const options = { alpha: 0.25, resolution: 128 };
  const arch = buildArchitecture(options);
  const network = new MobileNetNetwork(arch);
  for (const [name, data] of randomWeights(options, 3)) network.addWeight(name, data);
  const random = mulberry32(5);
  const inputs = [0, 1].map(() =>
    Float32Array.from({ length: 128 * 128 * 3 }, () => random() * 2 - 1)
  );
  const seen: string[] = [];
  const x = tf.tensor4d(inputs[0], [1, 128, 128, 3]);
  network.observeInt8Inputs(x, (layer, values) => {
    seen.push(layer);
    assertEquals(values.length % inputChannels(arch, layer), 0, layer);
  });
  x.dispose();
  assertEquals(seen, int8Layers(arch));
  const result = await calibrateNetwork(network, inputs, "two random images");
  assertEquals(Object.keys(result.scales), int8Layers(arch));
  for (const layer of int8Layers(arch)) {
    assert(isInt8Scale(result.scales[layer]), layer);
    assertEquals(result.means[layer].length, inputChannels(arch, layer), layer);
  }
  assertEquals(result.calibration, "two random images");
  await assertRejects(() => calibrateNetwork(network, [], ""), RangeError, "at least one image");
  const kernel = "MobileNetEdgeInt8Pointwise";
  const int8 = new MobileNetNetwork(arch, { int8: { kernel, ...result } });
  for (const [name, data] of randomWeights(options, 3)) int8.addWeight(name, data);
  const input = tf.tensor4d(inputs[1], [1, 128, 128, 3]);
  const [p, q] = [int8, network].map((n) => n.run(input).dataSync() as Float32Array);
  assertAllClose([p.reduce((a, b) => a + b, 0)], [1], 1e-4);
  assertAllClose(p, q, 0.05, "int8 probabilities near float32's");
  int8.dispose();
  input.dispose();
  // a layer without a scale stays float32; with none at all, the network is float32
  const partial = { ...result.scales };
  delete partial.conv_pw_1;
  assertEquals(new MobileNetNetwork(arch, { int8: { kernel, scales: partial } }).precision, "int8");
  assertEquals(new MobileNetNetwork(arch, { int8: { kernel, scales: {} } }).precision, "float32");
  // 8-bit layers: levels 254, the scale still a 0..127 one (twice the rounded step)
  const wide = await calibrateNetwork(network, inputs, "", ["conv_pw_2", "conv_preds"]);
  assertEquals(wide.levels, { conv_pw_2: 254, conv_preds: 254 });
  assertEquals(wide.scales.conv_pw_1, result.scales.conv_pw_1);
  for (const layer of ["conv_pw_2", "conv_preds"]) {
    const step = wide.scales[layer] / 2;
    assertEquals(step, Number(step.toPrecision(6)), layer);
    assert(Math.abs(step * 254 - result.scales[layer] * 127) < 0.1 * result.scales[layer] * 127);
  }
  const eight = new MobileNetNetwork(arch, { int8: { kernel, ...wide } });
  for (const [name, data] of randomWeights(options, 3)) eight.addWeight(name, data);
  const input2 = tf.tensor4d(inputs[1], [1, 128, 128, 3]);
  assertAllClose(eight.run(input2).dataSync() as Float32Array, q, 0.05, "8-bit layers");
  input2.dispose();
  eight.dispose();
  for (const levels of [255, 128, 0]) {
    assertThrows(
      () =>
        new MobileNetNetwork(arch, {
          int8: { kernel, scales: partial, levels: { conv_pw_3: levels } },
        }),
      RangeError,
      "127 or 254",
    );
  }
  assertThrows(
    () => new MobileNetNetwork(arch, { fused: false, int8: { kernel, scales: partial } }),
    RangeError,
    "fused",
  );
  network.dispose();
});

/** A folder of `count` small PNG photos (and a text file that is skipped). */
async function photoFolder(count: number): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "int8_photos_" });
  const random = mulberry32(11);
  for (let i = 0; i < count; i++) {
    const rgba = Uint8Array.from(
      { length: 40 * 30 * 4 },
      (_, j) => (j % 4 === 3 ? 255 : random() * 255),
    );
    await Deno.writeFile(`${dir}/photo_${i}.png`, await encodePng(rgba, 40, 30));
  }
  await Deno.writeTextFile(`${dir}/notes.txt`, "not a photo");
  return dir;
}

Deno.test("photoInputs reads a folder's photos in name order, fitted like classify", async () => {
  const dir = await photoFolder(3);
  try {
    const inputs = [];
    for await (const input of photoInputs(dir, 32, "center-crop", 2)) inputs.push(input);
    assertEquals(inputs.length, 2);
    assertEquals(inputs[0].length, 32 * 32 * 3);
    assert(inputs[0].every((v) => v >= -1 && v <= 1));
    const empty = await Deno.makeTempDir();
    await assertRejects(
      async () => {
        for await (const _ of photoInputs(empty, 32, "center-crop")) { /* none */ }
      },
      RangeError,
      "no JPEG or PNG",
    );
    await Deno.remove(empty);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task calibrate writes int8 into a copy of the bundled manifest, shards untouched", async () => {
  const source = new URL("../../weights/mobilenet_v1_0.25_224/", import.meta.url);
  const weights = await Deno.makeTempDir({ prefix: "int8_weights_" });
  const photos = await photoFolder(2);
  const lines: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  console.error = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    for await (const entry of Deno.readDir(source)) {
      await Deno.copyFile(new URL(entry.name, source), `${weights}/${entry.name}`);
    }
    const before = validateManifest(
      JSON.parse(await Deno.readTextFile(`${weights}/manifest.json`)),
    );
    delete before.int8;
    await Deno.writeTextFile(`${weights}/manifest.json`, JSON.stringify(before));
    assertEquals(await main([weights, photos, "--float", "conv_pw_1", "--limit", "1"]), 0);
    const after = validateManifest(JSON.parse(await Deno.readTextFile(`${weights}/manifest.json`)));
    assertEquals(await weightsId(after), await weightsId(before));
    assertEquals(after.tensors, before.tensors);
    const layers = int8Layers(buildArchitecture({ alpha: 0.25 }));
    assertEquals(Object.keys(after.int8!.scales), layers.slice(1), "conv_pw_1 left float32");
    assertEquals(after.int8!.means!.conv_pw_2.length, 16);
    assert(after.int8!.calibration!.includes("1 photos"), after.int8!.calibration!);
    assert(after.int8!.calibration!.includes("float32: conv_pw_1"), after.int8!.calibration!);
    // usage errors: exit 2, the manifest unchanged
    const text = await Deno.readTextFile(`${weights}/manifest.json`);
    assertEquals(await main([weights, photos, "--limit", "0"]), 2);
    assertEquals(await main(["https://example.com/w/", photos]), 2);
    assertEquals(await main([weights, photos, "--float", "conv_pw_99", "--dry-run"]), 2);
    assertEquals(await main([weights]), 2);
    assertEquals(await Deno.readTextFile(`${weights}/manifest.json`), text);
  } finally {
    console.log = log;
    console.error = error;
    await Deno.remove(weights, { recursive: true });
    await Deno.remove(photos, { recursive: true });
  }
  assert(lines.some((l) => l.startsWith("wrote int8 into")), lines.join("\n"));
});
