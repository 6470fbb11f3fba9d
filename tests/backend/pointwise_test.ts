/**
 * Our pointwise kernels (src/backend/pointwise/): which calls they take, the split of a GEMM
 * between threads, the choice of build, and results against XNNPACK's kernels (random shapes
 * with sizes that are not multiples of the tile, every activation) and against the reference
 * outputs (whole model on the stored input tensors) on every path: relaxed SIMD, mul + add and
 * XNNPACK, on 1 and 2 threads.
 */
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import {
  assert,
  assertAllClose,
  assertEquals,
  assertMatch,
  assertStrictEquals,
  assertThrows,
} from "../_assert.ts";
import { readInput, readReference } from "../_fixtures.ts";
import { KERNELS_ENV, parseKernelsEnv, resolveOptions } from "../../src/backend/flags.ts";
import { chunkAt, chunking, type Tiling } from "../../src/backend/pointwise/gemm.ts";
import { chooseKernels } from "../../src/backend/pointwise/install.ts";
import { activeKernels } from "../../src/backend/wasm.ts";
import {
  planConv3x3,
  planDepthwise,
  planMatMul,
  planMean,
  planPointwise,
} from "../../src/backend/pointwise/kernel.ts";
import { kernelBytes, probeRelaxedSimd } from "../../src/backend/pointwise/module.ts";
import * as embedded from "../../src/backend/pointwise/pointwise_wasm.ts";
import { sha256Hex } from "../../src/weights/sha256.ts";
import { initBackend, setThreads, shutdownBackend } from "../../src/backend/wasm.ts";
import { buildArchitecture } from "../../src/model/architecture.ts";
import { withEnv, withKernels } from "./_kernels.ts";
import { MobileNetNetwork } from "../../src/model/mobilenet.ts";
import { loadWeights } from "../../src/weights/loader.ts";

const info = (shape: number[], dtype = "float32") =>
  ({ dataId: {}, shape, dtype }) as unknown as tf.TensorInfo;

Deno.test("planDepthwise takes 3x3, multiplier 1, stride 1 or 2, NHWC, channels a multiple of 4", () => {
  const x = info([1, 9, 9, 8]);
  const filter = info([3, 3, 8, 1]);
  const base = { strides: [2, 2], pad: "same", dilations: [1, 1], dataFormat: "NHWC" };
  const plan = planDepthwise({ x, filter }, { ...base, activation: "relu6" });
  assertEquals([plan?.oh, plan?.ow, plan?.stride, plan?.padTop, plan?.rows], [5, 5, 2, 1, 5]);
  assertEquals(planDepthwise({ x, filter }, { ...base, pad: "valid" })?.padTop, 0);
  const refused: [string, Parameters<typeof planDepthwise>][] = [
    ["5x5", [{ x, filter: info([5, 5, 8, 1]) }, base]],
    ["multiplier 2", [{ x, filter: info([3, 3, 8, 2]) }, base]],
    ["6 channels", [{ x: info([1, 9, 9, 6]), filter: info([3, 3, 6, 1]) }, base]],
    ["stride 3", [{ x, filter }, { ...base, strides: 3 }]],
    ["strides 1x2", [{ x, filter }, { ...base, strides: [1, 2] }]],
    ["dilation 2", [{ x, filter }, { ...base, strides: 1, dilations: 2 }]],
    ["explicit padding", [{ x, filter }, { ...base, pad: [[0, 0], [1, 1], [1, 1], [0, 0]] }]],
    ["leakyrelu", [{ x, filter }, { ...base, activation: "leakyrelu" }]],
    ["NCHW", [{ x, filter }, { ...base, dataFormat: "NCHW" }]],
  ];
  for (const [what, args] of refused) assertEquals(planDepthwise(...args), undefined, what);
});

