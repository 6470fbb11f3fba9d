/**
 * The public model object: every input form, predict/embed/summary, bad input with typed
 * errors after which the model keeps working, and no tensor leaks.
 */
import { liveTensors } from "./_tensors.ts";
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import { assert, assertAllClose, assertEquals, assertRejects, assertThrows } from "./_assert.ts";
import { readImage, readInput, readReference } from "./_fixtures.ts";
import { encodePng } from "./_png.ts";
import { upscaledJpeg } from "./image/_jpeg_dc.ts";
import { ImageDecodeError, loadMobileNet, type MobileNet, UnknownModelError } from "../mod.ts";
import { decodeImage } from "../src/image/decode.ts";
import { ModelDisposedError } from "../src/errors.ts";
import { liveWorkerCount } from "../src/backend/wasm.ts";

const ELEPHANT = "n02504458_African_elephant.JPEG";

async function withModel(fn: (model: MobileNet) => void | Promise<void>, model = "0.75_224") {
  const mobilenet = await loadMobileNet({ model });
  try {
    await fn(mobilenet);
  } finally {
    mobilenet.dispose();
  }
}

async function assertStillWorks(model: MobileNet): Promise<void> {
  const [top] = await model.classify(await readImage(ELEPHANT), { topK: 1 });
  assertEquals(top.label, "African elephant");
}

/** The 0.25 model's check (its top-1 for the elephant photo is "lakeside"). */
async function assertClassifiesZebra(model: MobileNet): Promise<void> {
  const [top] = await model.classify(await readImage("n02391049_zebra.JPEG"), { topK: 1 });
  assertEquals(top.label, "zebra");
}

Deno.test("classify accepts bytes, ArrayBuffer, Blob, RGBA/RGB pixels and HWC/NHWC tensors alike", async () => {
  await withModel(async (model) => {
    const bytes = await readImage(ELEPHANT);
    const expected = await model.classify(bytes);
    assertEquals(expected.length, 5);
    assertEquals(expected[0].index, 386);
    const pixels = await decodeImage(bytes);
    assertEquals(pixels.channels, 3);
    const rgba = new Uint8Array(pixels.width * pixels.height * 4);
    for (let i = 0, j = 0; i < pixels.data.length; i += 3, j += 4) {
      rgba.set(pixels.data.subarray(i, i + 3), j);
      rgba[j + 3] = 255;
    }
    const hwc = tf.tensor3d(Int32Array.from(pixels.data), [pixels.height, pixels.width, 3]);
    const nhwc = tf.expandDims(hwc, 0) as tf.Tensor4D;
    const inputs = {
      arrayBuffer: bytes.slice().buffer,
      blob: new Blob([bytes.slice()]),
      rgb: { data: pixels.data, width: pixels.width, height: pixels.height },
      rgba: { data: rgba, width: pixels.width, height: pixels.height },
      hwc,
      nhwc,
    };
    for (const [name, input] of Object.entries(inputs)) {
      const got = await model.classify(input);
      assertEquals(got.map((p) => p.index), expected.map((p) => p.index), name);
      assertAllClose(
        got.map((p) => p.probability),
        expected.map((p) => p.probability),
        1e-4,
        name,
      );
    }
    tf.dispose([hwc, nhwc]);
  });
});

Deno.test("decodeOptions: bytes decoded elsewhere with them classify exactly as the bytes do", async () => {
  await withModel(async (model) => {
    // the zebra scaled up to 2000x1500: JPEG's DCT scaling reduces it while decoding
    const zebra = await decodeImage(await readImage("n02391049_zebra.JPEG"));
    const bytes = upscaledJpeg(zebra, 2000, 1500);
    for (const resize of ["stretch", "center-crop", "center-crop-87.5"] as const) {
      const options = model.decodeOptions(resize);
      const side = resize === "center-crop-87.5" ? 256 : 224;
      assertEquals([options.minWidth, options.minHeight], [side, side]);
      const pixels = await decodeImage(bytes, options);
      assertEquals(
        (await model.classifyDetailed(pixels, { resize })).predictions,
        (await model.classifyDetailed(bytes, { resize })).predictions,
      );
    }
    assertEquals(model.decodeOptions(), model.decodeOptions(model.resize));
    assertThrows(() => model.decodeOptions("crop" as never), RangeError, "resize");
  });
});

