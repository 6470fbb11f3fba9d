/**
 * The backend's lifetime with models alive (issue 21, item 4): the public `shutdown()` disposes
 * every live model before the backend goes (their calls reject with `ModelDisposedError`, their
 * `dispose()` resolves), aborts a load in progress, and a new model starts the backend again.
 */
import { assert, assertEquals, assertRejects, assertStrictEquals } from "../_assert.ts";
import { backendInfo, loadMobileNet, ModelDisposedError, shutdown } from "../../mod.ts";
import { liveWorkerCount } from "../../src/backend/wasm.ts";
import { acquireBackend } from "../../src/backend/lease.ts";
import { liveKernelWorkers } from "../../src/backend/pointwise/pool.ts";

const ELEPHANT = new URL("../fixtures/images/n02504458_African_elephant.JPEG", import.meta.url);

Deno.test("shutdown() disposes live models: no half-broken model, and a new one works", async () => {
  const bytes = await Deno.readFile(ELEPHANT);
  const a = await loadMobileNet({ model: "0.25_224", threads: 2 });
  const other = await loadMobileNet({ model: "0.25_224" });
  const expected = (await a.classify(bytes, { topK: 1 }))[0];
  const inFlight = a.classify(bytes);
  inFlight.catch(() => {});
  await shutdown();
  assertStrictEquals(backendInfo(), undefined);
  assertStrictEquals(liveWorkerCount() + liveKernelWorkers(), 0, "every worker ended");
  for (const model of [a, other]) {
    const error = await assertRejects(() => model.classify(bytes), ModelDisposedError);
    assertEquals(error.code, "DISPOSED");
    await model.dispose(); // resolves: no TypeError from a backend that is gone
  }
  await assertRejects(() => inFlight, ModelDisposedError);
  await shutdown(); // a second call is harmless
  const again = await loadMobileNet({ model: "0.25_224" });
  try {
    assertEquals((await again.classify(bytes, { topK: 1 }))[0], expected);
  } finally {
    await again.dispose();
  }
  assertStrictEquals(backendInfo(), undefined, "the last dispose stopped the backend");
});

Deno.test("shutdown() during a load aborts it with ModelDisposedError; no lease is left", async () => {
  // A fetch that hangs until the load's signal aborts it: the load is surely in progress.
  const called = Promise.withResolvers<void>();
  const fetch = (_input: RequestInfo | URL, init?: RequestInit) => {
    called.resolve();
    return new Promise<Response>((_, reject) => {
      init?.signal?.addEventListener("abort", () => reject(init.signal!.reason));
    });
  };
  const loading = loadMobileNet({
    model: "https://weights.invalid/mobilenet/",
    fetch,
    threads: 1,
    retries: 0,
  });
  loading.catch(() => {});
  await called.promise;
  assert(backendInfo(), "the load holds a lease on the running backend");
  await shutdown();
  await assertRejects(() => loading, ModelDisposedError);
  assertStrictEquals(backendInfo(), undefined);
  const model = await loadMobileNet({ model: "0.25_224", threads: 1 });
  await model.dispose();
  assertStrictEquals(backendInfo(), undefined, "no stale lease kept the backend alive");
});

Deno.test("a lease taken while a stop begins waits for the stop and starts a new backend", async () => {
  const first = await acquireBackend({ threads: 1 });
  const stopping = shutdown();
  const second = await acquireBackend({ threads: 1 });
  await stopping;
  assert(backendInfo(), "the second lease runs on a new backend");
  assert(first.revoked);
  assert(!second.revoked);
  await first.release(); // given back after its backend went: nothing happens
  assert(backendInfo());
  await second.release();
  assertStrictEquals(backendInfo(), undefined);
});
