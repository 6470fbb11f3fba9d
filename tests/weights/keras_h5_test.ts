/**
 * Keras HDF5 -> our format: the seed-layout file `mobilenet_2_5_224_tf_no_top.h5` gives the same
 * 135 backbone tensors as the 0.25 TF.js weights (bit for bit) and so the same embeddings; files
 * that are not a MobileNet (built here with h5wasm) are refused naming the missing dataset, and
 * the converter writes nothing for them.
 */
import * as h5wasm from "npm:h5wasm@0.10.3";
import { assert, assertAllClose, assertEquals, assertRejects } from "../_assert.ts";
import { readImage } from "../_fixtures.ts";
import { isHdf5, parseKerasFileName, readKerasH5 } from "../../src/weights/convert/keras_h5.ts";
import { readTfjsLayers } from "../../src/weights/convert/tfjs_layers.ts";
import { type NamedTensor, writeWeights } from "../../src/weights/writer.ts";
import { WeightsError } from "../../src/errors.ts";
import { main as convert } from "../../src/cli/convert.ts";
import { loadMobileNet } from "../../mod.ts";

const H5 = new URL("../fixtures/keras_h5/mobilenet_2_5_224_tf_no_top.h5", import.meta.url);
const H5_NAME = "mobilenet_2_5_224_tf_no_top.h5";
const TFJS = new URL("../fixtures/tfjs_layers/mobilenet_v1_0.25_224/model.json", import.meta.url);

let unique = 0;

/** Writes tensors in the Keras 2 HDF5 layout (`/<layer>/<layer>/<weight>:0`) with h5wasm. */
async function writeKerasH5(
  tensors: readonly NamedTensor[],
  options: { listButOmit?: string; layerNames?: boolean } = {},
): Promise<Uint8Array> {
  const { FS } = await h5wasm.ready;
  const path = `/test-${unique++}.h5`;
  const file = new h5wasm.File(path, "w");
  const layers = [...new Set(tensors.map((t) => t.name.split("/")[0]))];
  if (options.layerNames !== false) file.create_attribute("layer_names", layers);
  for (const layer of layers) {
    const own = tensors.filter((t) => t.name.split("/")[0] === layer);
    const group = file.create_group(layer);
    group.create_attribute("weight_names", own.map((t) => `${t.name}:0`));
    const inner = group.create_group(layer);
    for (const t of own) {
      if (t.name === options.listButOmit) continue;
      inner.create_dataset({
        name: `${t.name.split("/")[1]}:0`,
        data: t.data,
        shape: t.shape,
        dtype: "<f",
      });
    }
  }
  file.close();
  const bytes = FS!.readFile(path);
  FS!.unlink(path);
  return bytes;
}

Deno.test("Keras HDF5 (no top): config inferred, all 135 tensors bit-identical to TF.js", async () => {
  const h5 = await readKerasH5(await Deno.readFile(H5), { fileName: H5_NAME });
  assertEquals(h5.config, {
    architecture: "mobilenet_v1",
    alpha: 0.25,
    depthMultiplier: 1,
    resolution: 224,
    classes: 1000,
    includeTop: false,
    labels: null,
  });
  assertEquals(h5.tensors.length, 135);
  assertEquals(h5.tensors[0].name, "conv1/kernel");
  assertEquals(h5.tensors.at(-1)!.name, "conv_pw_13_bn/moving_variance");
  const tfjs = new Map((await readTfjsLayers(TFJS)).tensors.map((t) => [t.name, t]));
  for (const t of h5.tensors) {
    const other = tfjs.get(t.name)!;
    assertEquals(t.shape, other.shape, t.name);
    assertEquals(
      new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
      new Uint8Array(other.data.buffer, other.data.byteOffset, other.data.byteLength),
      t.name,
    );
  }
});