Deno.test("topK, PNG input, and probabilities that sum to 1", async () => {
  await withModel(async (model) => {
    const pixels = await decodeImage(await readImage(ELEPHANT));
    const rgba = new Uint8Array(pixels.width * pixels.height * 4).fill(255);
    for (let i = 0, j = 0; i < pixels.data.length; i += 3, j += 4) {
      rgba.set(pixels.data.subarray(i, i + 3), j);
    }
    const png = await encodePng(rgba, pixels.width, pixels.height);
    const all = await model.classify(png, { topK: 1000 });
    assertEquals(all.length, 1000);
    assertEquals(all[0].label, "African elephant");
    const sum = all.reduce((s, p) => s + p.probability, 0);
    assertAllClose([sum], [1], 1e-4, "sum of probabilities");
    for (let i = 1; i < all.length; i++) assert(all[i - 1].probability >= all[i].probability);
    // The reference's top-3, from stretched inputs.
    const top3 = await model.classifyDetailed(png, { topK: 3, resize: "stretch" });
    assertEquals(top3.predictions.map((p) => p.index), [386, 385, 346]);
    await assertRejects(() => model.classify(png, { topK: 0 }), RangeError, "topK");
  });
});

Deno.test("predict takes a preprocessed batch as a tensor or {data, shape} and matches the reference", async () => {
  await withModel(async (model) => {
    const reference = (await readReference("0.75_224")).filter((e) => e.probs).slice(0, 2);
    const data = new Float32Array(2 * 224 * 224 * 3);
    data.set(await readInput(reference[0].file), 0);
    data.set(await readInput(reference[1].file), 224 * 224 * 3);
    const probs = model.predict({ data, shape: [2, 224, 224, 3] });
    assertEquals(probs.length, 2000);
    assertAllClose(probs.subarray(0, 1000), reference[0].probs!, 2e-4, reference[0].file);
    assertAllClose(probs.subarray(1000), reference[1].probs!, 2e-4, reference[1].file);
    const tensor = tf.tensor4d(data, [2, 224, 224, 3]);
    assertAllClose(model.predict(tensor), probs, 1e-6, "tensor input");
    assert(!tensor.isDisposed, "predict must not dispose the caller's tensor");
    tensor.dispose();
  });
});

Deno.test("classifyDetailed with embedding: the labels and embed()'s values from one run", async () => {
  const model = await loadMobileNet({ model: "0.25_224" });
  try {
    const bytes = await readImage(ELEPHANT);
    const plain = await model.classifyDetailed(bytes, { topK: 5 });
    assertEquals(plain.embedding, undefined);
    const both = await model.classifyDetailed(bytes, { topK: 5, embedding: true });
    // the classifier applied to the read-back features gives exactly the in-graph result
    assertEquals(both.predictions, plain.predictions);
    assertEquals(both.embedding, await model.embed(bytes));
    const stretched = await model.classifyDetailed(bytes, { resize: "stretch", embedding: true });
    assert(stretched.embedding!.some((v, i) => v !== both.embedding![i]), "same input as labels");
  } finally {
    await model.dispose();
  }
});

Deno.test("embed returns the pooled features; a headless model embeds the same", async () => {
  const full = await loadMobileNet({ model: "0.25_224" });
  const headless = await loadMobileNet({ model: "0.25_224", headless: true });
  const maxPool = await loadMobileNet({ model: "0.25_224", headless: true, pooling: "max" });
  try {
    const bytes = await readImage(ELEPHANT);
    const features = await full.embed(bytes);
    assertEquals(features.length, 256);
    assertEquals(full.featureSize, 256);
    assert(features.every((v) => v >= 0 && v <= 6), "pooled relu6 features lie in [0, 6]");
    assertAllClose(await headless.embed(bytes), features, 1e-6, "headless embedding");
    const maxed = await maxPool.embed(bytes);
    assert(maxed.every((v, i) => v >= features[i] - 1e-6), "max pooling >= average pooling");
    await assertRejects(() => headless.classify(bytes), RangeError, "embed");
    assertThrows(
      () => headless.predict({ data: new Float32Array(224 * 224 * 3), shape: [1, 224, 224, 3] }),
      RangeError,
    );
    assertEquals(headless.summary().totalParams, 218_544);
  } finally {
    [full, headless, maxPool].forEach((m) => m.dispose());
  }
});

