/**
 * The int8 pointwise kernel (tools/pointwise_wasm/int8.c, src/backend/pointwise/int8.ts):
 *
 * - both builds (relaxed SIMD's dot product and plain SIMD's 16-bit one) against a scalar
 *   reference of the same arithmetic, bit for bit: odd shapes, every activation, bias and means
 *   present or not, inputs beyond ReLU6's range, NaN, ties, any split into row and panel ranges;
 * - the choice of int8 kernels, and the fallbacks (16-bit dot, float32) with their reasons;
 * - whole models: int8 against float32 on the stored reference inputs, and int8 giving the same
 *   bits on 1 and 2 threads.
 */
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import { assert, assertEquals, assertMatch, assertRejects } from "../_assert.ts";
import { readInput, readReference } from "../_fixtures.ts";
import { withEnv, withKernels } from "./_kernels.ts";
import { KERNELS_ENV } from "../../src/backend/flags.ts";
import { initBackend, shutdownBackend } from "../../src/backend/wasm.ts";
import { chooseInt8 } from "../../src/backend/pointwise/install.ts";
import { activeKernels } from "../../src/backend/wasm.ts";
import { INT8_KERNEL, planInt8 } from "../../src/backend/pointwise/int8.ts";
import {
  instantiateKernel,
  type KernelExports,
  kernelModule,
} from "../../src/backend/pointwise/module.ts";
import { createMobileNet, loadMobileNet } from "../../mod.ts";
import { loadWeights } from "../../src/weights/loader.ts";
import { mulberry32 } from "../../src/_util.ts";

const f = Math.fround;

/** Rounds to the nearest integer, ties to even (wasm's `nearest`). */
function roundEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The packing of `q8_pack`: int8 weights, column scales and corrected biases. */
function referencePack(
  w: Float32Array,
  k: number,
  n: number,
  aScale: number,
  mean?: Float32Array,
  bias?: Float32Array,
) {
  const q = new Int8Array(k * n);
  const scale = new Float32Array(n);
  const biasOut = new Float32Array(n);
  for (let c = 0; c < n; c++) {
    let max = 0;
    for (let i = 0; i < k; i++) max = Math.max(max, Math.abs(w[i * n + c]));
    const inv = max > 0 ? f(127 / max) : 0;
    const sw = f(max / 127);
    scale[c] = f(f(aScale) * sw);
    let correction = 0;
    for (let i = 0; i < k; i++) {
      const v = w[i * n + c];
      const r = Math.max(-127, Math.min(127, roundEven(f(v * inv))));
      q[i * n + c] = r;
      if (mean) correction = f(correction + f(mean[i] * f(f(r * sw) - v)));
    }
    biasOut[c] = f((bias ? bias[c] : 0) - correction);
  }
  return { q, scale, bias: biasOut };
}

/** The quantization of `q8_quant` onto 0..`levels` (127, or 254 before the split). */
function referenceQuant(x: number, inv: number, levels = 127): number {
  const r = roundEven(f(x * inv));
  return !(r > 0) ? 0 : Math.min(levels, r);
}

/**
 * The bytes `q8_quant` writes for one row with 254 levels: each group of 4 k as the 4 bytes
 * `min(q, 127)`, then the 4 bytes `q - min(q, 127)`, zeros past k.
 */
function referenceWideRow(x: ArrayLike<number>, inv: number): number[] {
  const kp = (x.length + 3) & ~3;
  const out = new Array(2 * kp).fill(0);
  for (let i = 0; i < x.length; i++) {
    const q = referenceQuant(x[i], inv, 254);
    const t1 = Math.min(q, 127);
    out[(i >> 2) * 8 + (i & 3)] = t1;
    out[(i >> 2) * 8 + (i & 3) + 4] = q - t1;
  }
  return out;
}