Deno.test("planConv3x3 takes 3x3 over at most 8 input channels, stride 1 or 2, NHWC float32", () => {
  const x = info([1, 224, 224, 3]);
  const filter = info([3, 3, 3, 32]);
  const base = { strides: [2, 2], pad: "same", dilations: [1, 1], dataFormat: "NHWC" };
  const plan = planConv3x3({ x, filter, bias: info([32]) }, { ...base, activation: "relu6" });
  assertEquals(
    [plan?.oh, plan?.ow, plan?.padTop, plan?.padLeft, plan?.rows, plan?.cin, plan?.n, plan?.hi],
    [112, 112, 0, 0, 112, 3, 32, 6],
  );
  const valid = planConv3x3({ x: info([2, 9, 7, 8]), filter: info([3, 3, 8, 5]) }, {
    ...base,
    strides: 1,
    pad: "valid",
  });
  assertEquals([valid?.oh, valid?.ow, valid?.rows, valid?.lo], [7, 5, 14, -Infinity]);
  const refused: [string, Parameters<typeof planConv3x3>][] = [
    ["9 input channels", [{ x: info([1, 9, 9, 9]), filter: info([3, 3, 9, 4]) }, base]],
    ["5x5", [{ x, filter: info([5, 5, 3, 32]) }, base]],
    ["1x1 (the GEMM's)", [{ x, filter: info([1, 1, 3, 32]) }, base]],
    ["stride 3", [{ x, filter }, { ...base, strides: 3 }]],
    ["dilation 2", [{ x, filter }, { ...base, strides: 1, dilations: 2 }]],
    ["explicit padding", [{ x, filter }, { ...base, pad: [[0, 0], [1, 1], [1, 1], [0, 0]] }]],
    ["bias of another length", [{ x, filter, bias: info([31]) }, base]],
    ["int32 input", [{ x: info([1, 224, 224, 3], "int32"), filter }, base]],
    ["prelu", [{ x, filter, preluActivationWeights: info([32]) }, base]],
    ["NCHW", [{ x, filter }, { ...base, dataFormat: "NCHW" }]],
    ["empty", [{ x: info([0, 224, 224, 3]), filter }, base]],
  ];
  for (const [what, args] of refused) assertEquals(planConv3x3(...args), undefined, what);
});

Deno.test("planMatMul takes [b, m, k] x [1, k, n] untransposed; planMean the pixels of NHWC", () => {
  const a = info([1, 1, 1024]);
  const b = info([1, 1024, 1000]);
  assertEquals(planMatMul({ a, b, bias: info([1000]) }, {}), {
    m: 1,
    k: 1024,
    n: 1000,
    lo: -Infinity,
    hi: Infinity,
    outShape: [1, 1, 1000],
  });
  assertEquals(
    planMatMul({ a: info([3, 5, 7]), b: info([1, 7, 2]) }, { activation: "relu" })?.m,
    15,
  );
  const refusedMatMul: [string, Parameters<typeof planMatMul>][] = [
    ["transposeB", [{ a, b: info([1, 1000, 1024]) }, { transposeB: true }]],
    ["transposeA", [{ a: info([1, 1024, 1]), b }, { transposeA: true }]],
    ["batched b", [{ a: info([2, 1, 1024]), b: info([2, 1024, 1000]) }, {}]],
    ["inner mismatch", [{ a: info([1, 1, 1000]), b }, {}]],
    ["bias of another length", [{ a, b, bias: info([10]) }, {}]],
    ["leakyrelu", [{ a, b }, { activation: "leakyrelu" }]],
  ];
  for (const [what, args] of refusedMatMul) assertEquals(planMatMul(...args), undefined, what);
  const x = info([2, 7, 7, 1024]);
  assertEquals(planMean({ x }, { axis: [1, 2], keepDims: false }), {
    images: 2,
    pixels: 49,
    channels: 1024,
    outShape: [2, 1024],
  });
  assertEquals(planMean({ x }, { axis: [1, -2], keepDims: true })?.outShape, [2, 1, 1, 1024]);
  const refusedMean: [string, Parameters<typeof planMean>][] = [
    ["channels", [{ x }, { axis: 3 }]],
    ["all axes", [{ x }, { axis: [0, 1, 2, 3] }]],
    ["height only", [{ x }, { axis: 1 }]],
    ["width, then height", [{ x }, { axis: [2, 1] }]],
    ["6 channels", [{ x: info([1, 7, 7, 6]) }, { axis: [1, 2] }]],
    ["rank 3", [{ x: info([7, 7, 8]) }, { axis: [1, 2] }]],
    ["int32", [{ x: info([1, 7, 7, 8], "int32") }, { axis: [1, 2] }]],
  ];
  for (const [what, args] of refusedMean) assertEquals(planMean(...args), undefined, what);
});

