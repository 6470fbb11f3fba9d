/** The "small-board" preset: its defaults, what wins over it, and its environment variable. */
import { assertEquals, assertThrows } from "./_assert.ts";
import { applyPreset, SMALL_BOARD_ENV } from "../src/presets.ts";
import { THREADS_ENV } from "../src/backend/flags.ts";
import { loadMobileNet } from "../mod.ts";

const none = () => undefined;
const envOf = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("small-board fills in 0.25_224, 1 thread, one shard at a time; explicit options win", () => {
  assertEquals(applyPreset({ preset: "small-board" }, none), {
    preset: "small-board",
    model: "0.25_224",
    threads: 1,
    concurrency: 1,
  });
  assertEquals(
    applyPreset({ preset: "small-board", model: "0.75_224", threads: 2 }, none),
    { preset: "small-board", model: "0.75_224", threads: 2, concurrency: 1 },
  );
  // MOBILENET_EDGE_THREADS wins over the preset's thread count too.
  assertEquals(
    applyPreset({ preset: "small-board" }, envOf({ [THREADS_ENV]: "2" })).threads,
    undefined,
  );
});

Deno.test("MOBILENET_EDGE_SMALL_BOARD selects it when no preset is given; 'default' opts out", () => {
  const on = envOf({ [SMALL_BOARD_ENV]: " TRUE " });
  assertEquals(applyPreset({}, on).model, "0.25_224");
  assertEquals(applyPreset({ preset: "default" }, on), { preset: "default" });
  const off = { threads: 2 as const };
  assertEquals(applyPreset(off, envOf({ [SMALL_BOARD_ENV]: "0" })), off);
  assertEquals(applyPreset(off, none), off);
});

Deno.test("a bad preset or env value is a RangeError naming it", () => {
  assertThrows(
    // deno-lint-ignore no-explicit-any
    () => applyPreset({ preset: "tiny" as any }, none),
    RangeError,
    'got "tiny"',
  );
  assertThrows(
    () => applyPreset({}, envOf({ [SMALL_BOARD_ENV]: "maybe" })),
    RangeError,
    SMALL_BOARD_ENV,
  );
});

Deno.test("loadMobileNet({ preset: 'small-board' }) loads the 0.25 model and classifies", async () => {
  // Stretched, as the reference top-5 of this photo was measured.
  const model = await loadMobileNet({ preset: "small-board", resize: "stretch" });
  try {
    assertEquals(model.summary().totalParams, 475544);
    const bytes = await Deno.readFile(new URL("../samples/african_elephant.jpg", import.meta.url));
    const top = await model.classify(bytes, { topK: 5 });
    assertEquals(top.map((p) => p.index), [975, 460, 386, 449, 977]);
  } finally {
    await model.dispose();
  }
});
