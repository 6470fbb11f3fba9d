/**
 * The model on the threaded backend: the same outputs as one thread and as the fallback
 * binaries, the reference checks on the threaded path, no tensor growth over 200 calls, and no
 * live workers after models come and go.
 */
import { assert, assertAllClose, assertEquals } from "../_assert.ts";
import { readImage, readInput, readReference } from "../_fixtures.ts";
import { liveTensors } from "../_tensors.ts";
import { backendInfo, loadMobileNet, type MobileNet, setThreads } from "../../mod.ts";
import { liveWorkerCount } from "../../src/backend/wasm.ts";

const PHOTOS = ["dog.jpg", "n02391049_zebra.JPEG", "n03642806_laptop.JPEG", "grace_hopper.jpg"];

async function top5(model: MobileNet): Promise<number[][]> {
  const out: number[][] = [];
  for (const file of PHOTOS) {
    out.push((await model.classify(await readImage(file))).map((p) => p.index));
  }
  return out;
}

Deno.test("2 threads give the 1-thread outputs within 1e-4 and pass the reference checks", async () => {
  const model = await loadMobileNet({ threads: 2 });
  try {
    const info = backendInfo()!;
    assertEquals(info.binary, "tfjs-backend-wasm-threaded-simd.wasm", info.reason);
    assertEquals(info.threads, 2);
    const reference = (await readReference("0.75_224")).filter((e) => e.probs);
    for (const entry of reference) {
      const input = {
        data: await readInput(entry.file),
        shape: [1, 224, 224, 3] as [1, 224, 224, 3],
      };
      await setThreads(2);
      const threaded = model.predict(input);
      await setThreads(1);
      const single = model.predict(input);
      assertAllClose(threaded, single, 1e-4, `${entry.file}: 2 threads vs 1`);
      assertAllClose(threaded, entry.probs!, 2e-4, `${entry.file}: threaded vs reference`);
    }
  } finally {
    await model.dispose();
  }
});

Deno.test("forced single thread and forced plain WASM give the threaded top-5", async () => {
  const threaded = await loadMobileNet({ threads: 2 });
  const expected = await top5(threaded);
  await threaded.dispose(); // the last model: the backend stops, the next load starts another
  assertEquals(backendInfo(), undefined);
  for (
    const [options, binary] of [
      [{ threads: 1 }, "tfjs-backend-wasm-simd.wasm"],
      [{ simd: false }, "tfjs-backend-wasm.wasm"],
    ] as const
  ) {
    const model = await loadMobileNet(options);
    try {
      assertEquals(backendInfo()!.binary, binary, backendInfo()!.reason);
      assertEquals(backendInfo()!.threads, 1);
      assertEquals(await top5(model), expected, JSON.stringify(options));
    } finally {
      await model.dispose();
    }
  }
});

Deno.test("200 classify calls on the threaded backend: no tensor growth, no hang", async () => {
  const model = await loadMobileNet({ model: "0.25_224", threads: 2 });
  try {
    assertEquals(backendInfo()!.threads, 2);
    const bytes = await readImage("n02391049_zebra.JPEG");
    const [first] = await model.classify(bytes, { topK: 1 });
    const before = liveTensors();
    for (let i = 0; i < 200; i++) {
      const [top] = await model.classify(bytes, { topK: 1 });
      assertEquals(top.index, first.index);
    }
    assertEquals(liveTensors(), before);
  } finally {
    await model.dispose();
  }
});

Deno.test("creating and disposing the model 10 times leaves no live workers", async () => {
  for (let i = 0; i < 10; i++) {
    const model = await loadMobileNet({ model: "0.25_224", threads: 2 });
    assert(liveWorkerCount() >= 1, "a threaded backend runs pthread workers");
    await model.classify(await readImage("dog.jpg"));
    await model.dispose();
  }
  assertEquals(liveWorkerCount(), 0);
  assertEquals(backendInfo(), undefined);
});

Deno.test("the backend stays while another model or the caller's tensors live", async () => {
  const a = await loadMobileNet({ model: "0.25_224", threads: 2 });
  const b = await loadMobileNet({ model: "0.25_224" });
  await a.dispose();
  assert(backendInfo(), "b still needs the backend");
  assertEquals((await b.classify(await readImage("dog.jpg"), { topK: 1 }))[0].index, 258);
  await b.dispose();
  assertEquals(liveWorkerCount(), 0);
});
