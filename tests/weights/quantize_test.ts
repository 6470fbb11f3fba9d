/**
 * Quantized storage: IEEE half conversion (exact round trip of every half, round to nearest
 * even), affine uint8 per tensor and per channel (error at most half a step, zero exact), the
 * writer's version-2 manifests and their validation, and the loader dequantizing to float32.
 */
import { minimalManifest } from "./_manifest.ts";
import { assert, assertEquals, assertThrows } from "../_assert.ts";
import {
  dequantize,
  fromFloat16Bits,
  quantizeTensor,
  toFloat16Bits,
} from "../../src/weights/quantize.ts";
import { channelAxis, writeWeights } from "../../src/weights/writer.ts";
import { loadWeights } from "../../src/weights/loader.ts";
import {
  FORMAT_VERSION,
  FORMAT_VERSION_FLOAT32,
  validateManifest,
} from "../../src/weights/manifest.ts";
import { WeightsError } from "../../src/errors.ts";
import { loadMobileNet } from "../../mod.ts";
import { readImage } from "../_fixtures.ts";

const BUNDLED = new URL("../../weights/mobilenet_v1_0.25_224/", import.meta.url);

Deno.test("float16: known values, rounding to nearest even, every half round-trips", () => {
  const cases: [number, number][] = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [65504, 0x7bff],
    [65520, 0x7c00], // rounds up past the largest half: infinity
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -25, 0x0000], // a tie, to even: zero
    [3 * 2 ** -25, 0x0002], // a tie, to even: 2
    [1 + 2 ** -11, 0x3c00], // a tie, to even: 1
    [1 + 3 * 2 ** -11, 0x3c02], // a tie, to even: up
  ];
  for (const [value, bits] of cases) assertEquals(toFloat16Bits(value), bits, String(value));
  assertEquals(toFloat16Bits(NaN) & 0x7e00, 0x7e00);
  for (let bits = 0; bits < 0x10000; bits++) {
    const value = fromFloat16Bits(bits);
    if (Number.isNaN(value)) continue;
    assertEquals(toFloat16Bits(value), bits, `bits ${bits.toString(16)}`);
  }
});

function randomData(n: number, seed: number, scale = 1): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return ((s / 2 ** 31) * 2 - 0.7) * scale;
  });
}

Deno.test("uint8 per tensor: error at most half a step, zero exact", () => {
  const data = randomData(3 * 3 * 4 * 5, 1);
  data[7] = 0;
  const { bytes, quantization } = quantizeTensor(data, [3, 3, 4, 5], { dtype: "uint8" });
  assertEquals(bytes.byteLength, data.length);
  const scale = quantization!.scale as number;
  const back = dequantize(bytes, [3, 3, 4, 5], quantization);
  assertEquals(back[7], 0);
  for (let i = 0; i < data.length; i++) {
    assert(Math.abs(back[i] - data[i]) <= scale / 2 + 1e-7, `index ${i}`);
  }
});

Deno.test("uint8 per channel along an axis: each channel's own scale", () => {
  const shape = [3, 3, 6, 1]; // a depthwise kernel: the channels are axis 2
  const data = randomData(54, 2);
  for (let i = 0; i < 54; i++) data[i] *= 10 ** ((i % 6) - 3); // channels of very different range
  assertEquals(channelAxis("conv_dw_1/depthwise_kernel", shape), 2);
  assertEquals(channelAxis("conv_pw_1/kernel", [1, 1, 6, 8]), 3);
  const { bytes, quantization } = quantizeTensor(data, shape, { dtype: "uint8", axis: 2 });
  assertEquals(quantization!.axis, 2);
  const scales = quantization!.scale as number[];
  assertEquals(scales.length, 6);
  const back = dequantize(bytes, shape, quantization);
  for (let i = 0; i < 54; i++) {
    assert(Math.abs(back[i] - data[i]) <= scales[i % 6] / 2 + 1e-9, `index ${i}`);
  }
  assertThrows(() => quantizeTensor(data, shape, { dtype: "uint8", axis: 4 }), RangeError, "axis");
  assertThrows(() => quantizeTensor(data, shape, { dtype: "float16", axis: 2 }), RangeError);
});

