/**
 * MJPEG streams at 10 fps from a fake camera in the three boundary styles (ESP32-CAM with
 * Content-Length and X-Timestamp, Frigate without Content-Length, Home Assistant's
 * `boundary=--frameboundary`), a stream that hangs mid-way, and one that ends; and the hostile
 * streams of issue 17 (no boundary, a bare MJPEG, a 10 KB boundary, a run of FF fill bytes),
 * read without a model: what comes out and what is logged.
 */
import { assert, assertEquals } from "../../_assert.ts";
import { FAST_BACKOFF, ingestUntil, top1, withModel } from "../_harness.ts";
import { FakeCamera, streamResponse } from "../_camera.ts";
import { concat, padded, readPhotos, syntheticJpeg } from "../_photos.ts";
import { MJPEG_TYPES, mjpegPart } from "../_mjpeg.ts";
import { createSource } from "../../../src/ingest/sources/create.ts";
import { mjpegFraming } from "../../../src/ingest/sources/mjpeg.ts";
import { MAX_FILL_BYTES } from "../../../src/ingest/sources/jpeg_splitter.ts";
import { chunkedBody, fillRun, sameLetterMultipart } from "../_hostile_streams.ts";
import { runSource } from "../_source_run.ts";

const photos = await readPhotos();
const labelBySize = new Map(photos.map((p) => [p.bytes.length, p.label]));
const FAST = { connectTimeoutMs: 1000, readTimeoutMs: 400, backoff: FAST_BACKOFF };
/** For the steady streams: a read timeout no busy machine trips (10 fps is 100 ms a part). */
const STEADY = { ...FAST, readTimeoutMs: 5000 };

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
          sources: [createSource(`${camera.origin}/stream`, STEADY)],
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

Deno.test("the framing comes from the content type: boundary, none, or a bare MJPEG", () => {
  assertEquals(mjpegFraming(MJPEG_TYPES.frigate), { kind: "multipart", boundary: "frame" });
  assertEquals(mjpegFraming("multipart/x-mixed-replace"), { kind: "no boundary" });
  assertEquals(mjpegFraming("Multipart/x-mixed-replace; charset=x"), { kind: "no boundary" });
  assertEquals(mjpegFraming("video/x-motion-jpeg"), { kind: "bare" });
  assertEquals(mjpegFraming("image/jpeg"), undefined);
  assertEquals(mjpegFraming(null), undefined);
});

/** A camera answering `bytes` once per connection, with `contentType`, in 16 KB chunks. */
function oneShotCamera(contentType: string, bytes: Uint8Array): FakeCamera {
  return new FakeCamera(() =>
    new Response(chunkedBody(bytes, 16 * 1024), { headers: { "content-type": contentType } })
  ).start();
}

Deno.test("multipart without a boundary: 'no boundary' is logged and the JPEGs still come out", async () => {
  // Finding 10 of issue 17: it was read as one 32 MB snapshot (350-400 MB RSS), no frame.
  const three = photos.slice(0, 3).map((p) => p.bytes);
  const camera = oneShotCamera(
    "multipart/x-mixed-replace",
    concat(...three.map((p, i) => mjpegPart("esp32", p, i))),
  );
  try {
    const source = createSource(`${camera.origin}/stream`, FAST);
    const run = await runSource(source, (r) => r.frames.length >= 3);
    assertEquals(run.frames.map((f) => f.bytes), three);
    assertEquals(run.lines.slice(0, 2), [
      "multipart/x-mixed-replace with no boundary: splitting the stream on the JPEG markers",
      "online (MJPEG without boundary)",
    ]);
  } finally {
    await camera.stop();
  }
});

Deno.test("a bare MJPEG (video/x-motion-jpeg) is logged as one and split into its JPEGs", async () => {
  const three = photos.slice(0, 3).map((p) => p.bytes);
  const camera = oneShotCamera("video/x-motion-jpeg", concat(...three));
  try {
    const run = await runSource(
      createSource(`${camera.origin}/video`, FAST),
      (r) => r.frames.length >= 3,
    );
    assertEquals(run.frames.map((f) => f.bytes), three);
    assertEquals(run.lines[0], "online (bare MJPEG)");
    assert(!run.lines.some((l) => l.includes("snapshot")), run.lines.join("\n"));
  } finally {
    await camera.stop();
  }
});

Deno.test("a 10 KB boundary is refused before any byte is searched: logged once, retried", async () => {
  // Finding 6 of issue 17: 10 KB of "a" as the boundary, over a body of "a".
  const { boundary, bytes } = sameLetterMultipart(10 * 1024, 1024 * 1024);
  const camera = oneShotCamera(`multipart/x-mixed-replace; boundary=${boundary}`, bytes);
  try {
    const run = await runSource(
      createSource(`${camera.origin}/stream`, FAST),
      () => camera.served >= 3,
    );
    assert(camera.served >= 3, `${camera.served} connections`);
    assertEquals(run.frames.length, 0);
    assertEquals(run.lines.length, 1, run.lines.join("\n"));
    assert(
      run.lines[0].startsWith("offline: MJPEG boundary over 70 characters (10240; RFC 2046"),
      run.lines[0],
    );
  } finally {
    await camera.stop();
  }
});

Deno.test("a run of FF fill bytes in a bare MJPEG is skipped and logged; the next JPEG comes out", async () => {
  // Finding 7 of issue 17 over HTTP: it ran 80 s before the first frame, with nothing logged.
  const [a] = photos.map((p) => p.bytes);
  const camera = oneShotCamera("video/x-motion-jpeg", concat(fillRun(2 * 1024 * 1024), a, a));
  try {
    const run = await runSource(
      createSource(`${camera.origin}/video`, FAST),
      (r) => r.frames.length >= 2,
    );
    assertEquals(run.frames.map((f) => f.bytes), [a, a]);
    // The start marker and one fill byte over the cap are dropped with the image.
    const fill = `skipped ${
      MAX_FILL_BYTES + 3
    } bytes: a run of over ${MAX_FILL_BYTES} FF fill bytes`;
    assertEquals(run.lines[0], fill);
    assert(/^skipped \d+ bytes: \d+ bytes without a JPEG start$/.test(run.lines[1]), run.lines[1]);
    assertEquals(run.lines.slice(2, 4), ["whole images again", "online (bare MJPEG)"]);
  } finally {
    await camera.stop();
  }
});