Deno.test("summary gives per-layer shapes, params and multiply-adds", async () => {
  await withModel((model) => {
    const summary = model.summary();
    assertEquals(summary.totalParams, 2_601_976);
    assertEquals((summary.totalMacs / 1e6).toFixed(1), "325.4");
    assertEquals(summary.layers.find((l) => l.name === "conv1")!.outputShape, [112, 112, 24]);
    assertEquals(summary.layers.find((l) => l.name === "conv_preds")!.params, 769_000);
    assert(summary.text.includes("Total params: 2,601,976"));
  });
});

Deno.test("bad images get a typed ImageDecodeError and the model keeps working", async () => {
  await withModel(async (model) => {
    const jpeg = await readImage(ELEPHANT);
    const cases: [string, Uint8Array, string][] = [
      ["empty bytes", new Uint8Array(0), "EMPTY"],
      ["text", new TextEncoder().encode("hello, this is not an image"), "UNSUPPORTED_FORMAT"],
      ["truncated JPEG", jpeg.subarray(0, jpeg.length >> 1), "TRUNCATED"],
      ["JPEG header only", jpeg.subarray(0, 3), "TRUNCATED"],
      [
        "JPEG markers without data",
        new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0xff, 0xd9]),
        "CORRUPT",
      ],
      ["1x1 PNG", await encodePng(new Uint8Array([255, 0, 0, 255]), 1, 1), "TOO_SMALL"],
      [
        "PNG with a broken body",
        (await encodePng(new Uint8Array(64).fill(9), 4, 4)).map(
          (b, i) => (i > 40 && i < 50 ? 0 : b),
        ),
        "CORRUPT",
      ],
    ];
    const before = liveTensors();
    for (const [name, bytes, code] of cases) {
      const error = await assertRejects(() => model.classify(bytes), ImageDecodeError);
      assertEquals(error.code, code, `${name}: ${error.message}`);
      assert(error.message.length > 10, name);
    }
    assertEquals(liveTensors(), before, "no tensors left behind by failures");
    await assertStillWorks(model);
  });
});

Deno.test("0- and 1-pixel raw images, wrong tensor ranks and wrong types throw clear errors", async () => {
  await withModel(async (model) => {
    const zero = await assertRejects(
      () => model.classify({ data: new Uint8Array(0), width: 0, height: 0 }),
      ImageDecodeError,
    );
    assertEquals(zero.code, "TOO_SMALL");
    const one = await assertRejects(
      () => model.classify({ data: new Uint8Array(4), width: 1, height: 1 }),
      ImageDecodeError,
      "1x1",
    );
    assertEquals(one.code, "TOO_SMALL");
    await assertRejects(
      () => model.classify({ data: new Uint8Array(10), width: 4, height: 4 }),
      RangeError,
      "does not fit",
    );
    const rank2 = tf.zeros([224, 224]);
    const rank5 = tf.zeros([1, 1, 8, 8, 3]);
    const gray = tf.zeros([8, 8, 1]);
    const batch = tf.zeros([2, 8, 8, 3]);
    await assertRejects(() => model.classify(rank2 as tf.Tensor3D), RangeError, "rank 2");
    await assertRejects(() => model.classify(rank5 as tf.Tensor4D), RangeError, "rank 5");
    await assertRejects(() => model.classify(gray as tf.Tensor3D), RangeError, "channels");
    await assertRejects(() => model.classify(batch as tf.Tensor4D), RangeError, "batch of 2");
    assertThrows(() => model.predict(rank2 as tf.Tensor4D), RangeError, "rank 2");
    assertThrows(
      () => model.predict({ data: new Float32Array(10), shape: [1, 224, 224, 3] }),
      RangeError,
      "needs",
    );
    assertThrows(
      () => model.predict({ data: new Float32Array(3 * 32 * 32), shape: [1, 32, 32, 3] }),
      RangeError,
      "[n, 224, 224, 3]",
    );
    // deno-lint-ignore no-explicit-any
    await assertRejects(() => model.classify("elephant.jpg" as any), TypeError);
    tf.dispose([rank2, rank5, gray, batch]);
    await assertStillWorks(model);
  });
});

