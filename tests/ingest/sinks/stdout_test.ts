import { assertEquals } from "../../_assert.ts";
import { JsonLinesSink } from "../../../src/ingest/sinks/stdout.ts";
import type { IngestEvent } from "../../../src/ingest/event.ts";

Deno.test("JSON lines: one event per line, in order", async () => {
  const chunks: string[] = [];
  const sink = new JsonLinesSink(async (bytes) => {
    await new Promise((resolve) => setTimeout(resolve, 5 - chunks.length));
    chunks.push(new TextDecoder().decode(bytes));
  });
  const events = [1, 2, 3].map((i) => ({ source: `cam${i}` }) as IngestEvent);
  for (const e of events) sink.write(e);
  await sink.close();
  assertEquals(chunks.join(""), events.map((e) => JSON.stringify(e) + "\n").join(""));
});