/** The whole int8 GEMM: quantized input, integer sums, float32 epilogue, clamp. */
function referenceGemm(
  x: Float32Array,
  m: number,
  k: number,
  n: number,
  packed: ReturnType<typeof referencePack>,
  inv: number,
  lo: number,
  hi: number,
  levels = 127,
): Float32Array {
  const out = new Float32Array(m * n);
  const a = x.map((v) => referenceQuant(v, inv, levels));
  for (let r = 0; r < m; r++) {
    for (let c = 0; c < n; c++) {
      let acc = 0;
      for (let i = 0; i < k; i++) acc += a[r * k + i] * packed.q[i * n + c];
      const v = f(f(f(acc) * packed.scale[c]) + packed.bias[c]);
      const clamped = lo < v ? v : lo; // f32x4.pmax(lo, v), then f32x4.pmin(hi, .)
      out[r * n + c] = clamped < hi ? clamped : hi;
    }
  }
  return out;
}

/** The two builds on a memory of their own, with a bump allocator. */
function kernels() {
  const memory = new WebAssembly.Memory({ initial: 256 }); // 16 MiB
  const builds: [string, KernelExports][] = (["relaxed", "muladd"] as const).map((v) => [
    v,
    instantiateKernel(kernelModule(v, false), memory),
  ]);
  let top = 1024;
  const alloc = (bytes: number) => {
    const at = top;
    top += Math.ceil(bytes / 64) * 64 + 64;
    return at;
  };
  const put = (data: Float32Array) => {
    const at = alloc(data.byteLength);
    new Float32Array(memory.buffer, at, data.length).set(data);
    return at;
  };
  const reset = () => void (top = 1024);
  return { memory, builds, alloc, put, reset };
}

/** Activations as a ReLU6 gives them, and some it never gives (beyond 6, negative, NaN). */
function activations(count: number, random: () => number): Float32Array {
  const special = [0, 6, 7, 1e9, -0, -1, NaN, Infinity, 0.5, 1.5, 2.5, 126.5 / 21.1666];
  return Float32Array.from(
    { length: count },
    (_, i) => i % 7 === 3 ? special[i % special.length] : random() < 0.3 ? 0 : random() * 6,
  );
}

const CLAMPS: [string, number, number][] = [
  ["linear", -Infinity, Infinity],
  ["relu", 0, Infinity],
  ["relu6", 0, 6],
];

Deno.test("int8 GEMM: both builds equal the scalar reference bit for bit on odd shapes", () => {
  const { memory, builds, alloc, put, reset } = kernels();
  const random = mulberry32(19);
  const normal = () => (random() + random() + random() - 1.5) * 0.3;
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [1, 1024, 1000],
    [2, 3, 7],
    [5, 17, 9],
    [7, 4, 8],
    [13, 33, 21],
    [50, 64, 24],
    [6, 5, 3],
  ];
  for (const [m, k, n] of shapes) {
    for (const [activation, lo, hi] of CLAMPS) {
      for (const [withExtras, levels] of [[false, 127], [true, 127], [false, 254], [true, 254]]) {
        reset();
        const w = Float32Array.from({ length: k * n }, normal);
        for (let i = 0; i < k; i++) w[i * n + (n - 1)] = 0; // a column of zeros
        const bias = withExtras ? Float32Array.from({ length: n }, normal) : undefined;
        const mean = withExtras ? Float32Array.from({ length: k }, () => random() * 3) : undefined;
        const x = activations(m * k, random);
        const aScale = withExtras ? 6 / 127 : 1 / 21.1666; // 21.1666: ties in x * inv
        const inv = f(1 / f(aScale));
        const expected = referenceGemm(
          x,
          m,
          k,
          n,
          referencePack(w, k, n, aScale, mean, bias),
          inv,
          lo,
          hi,
          levels as number,
        );
        const wide = levels === 254;
        const depth = wide ? 2 * ((k + 3) & ~3) : k; // the GEMM's inner dimension
        const at = { w: put(w), x: put(x), bias: bias ? put(bias) : 0, mean: mean ? put(mean) : 0 };
        for (const [name, kernel] of builds) {
          const packed = alloc(kernel.q8_packed_bytes(depth, n));
          kernel.q8_pack(at.w, packed, k, n, aScale, at.mean, at.bias, +wide);
          const kp = (depth + 3) & ~3;
          const q = alloc(m * kp);
          // quantized in two row ranges
          kernel.q8_quant(at.x, q, k, 0, m >> 1, inv, levels as number);
          kernel.q8_quant(at.x, q, k, m >> 1, m, inv, levels as number);
          if (wide) {
            const row = Array.from(new Uint8Array(memory.buffer, q + (m - 1) * kp, kp));
            assertEquals(row, referenceWideRow(x.subarray((m - 1) * k), inv), `${name} split`);
          }
          const c = alloc(m * n * 4);
          const biasAt = packed + kernel.q8_bias_offset(depth, n);
          const panels = Math.ceil(n / kernel.q8_nr());
          // rows in blocks of one tile, panels in two ranges
          const mr = kernel.q8_mr();
          const split = panels >> 1;
          kernel.q8_run(q, packed, biasAt, c, 0, m, 0, split, kp, n, lo, hi, mr);
          kernel.q8_run(q, packed, biasAt, c, 0, m, split, panels, kp, n, lo, hi, mr);
          const got = new Float32Array(memory.buffer, c, m * n);
          const what = `${name} [${m}, ${k}] x [${k}, ${n}] ${activation}${
            withExtras ? " +bias+means" : ""
          } levels ${levels}`;
          assertEquals(Array.from(got), Array.from(expected), what);
          // the whole range at once, one row block: the same bits
          const whole = alloc(m * n * 4);
          kernel.q8_run(q, packed, biasAt, whole, 0, m, 0, panels, kp, n, lo, hi, 1 << 20);
          assertEquals(Array.from(new Float32Array(memory.buffer, whole, m * n)), Array.from(got));
        }
      }
    }
  }
});

