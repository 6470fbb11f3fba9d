/**
 * `loadMobileNet`'s hand-over to the weights loader: exactly the loader's options are passed on
 * (one typed list of keys), they reach the requests (the caller's `fetch`, `concurrency`,
 * `onProgress`), are checked by the loader's rules, and the caller's `signal` stops a
 * streaming load.
 */
import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { serveDir } from "./weights/_server.ts";
import { loadMobileNet, type LoadMobileNetOptions } from "../mod.ts";
import { pickWeightsOptions, WEIGHTS_OPTION_KEYS } from "../src/weights/loader.ts";
import type { LoadProgressEvent } from "../src/weights/progress.ts";

const BUNDLED = new URL("../weights/mobilenet_v1_0.25_224/", import.meta.url);

Deno.test("pickWeightsOptions keeps the loader's options and nothing else", () => {
  const signal = new AbortController().signal;
  const onProgress = () => {};
  const all: LoadMobileNetOptions = {
    model: "0.25_224",
    threads: 1,
    simd: true,
    resize: "stretch",
    headless: false,
    pooling: "avg",
    fused: true,
    stream: true,
    fetch: globalThis.fetch,
    signal,
    timeoutMs: 1,
    deadlineMs: 2,
    retries: 3,
    retryDelayMs: 4,
    maxRetryDelayMs: 5,
    concurrency: 6,
    cache: false,
    onProgress,
  };
  const picked = pickWeightsOptions(all);
  assertEquals(Object.keys(picked).sort(), [...WEIGHTS_OPTION_KEYS].sort());
  assertEquals(picked, {
    fetch: globalThis.fetch,
    signal,
    timeoutMs: 1,
    deadlineMs: 2,
    retries: 3,
    retryDelayMs: 4,
    maxRetryDelayMs: 5,
    concurrency: 6,
    cache: false,
    onProgress,
  });
  assertEquals(pickWeightsOptions({ timeoutMs: undefined, retries: 0 }), { retries: 0 });
});

Deno.test("the weights options reach the requests, and are checked by the loader's rules", async () => {
  const server = serveDir(BUNDLED);
  try {
    const asked: string[] = [];
    const recording: typeof fetch = (input, init) => {
      asked.push(String(input).split("/").at(-1)!);
      return fetch(input, init);
    };
    const events: LoadProgressEvent[] = [];
    const model = await loadMobileNet({
      model: server.url,
      fetch: recording,
      concurrency: 1,
      cache: false,
      onProgress: (e) => events.push(e),
    });
    assertEquals(asked, ["manifest.json", "shard-000.bin", "shard-001.bin"]);
    assertEquals(server.maxInFlight, 1, "concurrency: 1");
    assertEquals(events.at(-1)?.type, "done");
    await model.dispose();
    await assertRejects(
      () => loadMobileNet({ model: server.url, deadlineMs: NaN }),
      RangeError,
      "deadlineMs must be a number >= 0, got NaN",
    );
    assertEquals(server.count("manifest.json"), 1, "refused before any request");
  } finally {
    await server.close();
  }
});

Deno.test("the caller's signal stops a streaming load with its reason", async () => {
  const server = serveDir(BUNDLED);
  server.hold("shard-001.bin");
  try {
    const controller = new AbortController();
    const model = await loadMobileNet({
      model: server.url,
      stream: true,
      cache: false,
      signal: controller.signal,
    });
    const reason = new Error("the caller stopped it");
    controller.abort(reason);
    assertEquals(await assertRejects(() => model.loaded), reason);
    assert(model.manifest, "the manifest was read before the abort");
    await model.dispose();
  } finally {
    await server.close();
  }
});
