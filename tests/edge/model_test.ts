/**
 * The shared model of an isolate: /healthz says 503 while loading, the first classify waits for
 * the weights instead of failing, and a model that fails to load gives 503 with the reason.
 */
import { assert, assertStrictEquals } from "../_assert.ts";
import { loadMobileNet } from "../../mod.ts";
import { readConfig } from "../../edge/config.ts";
import { createHandler, routePath } from "../../edge/handler.ts";
import { ModelHolder, warmUp } from "../../edge/model.ts";
import { ELEPHANT, ELEPHANT_LABEL, readJson } from "./_helpers.ts";

const config = readConfig(() => undefined);

function classifyRequest(bytes: Uint8Array, path = "/v1/classify"): Request {
  return new Request(`http://edge.test${path}`, {
    method: "POST",
    body: bytes as Uint8Array<ArrayBuffer>,
    headers: { "content-type": "image/jpeg" },
  });
}

Deno.test("model: 503 while loading, the first request waits, then 200", async () => {
  const gate = Promise.withResolvers<void>();
  let loads = 0;
  const models = new ModelHolder("0.75_224", async () => {
    loads++;
    await gate.promise;
    return warmUp(await loadMobileNet({ threads: 1 }));
  });
  const handler = createHandler({ config, models });
  try {
    const loading = await readJson(await handler(new Request("http://edge.test/healthz")));
    assertStrictEquals(loading.status, 503);
    assertStrictEquals(loading.body.status, "loading");
    let answered = false;
    const first = handler(classifyRequest(await Deno.readFile(ELEPHANT))).then((r) => {
      answered = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 50));
    assertStrictEquals(answered, false);
    gate.resolve();
    const result = await readJson(await first);
    assertStrictEquals(result.status, 200);
    assertStrictEquals((result.body.predictions as { label: string }[])[0].label, ELEPHANT_LABEL);
    const ready = await readJson(await handler(new Request("http://edge.test/healthz")));
    assertStrictEquals(ready.status, 200);
    assertStrictEquals(loads, 1);
  } finally {
    gate.resolve();
    await models.dispose();
  }
});

Deno.test("model: workWaiting counts the image requests waiting for the load, so the load can skip its warm-up", async () => {
  const gate = Promise.withResolvers<void>();
  const seen: number[] = [];
  const models = new ModelHolder("0.25_224", async () => {
    await gate.promise;
    const model = await loadMobileNet({ model: "0.25_224", threads: 1 });
    seen.push(models.workWaiting);
    return model;
  });
  const handler = createHandler({ config, models });
  try {
    const info = handler(new Request("http://edge.test/v1/models")); // waits, runs no image
    const first = handler(classifyRequest(await Deno.readFile(ELEPHANT)));
    const second = handler(classifyRequest(await Deno.readFile(ELEPHANT)));
    await new Promise((r) => setTimeout(r, 20));
    assertStrictEquals(models.workWaiting, 2);
    gate.resolve();
    const results = await Promise.all([info, first, second].map(async (r) => readJson(await r)));
    assertStrictEquals(seen[0], 2, "the load saw the two image requests waiting");
    assertStrictEquals(models.workWaiting, 0);
    assert(results.every((r) => r.status === 200));
    const labels = results.slice(1).map((r) =>
      (r.body.predictions as { label: string }[])[0].label
    );
    assertStrictEquals(labels[0], labels[1]);
  } finally {
    gate.resolve();
    await models.dispose();
  }
});

Deno.test("model: weights that fail to load give 503 with the reason, on every route", async () => {
  const log = console.error;
  console.error = () => {};
  const models = new ModelHolder(
    "/nonexistent/weights",
    () => loadMobileNet({ model: "/nonexistent/weights/", threads: 1 }),
  );
  const handler = createHandler({ config, models });
  try {
    const classify = await readJson(await handler(classifyRequest(await Deno.readFile(ELEPHANT))));
    assertStrictEquals(classify.status, 503);
    const error = classify.body.error as { code: string; message: string };
    assertStrictEquals(error.code, "MODEL_UNAVAILABLE");
    assert(error.message.includes("/nonexistent/weights"), error.message);
    const health = await readJson(await handler(new Request("http://edge.test/healthz")));
    assertStrictEquals(health.status, 503);
    assertStrictEquals(health.body.status, "failed");
    assert(String(health.body.reason).includes("/nonexistent/weights"), String(health.body.reason));
    const models503 = await readJson(await handler(new Request("http://edge.test/v1/models")));
    assertStrictEquals(models503.status, 503);
    const page = await handler(new Request("http://edge.test/"));
    assertStrictEquals(page.status, 200); // the page still loads and shows the reason
    await page.body?.cancel();
  } finally {
    console.error = log;
    await models.dispose();
  }
});

Deno.test("base path: routes under the prefix a platform adds (Supabase: /<function>/...)", async () => {
  assertStrictEquals(routePath("/v1/classify", ""), "/v1/classify");
  assertStrictEquals(routePath("/classify", "/classify"), "/");
  assertStrictEquals(routePath("/classify/v1/classify", "/classify"), "/v1/classify");
  assertStrictEquals(routePath("/classifyx/v1/classify", "/classify"), undefined);
  assertStrictEquals(routePath("/v1/classify", "/classify"), undefined);

  const models = new ModelHolder(
    "0.25_224",
    () => loadMobileNet({ model: "0.25_224", threads: 1 }),
  );
  const handler = createHandler({ config: { ...config, basePath: "/classify" }, models });
  try {
    const page = await handler(new Request("http://edge.test/classify"));
    assertStrictEquals(page.status, 200);
    assert((await page.text()).includes("<title>"));
    const result = await readJson(
      await handler(classifyRequest(await Deno.readFile(ELEPHANT), "/classify/v1/classify?top=2")),
    );
    assertStrictEquals(result.status, 200);
    assertStrictEquals((result.body.predictions as unknown[]).length, 2);
    const outside = await readJson(await handler(new Request("http://edge.test/v1/models")));
    assertStrictEquals(outside.status, 404);
  } finally {
    await models.dispose();
  }
});
