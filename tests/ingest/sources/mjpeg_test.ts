/**
 * MJPEG streams at 10 fps from a fake camera in the three boundary styles (ESP32-CAM with
 * Content-Length and X-Timestamp, Frigate without Content-Length, Home Assistant's
 * `boundary=--frameboundary`), a stream that hangs mid-way, and one that ends.
 */
import { assert, assertEquals } from "../../_assert.ts";
import { FAST_BACKOFF, ingestUntil, top1, withModel } from "../_harness.ts";
import { FakeCamera, streamResponse } from "../_camera.ts";
import { concat, padded, readPhotos, syntheticJpeg } from "../_photos.ts";
import { MJPEG_TYPES, mjpegPart } from "../_mjpeg.ts";
import { createSource } from "../../../src/ingest/sources/create.ts";

const photos = await readPhotos();
const labelBySize = new Map(photos.map((p) => [p.bytes.length, p.label]));
const FAST = { connectTimeoutMs: 1000, readTimeoutMs: 400, backoff: FAST_BACKOFF };

for (const style of ["esp32", "frigate", "homeassistant"] as const) {
  Deno.test(`MJPEG at 10 fps, ${style} style: every event has its frame's label`, async () => {
    const stop = new AbortController();
    const camera = new FakeCamera(() =>
      streamResponse(
        MJPEG_TYPES[style],
        (i) => mjpegPart(style, photos[i % photos.length].bytes, i),
        {
          intervalMs: 100,
          count: 1000,
          signal: stop.signal,
        },
      )
    ).start();
    try {
      await withModel(async (model) => {
        const run = await ingestUntil({
          model,
          sources: [createSource(`${camera.origin}/stream`, FAST)],
          until: (r) => r.events.length >= 10,
        });
        assert(run.events.length >= 10, `${run.events.length} events; ${run.lines.join("\n")}`);
        for (const e of run.events) assertEquals(top1(e), labelBySize.get(e.frame.bytes));
        assert(new Set(run.events.map(top1)).size >= 5);
        const s = Object.values(run.stats.sources)[0];
        // Every frame received was inferred, dropped as stale, or discarded at stop.
        assertEquals(s.received, s.inferred + s.dropped + s.bad + run.stats.discarded);
        assertEquals(
          run.events.reduce((n, e) => n + e.dropped, 0),
          s.dropped,
        );
        assertEquals(camera.served, 1, run.lines.join("\n")); // one connection, read continuously
        assert(run.lines.some((l) => l.includes("online (MJPEG)")));
      });
    } finally {
      stop.abort();
      await camera.stop();
    }
  });
}

Deno.test("an MJPEG stream that hangs mid-way times out and is reconnected", async () => {
  const stop = new AbortController();
  const camera = new FakeCamera(() =>
    streamResponse(MJPEG_TYPES.frigate, (i) => mjpegPart("frigate", photos[i % 3].bytes, i), {
      intervalMs: 20,
      count: 1000,
      hangAfter: 3,
      signal: stop.signal,
    })
  ).start();
  try {
    await withModel(async (model) => {
      const run = await ingestUntil({
        model,
        sources: [createSource(`${camera.origin}/api/front?fps=3`, FAST)],
        until: () => camera.served >= 3,
      });
      assert(camera.served >= 3, `${camera.served} connections`);
      assert(run.events.length >= 2, `${run.events.length} events`);
      // Logged once per change of state: online and timed out alternate, never repeated.
      const states = run.lines.map((l) => l.includes("no data for 400 ms") ? "timeout" : "online");
      assert(states.length >= 4, run.lines.join("\n"));
      states.forEach((s, i) => assertEquals(s, i % 2 === 0 ? "online" : "timeout"));
    });
  } finally {
    stop.abort();
    await camera.stop();
  }
});

Deno.test("frames arriving faster than inference: the newest wins, stale ones are counted", async () => {
  const stop = new AbortController();
  // 40 small frames (each a distinct byte count) in 4 bursts of 10, one network chunk each:
  // at most one per burst can be inferred.
  const tiny = syntheticJpeg(320, 240);
  const frame = (i: number) => padded(tiny, i + 1);
  const camera = new FakeCamera(() =>
    streamResponse(
      MJPEG_TYPES.esp32,
      (chunk) =>
        concat(
          ...Array.from({ length: 10 }, (_, k) => mjpegPart("esp32", frame(chunk * 10 + k), k)),
        ),
      { intervalMs: 10, count: 4, signal: stop.signal },
    )
  ).start();
  try {
    await withModel(async (model) => {
      const run = await ingestUntil({
        model,
        sources: [
          createSource(`${camera.origin}/stream`, { ...FAST, backoff: { initialMs: 60_000 } }),
        ],
        until: (r) => r.lines.some((l) => l.includes("stream ended")) && r.events.length > 0,
      });
      const s = Object.values(run.stats.sources)[0];
      assertEquals(s.received, 40);
      assert(s.dropped >= 30, `${s.dropped} dropped of 40`);
      assertEquals(s.inferred + s.dropped, 40);
      assertEquals(run.events.reduce((n, e) => n + e.dropped, 0), s.dropped);
      assertEquals(run.events.at(-1)!.frame.bytes, frame(39).length); // the newest frame won
    });
  } finally {
    stop.abort();
    await camera.stop();
  }
});
