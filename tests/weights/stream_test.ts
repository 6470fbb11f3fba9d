/**
 * Streaming inference: `loadMobileNet({ stream: true })` resolves once the manifest is read,
 * layers run as their weights arrive (an embedding completes while the classifier's shard is
 * still held back by the server), the results equal a fully loaded model's, a failed stream
 * rejects pending and later calls with the WeightsError and frees what it had loaded, disposing
 * during the load aborts the downloads and leaves no worker behind, and a headless load does
 * not fetch the classifier's shards.
 */
import { liveTensors } from "../_tensors.ts";
import { assert, assertEquals, assertRejects } from "../_assert.ts";
import { readImage } from "../_fixtures.ts";
import { serveDir } from "./_server.ts";
import { ModelDisposedError, WeightsError } from "../../src/errors.ts";
import { loadMobileNet } from "../../mod.ts";
import { liveWorkerCount } from "../../src/backend/wasm.ts";

const BUNDLED = new URL("../../weights/mobilenet_v1_0.25_224/", import.meta.url);
const PHOTO = "n02504458_African_elephant.JPEG";
const FAST = { retryDelayMs: 1, cache: false as const };

// In the bundled 0.25 set, shard-000 holds the whole backbone and the start of conv_preds;
// shard-001 holds only the rest of conv_preds.
Deno.test("stream: true resolves before the last shard; embed runs while it is held back", async () => {
  const bytes = await readImage(PHOTO);
  const full = await loadMobileNet({ model: "0.25_224" });
  const wantProbs = await full.classify(bytes, { topK: 5 });
  const wantFeatures = await full.embed(bytes);
  full.dispose();

  const server = serveDir(BUNDLED);
  server.hold("shard-001.bin");
  try {
    const model = await loadMobileNet({ model: server.url, stream: true, ...FAST });
    let loaded = false;
    const loadedPromise = model.loaded.then(() => (loaded = true));
    let classified = false;
    const classifying = model.classify(bytes, { topK: 5 }).then((p) => {
      classified = true;
      return p;
    });
    // The backbone's weights are all in shard-000: the embedding completes without shard-001.
    const features = await model.embed(bytes);
    assertEquals(features, wantFeatures);
    assertEquals(loaded, false, "the model cannot be complete while shard-001 is held");
    assertEquals(classified, false, "classify needs conv_preds, which is in shard-001");
    server.release("shard-001.bin");
    assertEquals(await classifying, wantProbs);
    await loadedPromise;
    assert(loaded);
    // Once complete, calls take the synchronous path and agree.
    assertEquals(await model.classify(bytes, { topK: 5 }), wantProbs);
    model.dispose();
  } finally {
    await server.close();
  }
});

Deno.test("stream: true from a local directory gives the same results", async () => {
  const bytes = await readImage(PHOTO);
  const full = await loadMobileNet({ model: "0.25_224" });
  const want = await full.classify(bytes, { topK: 3 });
  full.dispose();
  const model = await loadMobileNet({ model: "0.25_224", stream: true });
  assertEquals(await model.classify(bytes, { topK: 3 }), want);
  await model.loaded;
  model.dispose();
});

Deno.test("a failed stream rejects pending and later calls with the WeightsError, frees its tensors", async () => {
  const bytes = await readImage(PHOTO);
  const warm = await loadMobileNet({ model: "0.25_224" });
  warm.dispose();
  const before = liveTensors();
  const server = serveDir(BUNDLED, {
    fault: (file) => file === "shard-001.bin" ? { status: 404 } : undefined,
  });
  server.hold("shard-001.bin");
  try {
    const model = await loadMobileNet({ model: server.url, stream: true, ...FAST });
    const pending = model.classify(bytes);
    server.release("shard-001.bin");
    const error = await assertRejects(() => pending, WeightsError);
    assertEquals(error.code, "NOT_FOUND");
    assert(error.message.includes("shard-001.bin"), error.message);
    assertEquals(await assertRejects(() => model.loaded, WeightsError), error);
    assertEquals(await assertRejects(() => model.classify(bytes), WeightsError), error);
    assertEquals(await assertRejects(() => model.embed(bytes), WeightsError), error);
    assertEquals(liveTensors(), before, "no tensor left on the backend");
    model.dispose();
  } finally {
    await server.close();
  }
});

Deno.test("disposing a streaming model stops its load", async () => {
  const server = serveDir(BUNDLED);
  server.hold("shard-001.bin");
  const warm = await loadMobileNet({ model: "0.25_224" });
  warm.dispose();
  const before = liveTensors();
  try {
    const model = await loadMobileNet({ model: server.url, stream: true, ...FAST });
    model.dispose();
    server.release("shard-001.bin");
    await assertRejects(() => model.loaded);
    assertEquals(liveTensors(), before);
  } finally {
    await server.close();
  }
});

Deno.test("dispose() during a slow streaming load aborts the downloads, rejects calls in flight, and leaves no worker", async () => {
  const bytes = await readImage(PHOTO);
  // 1.9 MB at 200 kB/s would take ten seconds.
  const server = serveDir(BUNDLED, { bytesPerSecond: 200_000 });
  try {
    const firstBytes = Promise.withResolvers<void>();
    const model = await loadMobileNet({
      model: server.url,
      stream: true,
      ...FAST,
      onProgress: (e) => e.type === "bytes" && firstBytes.resolve(),
    });
    const classifying = model.classify(bytes);
    const embedding = model.embed(bytes);
    // Their callers hold them: a rejection while dispose() winds down is handled, not unhandled.
    for (const call of [classifying, embedding]) call.catch(() => {});
    await firstBytes.promise;
    assert(server.inFlight > 0, "shards are downloading");
    await model.dispose();
    assertEquals(liveWorkerCount(), 0, "the backend's workers ended with the last model");
    for (const call of [classifying, embedding, model.loaded]) {
      const error = await assertRejects(() => call, ModelDisposedError);
      assertEquals(error.code, "DISPOSED");
    }
    // The client went away: the server's responses end within a few of its 16 KiB chunks.
    for (let i = 0; i < 100 && server.inFlight > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assertEquals(server.inFlight, 0, "no download left running");
    assert(server.requests.length <= 3, server.requests.join(", "));
  } finally {
    await server.close();
  }
});

Deno.test("a headless load does not fetch the shards that only hold the classifier", async () => {
  const server = serveDir(BUNDLED);
  try {
    const model = await loadMobileNet({ model: server.url, headless: true, ...FAST });
    assertEquals(model.featureSize, 256);
    assertEquals(server.count("shard-000.bin"), 1);
    assertEquals(server.count("shard-001.bin"), 0);
    model.dispose();
  } finally {
    await server.close();
  }
});