Deno.test("planPointwise takes 1x1, stride 1, unpadded NHWC float32 with linear/relu/relu6 only", () => {
  const x = info([2, 5, 7, 3]);
  const filter = info([1, 1, 3, 4]);
  const bias = info([4]);
  const base = { strides: [1, 1], pad: "same", dilations: [1, 1], dataFormat: "NHWC" };
  const plan = planPointwise({ x, filter, bias }, { ...base, activation: "relu6" });
  assertEquals(plan, { m: 70, k: 3, n: 4, lo: 0, hi: 6, outShape: [2, 5, 7, 4] });
  assertEquals(planPointwise({ x, filter }, { ...base, activation: "relu" })?.hi, Infinity);
  assertEquals(planPointwise({ x, filter }, { strides: 1, pad: "valid" })?.lo, -Infinity);
  assertEquals(
    planPointwise({ x, filter }, { ...base, pad: [[0, 0], [0, 0], [0, 0], [0, 0]] })?.m,
    70,
  );
  const refused: [string, Parameters<typeof planPointwise>][] = [
    ["3x3 filter", [{ x, filter: info([3, 3, 3, 4]) }, base]],
    ["stride 2", [{ x, filter }, { ...base, strides: [2, 2] }]],
    ["dilation 2", [{ x, filter }, { ...base, dilations: 2 }]],
    ["NCHW", [{ x, filter }, { ...base, dataFormat: "NCHW" }]],
    ["explicit padding", [{ x, filter }, { ...base, pad: [[0, 0], [1, 1], [1, 1], [0, 0]] }]],
    ["numeric padding", [{ x, filter }, { ...base, pad: 1 }]],
    ["leakyrelu", [{ x, filter }, { ...base, activation: "leakyrelu" }]],
    ["sigmoid", [{ x, filter }, { ...base, activation: "sigmoid" }]],
    ["prelu", [{ x, filter, preluActivationWeights: info([4]) }, { ...base, activation: "prelu" }]],
    ["bias of another length", [{ x, filter, bias: info([1]) }, base]],
    ["int32 input", [{ x: info([2, 5, 7, 3], "int32"), filter }, base]],
    ["channel mismatch", [{ x: info([2, 5, 7, 5]), filter }, base]],
    ["empty input", [{ x: info([0, 5, 7, 3]), filter }, base]],
  ];
  for (const [what, args] of refused) assertEquals(planPointwise(...args), undefined, what);
});

Deno.test("chunking covers every row and panel exactly once, in whole tiles", () => {
  const tiling: Tiling = { mr: 6, nr: 8, blockBytes: 1 << 17 };
  const cases = [[49, 1024, 2], [12544, 64, 2], [1, 1, 2], [7, 9, 3], [196, 512, 4], [5, 8, 2], [
    784,
    256,
    8,
  ], [30, 30, 1]];
  for (const [m, n, threads] of cases) {
    const c = chunking(m, n, threads, tiling);
    assert(c.count >= 1 && c.count <= Math.max(1, 4 * threads), `${m}x${n}: ${c.count} chunks`);
    assertEquals(c.rows % 6, 0);
    const panels = Math.ceil(n / 8);
    const seen = new Uint8Array(m * panels);
    for (let i = 0; i < c.count; i++) {
      const s = chunkAt(c, i);
      assert(s.m0 < s.m1 && s.p0 < s.p1, `${m}x${n} chunk ${i} is empty`);
      for (let r = s.m0; r < s.m1; r++) for (let p = s.p0; p < s.p1; p++) seen[r * panels + p]++;
    }
    assert(seen.every((v) => v === 1), `${m}x${n} on ${threads} threads: ${JSON.stringify(c)}`);
  }
  // small m, wide n: along the panels (each chunk reads its part of the filter)
  const wide = chunking(49, 1024, 2, tiling);
  assertEquals([wide.rows >= 49, wide.count], [true, 8]);
  // tall m: along the rows
  assertEquals(chunking(12544, 64, 2, tiling).panelChunks, 1);
  assertEquals(chunking(12544, 64, 1, tiling).count, 1);
});

