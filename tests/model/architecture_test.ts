import { assert, assertEquals, assertThrows } from "../_assert.ts";
import {
  buildArchitecture,
  convParams,
  formatSummary,
  separableParams,
} from "../../src/model/architecture.ts";

Deno.test("1.0/224/1000 has Keras' 4,253,864 parameters and 568.7M multiply-adds", () => {
  const arch = buildArchitecture({ alpha: 1, resolution: 224, classes: 1000 });
  assertEquals(arch.totalParams, 4_253_864);
  assertEquals((arch.totalMacs / 1e6).toFixed(1), "568.7");
  // Keras: 21,888 non-trainable (BatchNorm moving mean and variance).
  assertEquals(arch.totalParams - arch.trainableParams, 21_888);
});

Deno.test("0.75/224, 0.25/224 and headless 0.25 match Keras' counts", () => {
  const a75 = buildArchitecture({ alpha: 0.75 });
  assertEquals(a75.totalParams, 2_601_976);
  assertEquals((a75.totalMacs / 1e6).toFixed(1), "325.4");
  const a25 = buildArchitecture({ alpha: 0.25 });
  assertEquals(a25.totalParams, 475_544);
  assertEquals((a25.totalMacs / 1e6).toFixed(1), "41.0");
  assertEquals(buildArchitecture({ alpha: 0.25, includeTop: false }).totalParams, 218_544);
});

Deno.test("the seed's example: separable 3x3 16->32 is 656 weights against 4,608", () => {
  assertEquals(convParams(3, 16, 32), 4_608);
  assertEquals(separableParams(3, 16, 32), 656);
  // The same functions count the model's own layers: conv_dw_2 + conv_pw_2 at alpha 1.
  const arch = buildArchitecture();
  const byName = new Map(arch.layers.map((l) => [l.name, l]));
  assertEquals(
    byName.get("conv_dw_2")!.params + byName.get("conv_pw_2")!.params,
    separableParams(3, 64, 128),
  );
  assertEquals(byName.get("conv1")!.params, convParams(3, 3, 32));
});

Deno.test("output shapes follow the seed's comments", () => {
  const arch = buildArchitecture();
  const shape = (name: string) => arch.layers.find((l) => l.name === name)!.outputShape;
  assertEquals(shape("input_1"), [224, 224, 3]);
  assertEquals(shape("conv1_relu"), [112, 112, 32]);
  assertEquals(shape("conv_pw_1_relu"), [112, 112, 64]);
  assertEquals(shape("conv_pw_2_relu"), [56, 56, 128]);
  assertEquals(shape("conv_pw_3_relu"), [56, 56, 128]);
  assertEquals(shape("conv_pw_4_relu"), [28, 28, 256]);
  assertEquals(shape("conv_pw_5_relu"), [28, 28, 256]);
  assertEquals(shape("conv_pw_6_relu"), [14, 14, 512]);
  assertEquals(shape("conv_pw_11_relu"), [14, 14, 512]);
  assertEquals(shape("conv_pw_12_relu"), [7, 7, 1024]);
  assertEquals(shape("conv_pw_13_relu"), [7, 7, 1024]);
  assertEquals(shape("global_average_pooling2d_1"), [1024]);
  assertEquals(shape("conv_preds"), [1, 1, 1000]);
  assertEquals(shape("reshape_2"), [1000]);
  assertEquals(arch.steps.map((s) => s.stride).filter((_, i) => i % 2 === 1), [
    1,
    2,
    1,
    2,
    1,
    2,
    1,
    1,
    1,
    1,
    1,
    2,
    1,
  ]);
});

Deno.test("Keras layer and weight names", () => {
  const arch = buildArchitecture({ alpha: 0.5 });
  const names = arch.weights.map((w) => w.name);
  assertEquals(names.slice(0, 6), [
    "conv1/kernel",
    "conv1_bn/gamma",
    "conv1_bn/beta",
    "conv1_bn/moving_mean",
    "conv1_bn/moving_variance",
    "conv_dw_1/depthwise_kernel",
  ]);
  assertEquals(names.slice(-2), ["conv_preds/kernel", "conv_preds/bias"]);
  assertEquals(names.length, 137);
  assertEquals(arch.weights.find((w) => w.name === "conv_dw_13/depthwise_kernel")!.shape, [
    3,
    3,
    512,
    1,
  ]);
});

Deno.test("alpha, depth multiplier, resolution and classes change the shapes", () => {
  const arch = buildArchitecture({
    alpha: 0.5,
    depthMultiplier: 2,
    resolution: 160,
    classes: 10,
  });
  assertEquals(arch.featureSize, 512);
  assertEquals(arch.layers.find((l) => l.name === "conv_dw_1")!.outputShape, [80, 80, 32]);
  assertEquals(arch.layers.find((l) => l.name === "conv_pw_13")!.outputShape, [5, 5, 512]);
  assertEquals(arch.layers.at(-1)!.outputShape, [10]);
  // Keras truncates: int(32 * 0.3) = 9.
  assertEquals(buildArchitecture({ alpha: 0.3 }).steps[0].outChannels, 9);
  // Headless at a non-standard size, max pooling.
  const headless = buildArchitecture({ includeTop: false, resolution: 100, pooling: "max" });
  assertEquals(headless.layers.at(-1)!.name, "global_max_pooling2d");
  assertEquals(headless.layers.find((l) => l.name === "conv_pw_13")!.outputShape, [4, 4, 1024]);
});

Deno.test("bad options throw RangeError naming the option", () => {
  assertThrows(() => buildArchitecture({ alpha: 0 }), RangeError, "alpha");
  assertThrows(() => buildArchitecture({ alpha: -1 }), RangeError, "alpha");
  assertThrows(() => buildArchitecture({ alpha: 0.01 }), RangeError, "too small");
  assertThrows(() => buildArchitecture({ resolution: 31, includeTop: false }), RangeError, "32");
  assertThrows(() => buildArchitecture({ resolution: 200 }), RangeError, "128, 160, 192, 224");
  assertThrows(() => buildArchitecture({ depthMultiplier: 1.5 }), RangeError, "integer");
  assertThrows(() => buildArchitecture({ classes: 0 }), RangeError, "classes");
  assertThrows(
    // deno-lint-ignore no-explicit-any
    () => buildArchitecture({ includeTop: false, pooling: "sum" as any }),
    RangeError,
    "pooling",
  );
});

Deno.test("formatSummary prints every layer and the totals", () => {
  const text = formatSummary(buildArchitecture());
  assert(text.includes("conv_pw_13_bn"));
  assert(text.includes("Total params: 4,253,864"));
  assert(text.includes("(568.7M)"));
});