Deno.test("int8 quantization with 254 levels: 0..254 split into two bytes 0..127", () => {
  const { memory, builds, put, alloc } = kernels();
  // 17 values: one SIMD block of 16 and a scalar tail of 1, padded to 20
  const x = Float32Array.from([
    0,
    126.5,
    127,
    127.5,
    128,
    200,
    253.5,
    254,
    255,
    1e9,
    -3,
    NaN,
    0.5,
    1.5,
    300,
    64,
    254.4,
  ]);
  const q = [0, 126, 127, 128, 128, 200, 254, 254, 254, 254, 0, 0, 0, 2, 254, 64, 254];
  const expected = referenceWideRow(x, 1);
  assertEquals(
    expected.filter((_, i) => (i & 4) === 0).slice(0, 17).map((t1, i) =>
      t1 + expected[(i >> 2) * 8 + (i & 3) + 4]
    ),
    q,
  );
  for (const [name, kernel] of builds) {
    const at = put(x);
    const out = alloc(40);
    kernel.q8_quant(at, out, x.length, 0, 1, 1, 254);
    assertEquals(Array.from(new Uint8Array(memory.buffer, out, 40)), expected, name);
  }
});

Deno.test("int8 quantization of activations: 0..127, ties to even, NaN and negatives to 0", () => {
  const { memory, builds, put, alloc } = kernels();
  const x = Float32Array.from([0, 0.5, 1.5, 2.5, 126.4, 126.5, 127.5, 300, -3, NaN, -0, 63.5]);
  const expected = [0, 0, 2, 2, 126, 126, 127, 127, 0, 0, 0, 64];
  for (const [name, kernel] of builds) {
    const at = put(x);
    const q = alloc(16);
    kernel.q8_quant(at, q, x.length, 0, 1, 1, 0);
    assertEquals(Array.from(new Uint8Array(memory.buffer, q, 12)), expected, name);
    // one row of 3: zero padding up to 4 bytes
    kernel.q8_quant(at, q, 3, 0, 1, 2, 0);
    assertEquals(Array.from(new Uint8Array(memory.buffer, q, 4)), [0, 1, 3, 0], name);
  }
});

