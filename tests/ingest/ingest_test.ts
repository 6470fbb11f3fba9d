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

Deno.test("cameras sharing the model take turns: a flooding stream does not starve a snapshot camera", async () => {
  const photos = await readPhotos();
  const [flood, slow] = [photos[1], photos[2]];
  // Four frames in each chunk: however slowly this machine pulls, three of every four are
  // replaced before they can be inferred (latest frame wins).
  const burst = new Uint8Array(flood.bytes.length * 4);
  for (let i = 0; i < 4; i++) burst.set(flood.bytes, i * flood.bytes.length);
  let stop = false;
  const readable = new ReadableStream<Uint8Array>({
    async pull(controller) {
      await new Promise((resolve) => setTimeout(resolve, 2));
      if (stop) controller.close();
      else controller.enqueue(burst); // far faster than inference
    },
  });
  const camera: Source = {
    name: "snapshot",
    async run(context: SourceContext) {
      while (!context.signal.aborted) {
        context.emit({ source: "snapshot", bytes: slow.bytes, time: context.clock.now() });
        await context.clock.sleep(250, context.signal);
      }
    },
  };
  await withModel(async (model) => {
    const run = await ingestUntil({
      model,
      // finiteMs 0: a live camera from its first frame (a pipe is otherwise taken as a finite
      // list of files for its first second, every frame kept: on a slow machine, most of this run)
      sources: [new StreamSource({ readable, name: "flood", finiteMs: 0 }), camera],
      until: (r) => r.events.filter((e) => e.source === "snapshot").length >= 6,
    });
    stop = true;
    const bySource = (name: string) => run.events.filter((e) => e.source === name);
    assert(bySource("snapshot").length >= 6);
    assert(bySource("flood").length >= 6);
    // Every snapshot was inferred (none waited long enough to be replaced)...
    assertEquals(run.stats.sources.snapshot.dropped, 0);
    assertEquals(
      run.stats.sources.snapshot.received - run.stats.discarded <= run.events.length,
      true,
    );
    // ...while the flood lost most of its frames.
    assert(run.stats.sources.flood.dropped > run.stats.sources.flood.inferred);
    assertEquals(bySource("snapshot").every((e) => e.predictions[0].label === slow.label), true);
  });
});