Deno.test("empty batches, NaN sizes, wrong dtypes and disposed tensors get a RangeError or TypeError naming them", async () => {
  await withModel(async (model) => {
    const before = liveTensors();
    const empty = tf.zeros([0, 224, 224, 3]) as tf.Tensor4D;
    const ints = tf.zeros([1, 224, 224, 3], "int32") as tf.Tensor4D;
    const gone = tf.zeros([1, 224, 224, 3]) as tf.Tensor4D;
    const goneImage = tf.zeros([8, 8, 3]) as tf.Tensor3D;
    tf.dispose([gone, goneImage]);
    const none = new Float32Array(0);
    assertThrows(() => model.predict(empty), RangeError, "batch of at least 1 image, got 0");
    assertThrows(
      () => model.predict({ data: none, shape: [0, 224, 224, 3] }),
      RangeError,
      "batch of at least 1 image, got 0",
    );
    assertThrows(
      () => model.predict({ data: none, shape: [1, NaN, 224, 3] }),
      RangeError,
      "non-negative integers, got [1,NaN,224,3]",
    );
    assertThrows(() => model.predict(ints), TypeError, "float32");
    assertThrows(() => model.predict(gone), TypeError, "the input tensor is disposed");
    await assertRejects(() => model.classify(goneImage), TypeError, "the image tensor is disposed");
    await assertRejects(() => model.embed(gone), TypeError, "the image tensor is disposed");
    await assertRejects(
      () => model.classify({ data: new Uint8Array(12), width: NaN, height: 2 }),
      TypeError,
      "NaNx2",
    );
    tf.dispose([empty, ints]);
    assertEquals(liveTensors(), before, "no tensor left behind by the refusals");
    await assertClassifiesZebra(model);
  }, "0.25_224");
});

Deno.test("unknown model names and missing weights are refused clearly", async () => {
  const unknown = await assertRejects(
    () => loadMobileNet({ model: "0.6_224" }),
    UnknownModelError,
    "0.75_224",
  );
  assertEquals(unknown.model, "0.6_224");
  await assertRejects(() => loadMobileNet({ model: "./no/such/dir" }), Error, "no/such/dir");
  await assertRejects(
    // deno-lint-ignore no-explicit-any
    () => loadMobileNet({ resize: "squash" as any }),
    RangeError,
    "center-crop",
  );
});

Deno.test("no tensor leaks: numTensors is the same before and after 100 classify calls", async () => {
  await withModel(async (model) => {
    const bytes = await readImage("n02391049_zebra.JPEG");
    await model.classify(bytes);
    const before = liveTensors();
    for (let i = 0; i < 100; i++) await model.classify(bytes);
    await model.embed(bytes);
    model.predict({ data: new Float32Array(224 * 224 * 3), shape: [1, 224, 224, 3] });
    assertEquals(liveTensors(), before);
  }, "0.25_224");
});

Deno.test("a disposed model refuses work and frees its tensors", async () => {
  const before = liveTensors();
  const model = await loadMobileNet({ model: "0.25_224" });
  assert(liveTensors() > before);
  model.dispose();
  assertEquals(liveTensors(), before);
  await assertRejects(() => model.classify(new Uint8Array(1)), Error, "disposed");
});

Deno.test("dispose() rejects calls in flight and later calls with ModelDisposedError, and ends the workers", async () => {
  const before = liveTensors();
  const model = await loadMobileNet({ model: "0.25_224" });
  const bytes = await readImage(ELEPHANT);
  // All three are decoding the JPEG when dispose() runs: they must not touch the freed weights.
  const inFlight = [model.classify(bytes), model.embed(bytes), model.classifyDetailed(bytes)];
  // Their callers hold them: a rejection while dispose() winds down is handled, not unhandled.
  for (const call of inFlight) call.catch(() => {});
  await model.dispose();
  assertEquals(liveWorkerCount(), 0, "the last model's dispose ends the backend's workers");
  const later = [() => model.classify(bytes), () => model.embed(bytes)];
  for (const call of [...inFlight.map((p) => () => p), ...later]) {
    const error = await assertRejects(call, ModelDisposedError, "disposed");
    assertEquals([error.name, error.code], ["ModelDisposedError", "DISPOSED"]);
  }
  const data = new Float32Array(224 * 224 * 3);
  assertThrows(() => model.predict({ data, shape: [1, 224, 224, 3] }), ModelDisposedError);
  assertEquals(liveTensors(), before, "nothing left on the backend");
  await model.dispose(); // a second dispose is harmless
  // The process goes on: a new model starts the backend again and classifies.
  await withModel(assertClassifiesZebra, "0.25_224");
});