Deno.test("planInt8 takes [..., k] x [1, ..., 1, k, n] float32 with a valid scale", () => {
  const info = (shape: number[], dtype = "float32") =>
    ({ dataId: {}, shape, dtype }) as unknown as tf.TensorInfo;
  const x = info([1, 7, 7, 32]);
  const filter = info([1, 1, 32, 64]);
  assertEquals(planInt8({ x, filter, bias: info([64]), mean: info([32]) }, { scale: 0.05 }), {
    m: 49,
    k: 32,
    n: 64,
    scale: 0.05,
    levels: 127,
    lo: -Infinity,
    hi: Infinity,
    outShape: [1, 7, 7, 64],
  });
  assertEquals(
    planInt8({ x: info([2, 1024]), filter: info([1024, 10]) }, {
      scale: 1,
      activation: "relu6",
    })?.hi,
    6,
  );
  assertEquals(planInt8({ x, filter }, { scale: 1, levels: 254 })?.levels, 254);
  const refused: [string, Parameters<typeof planInt8>][] = [
    ["no scale", [{ x, filter }, {}]],
    ["zero scale", [{ x, filter }, { scale: 0 }]],
    ["subnormal scale", [{ x, filter }, { scale: 1e-45 }]],
    ["3x3 filter", [{ x, filter: info([3, 3, 32, 64]) }, { scale: 1 }]],
    ["channels", [{ x, filter: info([1, 1, 31, 64]) }, { scale: 1 }]],
    ["bias length", [{ x, filter, bias: info([63]) }, { scale: 1 }]],
    ["mean length", [{ x, filter, mean: info([64]) }, { scale: 1 }]],
    ["int32 input", [{ x: info([1, 7, 7, 32], "int32"), filter }, { scale: 1 }]],
    ["leakyrelu", [{ x, filter }, { scale: 1, activation: "leakyrelu" }]],
    ["levels 255", [{ x, filter }, { scale: 1, levels: 255 }]],
    ["levels as text", [{ x, filter }, { scale: 1, levels: "254" }]],
  ];
  for (const [what, args] of refused) assertEquals(planInt8(...args), undefined, what);
});

Deno.test("the choice of int8 kernels follows the float32 build, and says why it falls back", () => {
  assertEquals(chooseInt8("relaxed-simd", "auto", true).int8, "relaxed-dot");
  assertEquals(chooseInt8("simd-muladd", "simd-muladd", true).int8, "simd-dot16");
  // no relaxed SIMD: XNNPACK's float32, and the 16-bit dot for int8 (measured faster)
  assertEquals(chooseInt8("xnnpack", "auto", true), {
    int8: "simd-dot16",
    why: "no relaxed SIMD; the 16-bit dot measured faster than float32",
  });
  assertEquals(chooseInt8("xnnpack", "relaxed-simd", true).int8, "simd-dot16");
  assertMatch(chooseInt8("xnnpack", "xnnpack", true).why, /MOBILENET_EDGE_KERNELS=xnnpack/);
  assertEquals(chooseInt8("xnnpack", "xnnpack", true).int8, "none");
  assertEquals(chooseInt8("xnnpack", "auto", false), {
    int8: "none",
    why: "no WASM SIMD: int8 runs as float32",
  });
});

const MODEL = "0.75_224";
/** The bundled int8 models: 0.75/224 (7-bit activations) and 0.25/224 (8-bit on 9 layers). */
const MODELS = ["0.75_224", "0.25_224"] as const;

/** Top-1 index. */
const argmax = (p: ArrayLike<number>) => {
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
  return best;
};

for (const [kernels, int8] of [["relaxed-simd", "relaxed-dot"], ["simd-muladd", "simd-dot16"]]) {
  Deno.test(`${int8}: int8 models against float32 on the stored inputs, 1 and 2 threads`, async () => {
    for (const model of MODELS) await againstFloat(model, kernels, int8);
  });
}

