/** The webhook sink against a loopback server that fails, refuses, then accepts. */
import { assert, assertEquals } from "../../_assert.ts";
import { WebhookSink } from "../../../src/ingest/sinks/webhook.ts";
import type { IngestEvent } from "../../../src/ingest/event.ts";
import type { LogRecord } from "../../../src/ingest/log.ts";

function event(source: string): IngestEvent {
  return {
    source,
    camera: source,
    time: new Date(0).toISOString(),
    frame: { width: 2, height: 2, bytes: 10 },
    predictions: [{ index: 386, label: "African elephant", probability: 0.7 }],
    timings: { queueMs: 0, decodeMs: 1, preprocessMs: 1, inferenceMs: 1, totalMs: 3 },
    dropped: 0,
  };
}

Deno.test("webhook: retried on 503 and network errors, 400 dropped, Basic auth from the URL, order kept", async () => {
  const received: { source: string; auth: string | null }[] = [];
  let calls = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    calls++;
    const body = await req.json() as IngestEvent;
    if (calls <= 2) return new Response("busy", { status: 503 });
    if (body.source === "refused") return new Response("no", { status: 400 });
    received.push({ source: body.source, auth: req.headers.get("authorization") });
    return new Response(null, { status: 204 });
  });
  const logs: LogRecord[] = [];
  const sink = new WebhookSink(`http://hook:s3cret@127.0.0.1:${server.addr.port}/events`, {
    backoff: { initialMs: 20, maxMs: 40 },
    log: (r) => logs.push(r),
  });
  try {
    for (const source of ["cam1", "refused", "cam2"]) sink.write(event(source));
    await sink.close(5000);
    assertEquals(received.map((r) => r.source), ["cam1", "cam2"]);
    assertEquals(received[0].auth, `Basic ${btoa("hook:s3cret")}`);
    assertEquals([sink.delivered, sink.dropped], [2, 1]);
    assertEquals(sink.name, `http://127.0.0.1:${server.addr.port}/events`);
    const text = logs.map((l) => `${l.source} ${l.message}`).join("\n");
    assert(text.includes("HTTP 503"), text);
    assert(text.includes("HTTP 400; event dropped"), text);
    assert(!text.includes("s3cret"), text);
  } finally {
    await server.shutdown();
  }
});