Deno.test("quantized weights: version 2 manifest, kernels quantized, vectors float32, loader dequantizes", async () => {
  const source = await loadWeights(BUNDLED);
  const tensors = source.manifest.tensors.map((e) => ({
    name: e.name,
    shape: e.shape,
    data: source.tensors.get(e.name)!,
  }));
  const photo = await readImage("n02504458_African_elephant.JPEG");
  const float32 = await loadMobileNet({ model: BUNDLED });
  const want = (await float32.classify(photo, { topK: 1 }))[0].index; // 975 lakeside, p=0.35
  float32.dispose();
  for (
    const [dtype, perChannel] of [["float16", false], ["uint8", false], ["uint8", true]] as const
  ) {
    const written = await writeWeights(source.manifest.model, tensors, {
      dtype,
      perChannel,
      shardSize: 100_000,
    });
    const m = written.manifest;
    assertEquals(m.formatVersion, FORMAT_VERSION);
    const stem = m.tensors[0];
    assertEquals(stem.quantization?.dtype, dtype);
    assertEquals(m.tensors[1].quantization, undefined, "BatchNorm vectors stay float32");
    if (perChannel) assertEquals((stem.quantization!.scale as number[]).length, 8);
    // Every tensor starts on a 4-byte boundary of the byte stream.
    for (const t of m.tensors) assertEquals((t.shard * m.shardSize + t.offset) % 4, 0, t.name);
    const dir = await Deno.makeTempDir({ prefix: "mobilenet-q-" });
    try {
      for (const [i, s] of m.shards.entries()) {
        await Deno.writeFile(`${dir}/${s.file}`, written.shards[i]);
      }
      await Deno.writeTextFile(`${dir}/manifest.json`, JSON.stringify(m));
      const loaded = await loadWeights(dir);
      for (const t of tensors) {
        const got = loaded.tensors.get(t.name)!;
        const entry = m.tensors.find((e) => e.name === t.name)!;
        if (!entry.quantization) {
          assertEquals(got, t.data, t.name);
          continue;
        }
        const q = quantizeTensor(t.data, t.shape, {
          dtype,
          axis: perChannel ? channelAxis(t.name, t.shape) : undefined,
        });
        assertEquals(got, dequantize(q.bytes, t.shape, q.quantization), t.name);
      }
      // The dequantized model gives the float32 model's top-1 (a clear one: 0.35 vs 0.09).
      // Not asked of uint8 per tensor: one scale for a depthwise kernel whose channels differ
      // by orders of magnitude loses too much (bench/weights_quantized.ts measures it).
      if (dtype === "float16" || perChannel) {
        const model = await loadMobileNet({ model: dir });
        const top = await model.classify(photo, { topK: 1 });
        model.dispose();
        assertEquals(top[0].index, want, `${dtype}${perChannel ? " per-channel" : ""}`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("quantization fields are validated, and need format version 2", () => {
  const manifest = (quantization: unknown, formatVersion = 2) =>
    minimalManifest(formatVersion, { shape: [2, 4], quantization });
  validateManifest(manifest({ dtype: "uint8", scale: 0.1, zeroPoint: 3 }));
  validateManifest(
    manifest({ dtype: "uint8", scale: [1, 2, 3, 4], zeroPoint: [0, 0, 9, 255], axis: 1 }),
  );
  const refused = (q: unknown, mention: string, version = 2) => {
    const error = assertThrows(() => validateManifest(manifest(q, version)), WeightsError);
    assertEquals(error.code, "BAD_MANIFEST");
    assert(error.message.includes(mention), error.message);
  };
  refused(
    { dtype: "uint8", scale: 0.1, zeroPoint: 3 },
    "needs formatVersion 2",
    FORMAT_VERSION_FLOAT32,
  );
  refused({ dtype: "int4" }, "quantization.dtype");
  refused({ dtype: "uint8", scale: -1, zeroPoint: 0 }, "scale must be a positive number");
  refused({ dtype: "uint8", scale: 1, zeroPoint: 256 }, "zeroPoint must be an integer 0..255");
  refused(
    { dtype: "uint8", scale: [1, 2], zeroPoint: [0, 0], axis: 1 },
    "scale must be 4 positive",
  );
  refused({ dtype: "uint8", scale: [1, 2, 3, 4], zeroPoint: [0, 0, 0, 0], axis: 2 }, "axis");
  refused({ dtype: "float16", scale: 1 }, "float16 takes no scale");
  // float16 of [2, 4] is 16 bytes, not 8.
  refused({ dtype: "float16" }, "does not fit shape");
});