/** The bundled int8 `MODEL` against float32 on the reference inputs, 1 and 2 threads. */
async function againstFloat(
  MODEL: (typeof MODELS)[number],
  kernels: string,
  int8: string,
): Promise<void> {
  const reference = (await readReference(MODEL)).filter((e) => e.probs);
  const inputs = await Promise.all(reference.map((e) => readInput(e.file)));
  const results: Float32Array[][] = [];
  for (const threads of [1, 2]) {
    await withKernels(kernels, threads, async (info) => {
      assertEquals(info.int8?.kernels, int8, info.reason);
      assertMatch(info.reason, new RegExp(`int8: ${int8}`));
      const float = await loadMobileNet({ model: MODEL, threads });
      const model = await loadMobileNet({ model: MODEL, threads, precision: "int8" });
      assertEquals([float.precision, model.precision], ["float32", "int8"]);
      const probs: Float32Array[] = [];
      for (const [i, data] of inputs.entries()) {
        const p = model.predict({ data, shape: [1, 224, 224, 3] });
        const q = float.predict({ data, shape: [1, 224, 224, 3] });
        // Tolerance: the same top-1, probabilities within 0.08 (measured at most 0.053 on
        // 0.75/224, grace_hopper, and 0.025 on 0.25/224; on 398 photos the same top-1 on
        // 98% and 97.5%, bench/int8_eval.ts)
        const what = `${MODEL} ${int8} ${threads}T ${reference[i].file}`;
        assertEquals(argmax(p), argmax(q), what);
        assert(p.every((v, j) => Math.abs(v - q[j]) <= 0.08), what);
        probs.push(p);
      }
      results.push(probs);
      if (threads === 2) assert(activeKernels()!.workerChunks > 0, "the worker took part");
      await float.dispose();
      await model.dispose();
    });
  }
  // integer sums and float32 kernels that do not depend on the split: the same bits
  assertEquals(results[1].map((p) => Array.from(p)), results[0].map((p) => Array.from(p)));
}

Deno.test("no int8 kernels (XNNPACK forced, or no SIMD): int8 models run float32, and say so", async () => {
  const { tensors } = await loadWeights(
    new URL(`../../weights/mobilenet_v1_${MODEL}/`, import.meta.url),
  );
  await withKernels("xnnpack", 1, async (info) => {
    assertEquals(info.int8?.kernels, "none");
    assertMatch(info.int8!.reason, /MOBILENET_EDGE_KERNELS=xnnpack/);
    assertEquals(tf.getKernel(INT8_KERNEL, "wasm"), undefined);
    const model = await createMobileNet(tensors, { alpha: 0.75, precision: "int8" });
    assertEquals(model.precision, "float32");
    await model.dispose();
  });
  await withEnv({ [KERNELS_ENV]: undefined }, async () => {
    await shutdownBackend();
    try {
      const info = await initBackend({ simd: false, threads: 1 });
      assertEquals(info.int8, { kernels: "none", reason: "no WASM SIMD: int8 runs as float32" });
    } finally {
      await shutdownBackend();
    }
  });
});

Deno.test("precision and int8 options are checked before anything runs", async () => {
  const { tensors } = await loadWeights(
    new URL(`../../weights/mobilenet_v1_0.25_224/`, import.meta.url),
  );
  const before = tf.engine().state.numTensors;
  await assertRejects(
    // deno-lint-ignore no-explicit-any
    () => createMobileNet(tensors, { alpha: 0.25, precision: "int4" as any }),
    RangeError,
    "precision",
  );
  await assertRejects(
    () => loadMobileNet({ model: "0.25_224", precision: "half" as "int8" }),
    RangeError,
    "precision",
  );
  await assertRejects(
    () =>
      createMobileNet(tensors, {
        alpha: 0.25,
        precision: "int8",
        int8: { scales: { conv_pw_1: -1 } },
      }),
    RangeError,
    "conv_pw_1",
  );
  await assertRejects(
    () =>
      createMobileNet(tensors, {
        alpha: 0.25,
        precision: "int8",
        int8: { scales: { conv_pw_2: 0.05 }, means: { conv_pw_2: [1, 2] } },
      }),
    RangeError,
    "means of conv_pw_2",
  );
  assertEquals(tf.engine().state.numTensors, before, "nothing left behind");
});
