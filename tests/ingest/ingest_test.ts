/** The ingest loop itself: options, embeddings, a failing source restarted, a clean end. */
import { assert, assertEquals, assertRejects } from "../_assert.ts";
import { ingestUntil, withModel } from "./_harness.ts";
import { readPhotos } from "./_photos.ts";
import { runIngest } from "../../src/ingest/ingest.ts";
import { StreamSource } from "../../src/ingest/sources/stdin.ts";
import { INGEST_RESIZE } from "../../src/ingest/defaults.ts";
import type { Source, SourceContext } from "../../src/ingest/types.ts";
import { loadMobileNet } from "../../mod.ts";

Deno.test("ingest stretches camera frames by default", () => {
  assertEquals(INGEST_RESIZE, "stretch");
});

Deno.test("bad options are refused before anything runs", async () => {
  const model = await loadMobileNet({ model: "0.25_224" });
  try {
    const sources = [new StreamSource({ readable: ReadableStream.from([]) })];
    await assertRejects(
      () => runIngest({ model, sources, sinks: [], topK: 0 }),
      RangeError,
      "topK",
    );
    await assertRejects(
      () => runIngest({ model, sources, sinks: [], minChange: 2 }),
      RangeError,
      "minChange",
    );
    await assertRejects(
      () => runIngest({ model, sources: [], sinks: [] }),
      RangeError,
      "no source",
    );
  } finally {
    await model.dispose();
  }
});

Deno.test("--embed adds the pooled features; a source that throws is restarted, not fatal", async () => {
  const [photo] = await readPhotos();
  let runs = 0;
  const flaky: Source = {
    name: "flaky",
    async run(context: SourceContext) {
      runs++;
      if (runs === 1) throw new Error("driver crashed");
      context.emit({ source: "flaky", bytes: photo.bytes, time: context.clock.now() });
      await new Promise((resolve) =>
        context.signal.addEventListener("abort", resolve, { once: true })
      );
    },
  };
  await withModel(async (model) => {
    const run = await ingestUntil({
      model,
      embed: true,
      topK: 2,
      sources: [flaky],
      until: (r) => r.events.length >= 1,
    });
    assertEquals(runs, 2);
    assert(run.lines.some((l) => l.includes("source failed: driver crashed; restarting")));
    const [event] = run.events;
    assertEquals(event.predictions.map((p) => p.label)[0], photo.label);
    assertEquals(event.predictions.length, 2);
    assertEquals(event.embedding?.length, model.featureSize);
    assert(event.embedding!.some((v) => v > 0));
  });
});