Deno.test("the choice of kernels: forced, no SIMD, relaxed SIMD, mul + add", () => {
  const yes = { ok: true, detail: "relaxed SIMD validates" };
  const no = { ok: false, detail: "relaxed SIMD does not validate" };
  assertEquals(chooseKernels("auto", true, yes).choice, "relaxed-simd");
  // without relaxed SIMD: XNNPACK, which measured faster than our mul + add build
  assertEquals(chooseKernels("auto", true, no).choice, "xnnpack");
  assertMatch(chooseKernels("auto", true, no).why, /does not validate; mul \+ add not faster/);
  assertEquals(chooseKernels("auto", false, yes), { choice: "xnnpack", why: "no WASM SIMD" });
  assertEquals(chooseKernels("xnnpack", true, yes), {
    choice: "xnnpack",
    why: `${KERNELS_ENV}=xnnpack`,
  });
  assertEquals(chooseKernels("simd-muladd", true, yes).choice, "simd-muladd");
  assertEquals(chooseKernels("relaxed-simd", true, no).choice, "xnnpack");
  assertMatch(chooseKernels("relaxed-simd", true, no).why, /^relaxed-simd asked, but relaxed SIMD/);
  assertEquals(chooseKernels("relaxed-simd", false, yes).choice, "xnnpack");
});

Deno.test("MOBILENET_EDGE_KERNELS is parsed strictly, absent when unset", () => {
  assertEquals(parseKernelsEnv(" XNNPACK "), "xnnpack");
  assertEquals(parseKernelsEnv("relaxed-simd"), "relaxed-simd");
  assertEquals(parseKernelsEnv(""), undefined);
  assertThrows(() => parseKernelsEnv("fast"), RangeError, KERNELS_ENV);
  const env = (value?: string) => (name: string) => name === KERNELS_ENV ? value : undefined;
  assertEquals(resolveOptions({}, env("simd-muladd")).kernels, "simd-muladd");
  assertEquals("kernels" in resolveOptions({}, env()), false);
  assertThrows(() => resolveOptions({}, env("avx")), RangeError, KERNELS_ENV);
});