Deno.test("Keras HDF5 -> our format -> the same embeddings as the TF.js 0.25 headless model", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mobilenet-h5-" });
  try {
    const log = console.log;
    console.log = () => {};
    try {
      assertEquals(await convert([H5.pathname, dir, "--shard-size", "262144"]), 0);
    } finally {
      console.log = log;
    }
    const manifest = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
    assertEquals(manifest.model.includeTop, false);
    assertEquals(manifest.shards.length, 4);
    const fromH5 = await loadMobileNet({ model: dir });
    const reference = await loadMobileNet({ model: "0.25_224", headless: true });
    try {
      for (const photo of ["n02504458_African_elephant.JPEG", "dog.jpg", "grace_hopper.jpg"]) {
        const bytes = await readImage(photo);
        const got = await fromH5.embed(bytes);
        assertEquals(got.length, 256);
        const worst = assertAllClose(got, await reference.embed(bytes), 1e-5, photo);
        assertEquals(worst, 0, `${photo}: identical weights give identical embeddings`);
      }
    } finally {
      fromH5.dispose();
      reference.dispose();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Keras file names are read and checked against the contents", async () => {
  assertEquals(parseKerasFileName("mobilenet_1_0_224_tf.h5"), {
    alpha: 1,
    resolution: 224,
    includeTop: true,
  });
  assertEquals(parseKerasFileName("mobilenet_7_5_160_tf_no_top.h5"), {
    alpha: 0.75,
    resolution: 160,
    includeTop: false,
  });
  assertEquals(parseKerasFileName("weights.h5"), undefined);
  const bytes = await Deno.readFile(H5);
  const error = await assertRejects(
    () => readKerasH5(bytes, { fileName: "mobilenet_5_0_224_tf_no_top.h5" }),
    WeightsError,
  );
  assertEquals(error.code, "BAD_SOURCE");
  assert(error.message.includes("alpha 0.5") && error.message.includes("alpha 0.25"));
  // The size in the name is the default resolution; a flag overrides it.
  const named = await readKerasH5(bytes, { fileName: "mobilenet_2_5_128_tf_no_top.h5" });
  assertEquals(named.config.resolution, 128);
  assertEquals((await readKerasH5(bytes, { resolution: 192 })).config.resolution, 192);
});

Deno.test("HDF5 files that are not a MobileNet are refused, naming what is missing", async (t) => {
  const good = (await readKerasH5(await Deno.readFile(H5))).tensors;
  const cases: [string, () => Promise<Uint8Array>, string, string][] = [
    [
      "a dataset missing (not listed)",
      () => writeKerasH5(good.filter((t) => t.name !== "conv_pw_5_bn/gamma")),
      "MISSING_TENSOR",
      "/conv_pw_5_bn/conv_pw_5_bn/gamma:0",
    ],
    [
      "a dataset listed in weight_names but absent",
      () => writeKerasH5(good, { listButOmit: "conv_dw_7/depthwise_kernel" }),
      "MISSING_TENSOR",
      "/conv_dw_7/conv_dw_7/depthwise_kernel:0",
    ],
    [
      "another network",
      () =>
        writeKerasH5([
          { name: "dense_1/kernel", shape: [4, 2], data: new Float32Array(8) },
          { name: "dense_1/bias", shape: [2], data: new Float32Array(2) },
        ]),
      "MISSING_TENSOR",
      "/conv1/conv1/kernel:0",
    ],
    [
      "a tensor of the wrong shape for the alpha",
      () =>
        writeKerasH5(
          good.map((t) =>
            t.name === "conv_pw_3/kernel"
              ? { name: t.name, shape: [1, 1, 32, 48], data: new Float32Array(32 * 48) }
              : t
          ),
        ),
      "SHAPE_MISMATCH",
      "conv_pw_3/kernel",
    ],
    [
      "an HDF5 file without layer_names",
      () => writeKerasH5(good, { layerNames: false }),
      "BAD_SOURCE",
      "layer_names",
    ],
    [
      "not an HDF5 file",
      () => readImage("dog.jpg"),
      "BAD_SOURCE",
      "not an HDF5 file",
    ],
  ];
  for (const [name, make, code, mention] of cases) {
    await t.step(name, async () => {
      const bytes = await make();
      const error = await assertRejects(() => readKerasH5(bytes), WeightsError);
      assertEquals(error.code, code, error.message);
      assert(error.message.includes(mention), `${error.message} should mention ${mention}`);
    });
  }
  await t.step("the converter writes nothing for a bad file", async () => {
    const dir = await Deno.makeTempDir({ prefix: "mobilenet-badh5-" });
    try {
      const bad = await writeKerasH5(good.filter((t) => t.name !== "conv_pw_13/kernel"));
      assert(isHdf5(bad));
      await Deno.writeFile(`${dir}/bad.h5`, bad);
      const errors: string[] = [];
      const original = console.error;
      console.error = (...args: unknown[]) => errors.push(args.join(" "));
      try {
        assertEquals(await convert([`${dir}/bad.h5`, `${dir}/out`]), 1);
      } finally {
        console.error = original;
      }
      assert(errors.join("\n").includes("/conv_pw_13/conv_pw_13/kernel:0"), errors.join("\n"));
      await assertRejects(() => Deno.stat(`${dir}/out`), Deno.errors.NotFound);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("a Keras file with the top converts to a classifier (built from the TF.js tensors)", async () => {
  const tfjs = await readTfjsLayers(TFJS);
  const bytes = await writeKerasH5(tfjs.tensors);
  const h5 = await readKerasH5(bytes, { fileName: "mobilenet_2_5_224_tf.h5" });
  assertEquals(h5.config.includeTop, true);
  assertEquals(h5.config.labels, "imagenet");
  assertEquals(h5.tensors.length, 137);
  const written = await writeWeights(h5.config, h5.tensors);
  const bundled = JSON.parse(
    await Deno.readTextFile(
      new URL("../../weights/mobilenet_v1_0.25_224/manifest.json", import.meta.url),
    ),
  );
  // The same bytes as the bundled weights, converted from the TF.js files.
  assertEquals(
    written.manifest.shards.map((s) => s.sha256),
    bundled.shards.map((s: { sha256: string }) => s.sha256),
  );
});