Deno.test("the embedded modules: relaxed SIMD probe, checksums, no data section, no stack", async () => {
  assert(probeRelaxedSimd().ok, "Deno 2.9's V8 has relaxed SIMD");
  for (const variant of ["relaxed", "muladd"] as const) {
    for (const shared of [false, true]) {
      const bytes = kernelBytes(variant, shared);
      const prefix = `POINTWISE_${variant.toUpperCase()}${shared ? "_SHARED" : ""}_WASM`;
      const constants = embedded as Record<string, unknown>;
      assertEquals(bytes.length, constants[`${prefix}_BYTES`]);
      assertEquals(await sha256Hex(bytes), constants[`${prefix}_SHA256`]);
      const module = new WebAssembly.Module(bytes as BufferSource);
      assertEquals(
        WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}:${i.kind}`),
        ["env.memory:memory"],
      );
      assertEquals(
        WebAssembly.Module.exports(module).filter((e) => e.kind !== "function").map((e) => e.name),
        [],
        "exports functions only (no memory, no __stack_pointer)",
      );
      // section ids in order: no data (11) or data count (12) section
      const ids: number[] = [];
      for (let at = 8; at < bytes.length;) {
        ids.push(bytes[at++]);
        let size = 0;
        for (let shift = 0;; shift += 7) {
          const b = bytes[at++];
          size |= (b & 0x7f) << shift;
          if (b < 0x80) break;
        }
        at += size;
      }
      assert(!ids.includes(11) && !ids.includes(12), `${variant}: sections ${ids}`);
    }
  }
});

const SHAPES: [[number, number, number, number], number, string, boolean][] = [
  // [x shape, output channels, activation, bias]
  [[1, 7, 5, 13], 29, "relu6", true],
  [[2, 3, 3, 1], 1, "linear", true],
  [[1, 1, 1, 9], 17, "relu", false],
  [[1, 11, 13, 33], 65, "relu6", true],
  [[3, 5, 1, 64], 24, "linear", false],
  [[1, 14, 14, 96], 100, "relu6", true],
  [[1, 7, 7, 1024], 1000, "linear", true],
  [[1, 1, 1, 768], 1001, "linear", true],
];

const DEPTHWISE: [[number, number, number, number], 1 | 2, "same" | "valid", string, boolean][] = [
  // [x shape, stride, padding, activation, bias]
  [[1, 7, 9, 4], 1, "same", "relu6", true],
  [[2, 8, 8, 8], 2, "same", "linear", false],
  [[1, 9, 7, 12], 2, "same", "relu", true],
  [[1, 6, 5, 4], 1, "valid", "relu6", true],
  [[1, 11, 11, 36], 2, "valid", "linear", true],
  [[1, 1, 1, 8], 1, "same", "relu6", true],
  [[1, 2, 3, 4], 2, "same", "linear", true],
  [[1, 28, 28, 256], 2, "same", "relu6", true],
  // 512 channels and more: the pixel-major path
  [[1, 9, 7, 512], 1, "same", "relu6", true],
  [[2, 8, 8, 512], 2, "same", "linear", false],
  [[1, 5, 6, 1024], 1, "valid", "relu", true],
];

/** The largest absolute value of `values`, at least 1 (a tolerance scale). */
function scaleOf(values: ArrayLike<number>): number {
  let scale = 1;
  for (let i = 0; i < values.length; i++) scale = Math.max(scale, Math.abs(values[i]));
  return scale;
}

/** Depthwise 3x3 through ours and XNNPACK's (by disabling ours), compared. */
function compareDepthwise(what: string): void {
  const kernels = activeKernels()!;
  for (const [shape, stride, pad, activation, withBias] of DEPTHWISE) {
    tf.tidy(() => {
      const c = shape[3];
      const x = tf.randomUniform(shape, -2, 2, "float32", 5) as tf.Tensor4D;
      const filter = tf.randomNormal([3, 3, c, 1], 0, 0.5, "float32", 6) as tf.Tensor4D;
      const bias = withBias ? tf.randomNormal([c], 0, 1, "float32", 7) as tf.Tensor1D : undefined;
      const run = () => [
        tf.fused.depthwiseConv2d({
          x,
          filter,
          bias,
          strides: stride,
          pad,
          activation: activation as "relu6",
        }),
        tf.depthwiseConv2d(x, filter, stride, pad),
      ];
      kernels.enable();
      const ours = run();
      kernels.disable();
      const theirs = run();
      kernels.enable();
      const label = `${what} depthwise [${shape}] s${stride} ${pad} ${activation}`;
      for (const [i, kind] of ["FusedDepthwiseConv2D", "DepthwiseConv2dNative"].entries()) {
        assertEquals(ours[i].shape, theirs[i].shape, label);
        const b = theirs[i].dataSync();
        assertAllClose(
          ours[i].dataSync(),
          b,
          1e-5 * scaleOf(b),
          `${label} ${kind}`,
        );
      }
    });
  }
}

const CONV3X3: [
  [number, number, number, number],
  number,
  1 | 2,
  "same" | "valid",
  string,
  boolean,
][] = [
  // [x shape, output channels, stride, padding, activation, bias]
  [[1, 224, 224, 3], 32, 2, "same", "relu6", true], // MobileNet's first layer
  [[1, 224, 224, 3], 24, 2, "same", "relu6", true], // 0.75
  [[2, 9, 11, 3], 13, 1, "same", "linear", false],
  [[1, 10, 7, 1], 8, 2, "valid", "relu", true],
  [[1, 13, 13, 8], 5, 2, "same", "linear", true],
  [[1, 3, 3, 4], 17, 1, "valid", "relu6", false],
  [[1, 2, 2, 2], 9, 1, "same", "relu6", true], // every output next to the border
  [[3, 31, 17, 3], 40, 2, "same", "relu6", true],
];

/** 3x3 convolutions of few channels, the classifier's matrix product and the mean, ours against
 * XNNPACK's and tfjs' own kernels (by disabling ours). */
function compareOtherKernels(what: string): void {
  const kernels = activeKernels()!;
  const both = (run: () => tf.Tensor[]) => {
    kernels.enable();
    const ours = run();
    kernels.disable();
    const theirs = run();
    kernels.enable();
    return [ours, theirs];
  };
  for (const [shape, cout, stride, pad, activation, withBias] of CONV3X3) {
    tf.tidy(() => {
      const x = tf.randomUniform(shape, -1, 1, "float32", 11) as tf.Tensor4D;
      const filter = tf.randomNormal([3, 3, shape[3], cout], 0, 0.3, "float32", 12) as tf.Tensor4D;
      const bias = withBias
        ? tf.randomNormal([cout], 0, 1, "float32", 13) as tf.Tensor1D
        : undefined;
      const [ours, theirs] = both(() => [
        tf.fused.conv2d({
          x,
          filter,
          bias,
          strides: stride,
          pad,
          activation: activation as "relu",
        }),
        tf.conv2d(x, filter, stride, pad),
      ]);
      const label = `${what} conv3x3 [${shape}] -> ${cout} s${stride} ${pad} ${activation}`;
      for (let i = 0; i < 2; i++) {
        assertEquals(ours[i].shape, theirs[i].shape, label);
        const b = theirs[i].dataSync();
        assertAllClose(ours[i].dataSync(), b, 2e-5 * scaleOf(b), label);
      }
    });
  }
  for (
    const [rows, k, n, activation] of [[1, 1024, 1000, "linear"], [3, 17, 9, "relu6"], [
      8,
      33,
      40,
      "relu",
    ]] as const
  ) {
    tf.tidy(() => {
      const a = tf.randomUniform([rows, k], -1, 1, "float32", 14) as tf.Tensor2D;
      const b = tf.randomNormal([k, n], 0, 0.1, "float32", 15) as tf.Tensor2D;
      const bias = tf.randomNormal([n], 0, 1, "float32", 16) as tf.Tensor1D;
      const [[ours], [theirs]] = both(() => [tf.fused.matMul({ a, b, bias, activation })]);
      const label = `${what} matMul [${rows}, ${k}] x [${k}, ${n}] ${activation}`;
      assertEquals(ours.shape, [rows, n], label);
      const expected = theirs.dataSync();
      assertAllClose(
        ours.dataSync(),
        expected,
        2e-5 * scaleOf(expected),
        label,
      );
    });
  }
  for (const shape of [[1, 7, 7, 1024], [2, 5, 3, 12], [1, 1, 1, 4]] as const) {
    tf.tidy(() => {
      const x = tf.randomUniform([...shape], -3, 6, "float32", 17);
      const [ours, theirs] = both(() => [tf.mean(x, [1, 2]), tf.mean(x, [1, -2], true)]);
      // the same sums in the same order, divided the same way: identical
      assertEquals(ours[0].shape, [shape[0], shape[3]]);
      assertEquals(ours[1].shape, [shape[0], 1, 1, shape[3]]);
      assertEquals(ours[0].dataSync(), theirs[0].dataSync(), `${what} mean [${shape}]`);
      assertEquals(ours[1].dataSync(), theirs[1].dataSync(), `${what} mean [${shape}] keepDims`);
    });
  }
}

/** Runs every shape through ours and XNNPACK's (by disabling ours) and compares. */
function compareWithXnnpack(what: string): void {
  const kernels = activeKernels()!;
  for (const [shape, cout, activation, withBias] of SHAPES) {
    tf.tidy(() => {
      const cin = shape[3];
      const x = tf.randomUniform(shape, -2, 2, "float32", 7) as tf.Tensor4D;
      const filter = tf.randomNormal(
        [1, 1, cin, cout],
        0,
        1 / Math.sqrt(cin),
        "float32",
        8,
      ) as tf.Tensor4D;
      const bias = withBias
        ? tf.randomNormal([cout], 0, 1, "float32", 9) as tf.Tensor1D
        : undefined;
      const run = () => [
        tf.fused.conv2d({
          x,
          filter,
          bias,
          strides: 1,
          pad: "same",
          activation: activation as "relu6",
        }),
        tf.conv2d(x, filter, 1, "valid"),
      ];
      kernels.enable();
      const ours = run();
      kernels.disable();
      const theirs = run();
      kernels.enable();
      const label = `${what} [${shape}] -> ${cout} ${activation}${withBias ? " + bias" : ""}`;
      // float32 sums of up to 1024 terms of size ~1 in another order (and fused): 2e-5 relative
      for (const [i, kind] of ["FusedConv2D", "Conv2D"].entries()) {
        const a = ours[i].dataSync();
        const b = theirs[i].dataSync();
        const scale = scaleOf(b);
        assertAllClose(a, b, 2e-5 * scale, `${label} ${kind}`);
        if (activation === "relu6" && i === 0) assert(a.every((v) => v >= 0 && v <= 6), label);
      }
    });
  }
}

for (const kernels of ["relaxed-simd", "simd-muladd"]) {
  Deno.test(`${kernels}: matches XNNPACK on odd shapes on 1 and 2 threads; frees packed filters`, async () => {
    for (const threads of [1, 2]) {
      await withKernels(kernels, threads, async (info) => {
        assertEquals(info.kernels, kernels, info.reason);
        assertMatch(info.reason, new RegExp(`kernels: ${kernels} \\(${KERNELS_ENV}=${kernels}`));
        compareWithXnnpack(`${kernels} ${threads}T`);
        compareDepthwise(`${kernels} ${threads}T`);
        compareOtherKernels(`${kernels} ${threads}T`);
        if (threads === 2) {
          // the same sums in the same order whatever the split: bit-identical on 1 thread; run
          // until the worker has taken chunks of it (on a busy machine it may get no CPU)
          const x = tf.randomUniform([1, 14, 14, 512], -1, 1, "float32", 3) as tf.Tensor4D;
          const f = tf.randomNormal([1, 1, 512, 520], 0, 0.05, "float32", 4) as tf.Tensor4D;
          let two = tf.conv2d(x, f, 1, "same");
          const deadline = performance.now() + 10_000;
          for (let taken = activeKernels()!.workerChunks; performance.now() < deadline;) {
            two.dispose();
            two = tf.conv2d(x, f, 1, "same");
            if (activeKernels()!.workerChunks > taken) break;
            taken = activeKernels()!.workerChunks;
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
          assert(activeKernels()!.workerChunks > 0, "the worker took part");
          // every way of sharing the chunks gives the same values (1x1 and depthwise layers)
          const dw = tf.randomNormal([3, 3, 512, 1], 0, 0.1, "float32", 5) as tf.Tensor4D;
          const depthwise = () => tf.depthwiseConv2d(x, dw, 1, "same");
          const dwTwo = depthwise();
          for (const mode of ["affinity", "static", "dynamic"] as const) {
            activeKernels()!.scheduling = mode;
            assertEquals(activeKernels()!.scheduling, mode);
            const [pw, d] = [tf.conv2d(x, f, 1, "same"), depthwise()];
            assertEquals(pw.dataSync(), two.dataSync(), `1x1, ${mode}`);
            assertEquals(d.dataSync(), dwTwo.dataSync(), `depthwise, ${mode}`);
            tf.dispose([pw, d]);
          }
          await setThreads(1); // our threads follow XNNPACK's active pool
          const one = tf.conv2d(x, f, 1, "same");
          assertEquals(one.dataSync(), two.dataSync());
          assertEquals(depthwise().dataSync(), dwTwo.dataSync());
          tf.dispose([dw, dwTwo]);
          tf.dispose([x, f, one, two]);
          compareWithXnnpack(`${kernels} 2T switched to 1`);
        }
        const before = tf.engine().state.numTensors;
        const filter = tf.ones([1, 1, 8, 8]) as tf.Tensor4D;
        const x = tf.ones([1, 2, 2, 8]) as tf.Tensor4D;
        const y = tf.conv2d(x, filter, 1, "same");
        assertEquals(Array.from(y.dataSync()), new Array(32).fill(8));
        assert(activeKernels()!.packedBytes > 0);
        tf.dispose([filter, x, y]);
        assertEquals(activeKernels()!.packedBytes, 0, "the packed filter went with its tensor");
        assertEquals(tf.engine().state.numTensors, before);
        // the calls we do not take still work (XNNPACK's kernels): 3x3 over 16 channels, 5x5,
        // a mean over the channels
        const wide = tf.conv2d(
          tf.ones([1, 4, 4, 16]) as tf.Tensor4D,
          tf.ones([3, 3, 16, 1]) as tf.Tensor4D,
          1,
          "same",
        );
        assertEquals(wide.dataSync()[5], 144);
        const large = tf.conv2d(
          tf.ones([1, 5, 5, 2]) as tf.Tensor4D,
          tf.ones([5, 5, 2, 3]) as tf.Tensor4D,
          1,
          "valid",
        );
        assertEquals(Array.from(large.dataSync()), [50, 50, 50]);
        const across = tf.mean(tf.ones([1, 2, 2, 6]), 3);
        assertEquals(Array.from(across.dataSync()), [1, 1, 1, 1]);
        tf.dispose([wide, large, across]);
      });
    }
  });
}

Deno.test("MOBILENET_EDGE_KERNELS=xnnpack and simd: false keep XNNPACK's kernels registered", async () => {
  const original = tf.getKernel("FusedConv2D", "wasm").kernelFunc;
  await withKernels("xnnpack", 2, (info) => {
    assertEquals(info.kernels, "xnnpack");
    assertMatch(info.reason, /kernels: xnnpack \(MOBILENET_EDGE_KERNELS=xnnpack\)/);
    assertStrictEquals(tf.getKernel("FusedConv2D", "wasm").kernelFunc, original);
    assertEquals(activeKernels(), undefined);
  });
  await withEnv({ [KERNELS_ENV]: undefined }, async () => {
    try {
      const info = await initBackend({ simd: false, threads: 1 });
      assertEquals(info.kernels, "xnnpack");
      assertMatch(info.reason, /kernels: xnnpack \(no WASM SIMD\)/);
    } finally {
      await shutdownBackend();
    }
  });
  await withKernels("auto", 2, (info) => {
    assertEquals(info.kernels, "relaxed-simd");
    assert(tf.getKernel("FusedConv2D", "wasm").kernelFunc !== original);
  });
  assertStrictEquals(tf.getKernel("FusedConv2D", "wasm").kernelFunc, original, "restored");
});

const MODEL = "0.75_224";

for (const kernels of ["relaxed-simd", "simd-muladd", "xnnpack"]) {
  Deno.test(`${kernels}: the whole ${MODEL} model gives the reference outputs on 1 and 2 threads`, async () => {
    const { manifest, tensors } = await loadWeights(
      new URL(`../../weights/mobilenet_v1_${MODEL}/`, import.meta.url),
    );
    const reference = (await readReference(MODEL)).filter((e) => e.logits);
    assertEquals(reference.length, 5);
    for (const threads of [1, 2]) {
      await withKernels(kernels, threads, async (info) => {
        assertEquals(info.kernels, kernels);
        const network = new MobileNetNetwork(buildArchitecture({ alpha: manifest.model.alpha }));
        for (const [name, data] of tensors) network.addWeight(name, data);
        try {
          for (const entry of reference) {
            const input = tf.tensor4d(await readInput(entry.file), [1, 224, 224, 3]);
            const logits = network.run(input, "logits");
            const probs = network.run(input, "probabilities");
            const what = `${kernels} ${threads}T ${entry.file}`;
            assertAllClose(logits.dataSync(), entry.logits!, 5e-3, `${what} logits`);
            assertAllClose(probs.dataSync(), entry.probs!, 2e-4, `${what} probabilities`);
            tf.dispose([input, logits, probs]);
          }
        } finally {
          network.dispose();
        }
      });
    }
  });
}

Deno.test("adopted filters and block kernels: the same outputs, nothing packed, XNNPACK still right", async () => {
  const { manifest, tensors } = await loadWeights(
    new URL("../../weights/mobilenet_v1_0.25_224/", import.meta.url),
  );
  const [entry] = (await readReference("0.25_224")).filter((e) => e.logits);
  await withKernels("relaxed-simd", 2, async () => {
    const kernels = activeKernels()!;
    const packing = kernels.filterPacking!;
    assertEquals(packing.panel, 8);
    const arch = buildArchitecture({ alpha: manifest.model.alpha });
    const build = (adopt: boolean) => {
      const options = adopt ? { packing, separable: kernels.separable } : {};
      const network = new MobileNetNetwork(arch, options);
      for (const [name, data] of tensors) network.addWeight(name, data);
      return network;
    };
    const input = tf.tensor4d(await readInput(entry.file), [1, 224, 224, 3]);
    const logits = (network: MobileNetNetwork) =>
      tf.tidy(() => network.run(input, "logits").dataSync());
    const plain = build(false);
    const expected = logits(plain);
    const packedByPlain = kernels.packedBytes;
    assert(packedByPlain > 0, "packed on first use");
    plain.dispose();
    assertEquals(kernels.packedBytes, 0);
    const adopted = build(true);
    try {
      assertEquals(logits(adopted), expected, "bit for bit the same logits");
      // only the first 3x3 convolution's panels ([27, 8] floats), packed on first use: the 1x1
      // filters and the classifier are their own panels
      assertEquals(kernels.packedBytes, 27 * 8 * 4);
      assertAllClose(expected, entry.logits!, 5e-3, "reference logits");
      // XNNPACK reads filters row-major: disable() gives them back, their panels copied out
      kernels.disable();
      assertEquals(kernels.filterPacking, undefined, "no adoption while XNNPACK's kernels run");
      assertEquals(kernels.packedBytes, packedByPlain, "every adopted filter's panels copied out");
      assertAllClose(logits(adopted), expected, 5e-3, "XNNPACK on the row-major filters");
      kernels.enable();
      assertEquals(logits(adopted), expected, "ours again, on the copied panels");
      assertThrows(() => packing.adopt({}, 4, 8), RangeError, "not a float32 [4, 8] tensor");
      const odd = tf.zeros([4, 12]);
      assertThrows(() => packing.adopt(odd.dataId, 4, 12), RangeError, "panels of 8");
      odd.dispose();
    } finally {
      adopted.dispose();
      input.dispose();
    }
    assertEquals(kernels.packedBytes, 0, "the copied panels went with their tensors");
  });
});
