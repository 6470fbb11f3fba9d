/**
 * The HTTP snapshot source against a fake camera on loopback: labels of the development photos,
 * Basic and Digest (MD5, SHA-256) logins, a wrong password, garbage answers (a login page is
 * logged as "answered text/html", never handed to the model), a camera that hangs mid-body,
 * and one that goes offline and comes back. Timings are shortened.
 */
import { assert, assertEquals } from "../../_assert.ts";
import { FAST_BACKOFF, ingestUntil, top1, withModel } from "../_harness.ts";
import { type CameraAuth, FakeCamera, jpegResponse } from "../_camera.ts";
import { readPhotos } from "../_photos.ts";
import { createSource } from "../../../src/ingest/sources/create.ts";
import { Redactor } from "../../../src/ingest/redact.ts";
import { runSource } from "../_source_run.ts";

const photos = await readPhotos();
const labelBySize = new Map(photos.map((p) => [p.bytes.length, p.label]));
assertEquals(labelBySize.size, photos.length, "photo sizes identify the photos");

function cycling(): (request: Request) => Response {
  let i = 0;
  return () => jpegResponse(photos[i++ % photos.length].bytes);
}

const FAST = { everyMs: 20, connectTimeoutMs: 1000, readTimeoutMs: 300, backoff: FAST_BACKOFF };

function assertRightLabels(
  events: { frame: { bytes: number }; predictions: { label: string }[] }[],
) {
  for (const e of events) assertEquals(e.predictions[0].label, labelBySize.get(e.frame.bytes));
}

Deno.test("snapshots polled from a camera give events with the photos' labels", async () => {
  const camera = new FakeCamera(cycling()).start();
  try {
    await withModel(async (model) => {
      const run = await ingestUntil({
        model,
        sources: [createSource(`${camera.origin}/cgi-bin/snapshot.cgi?channel=1`, FAST)],
        until: (r) => new Set(r.events.map(top1)).size >= 4,
      });
      assert(run.events.length >= 4, `${run.events.length} events`);
      assertRightLabels(run.events);
      const e = run.events[0];
      assertEquals(Object.keys(e), [
        "source",
        "camera",
        "time",
        "frame",
        "predictions",
        "timings",
        "dropped",
      ]);
      assertEquals(e.source, `${camera.origin}/cgi-bin/snapshot.cgi?channel=1`);
      assertEquals(e.camera, `${new URL(camera.origin).host}/cgi-bin/snapshot.cgi`);
      assertEquals([e.frame.width, e.frame.height], [500, 375]);
      assertEquals(e.predictions.length, 5);
      assert(!Number.isNaN(Date.parse(e.time)));
    });
  } finally {
    await camera.stop();
  }
});

for (
  const auth of [
    { scheme: "basic", user: "admin", password: "pa ss:1" },
    { scheme: "digest", user: "admin", password: "Hik12345!", algorithm: "MD5" },
    { scheme: "digest", user: "admin", password: "Dahua#987", algorithm: "SHA-256" },
  ] satisfies CameraAuth[]
) {
  const name = auth.scheme === "basic" ? "Basic" : `Digest ${auth.algorithm}`;
  Deno.test(`${name}: logs in with credentials from the URL, never shows the password`, async () => {
    const camera = new FakeCamera(cycling(), auth).start();
    const redactor = new Redactor();
    const url = `http://${auth.user}:${encodeURIComponent(auth.password)}@127.0.0.1:${
      camera.origin.split(":").pop()
    }/ISAPI/Streaming/channels/101/picture`;
    try {
      await withModel(async (model) => {
        const run = await ingestUntil({
          model,
          redactor,
          sources: [createSource(url, { ...FAST, redactor })],
          until: (r) => r.events.length >= 5,
        });
        assert(run.events.length >= 5, `${run.events.length} events; log: ${run.lines}`);
        assertRightLabels(run.events);
        // The scheme (and Digest nonce) is learnt once, then reused: one 401 in all.
        assertEquals(camera.unauthorized, 1);
        const shown = JSON.stringify(run.events) + run.lines.join("\n");
        assert(
          !shown.includes(auth.password) && !shown.includes(encodeURIComponent(auth.password)),
        );
        assert(run.events.every((e) => !e.source.includes("admin")));
      });
    } finally {
      await camera.stop();
    }
  });
}

Deno.test("a wrong password: 401 logged once, retried with backoff, never fatal, never shown", async () => {
  const camera = new FakeCamera(cycling(), {
    scheme: "digest",
    user: "admin",
    password: "right",
    algorithm: "MD5",
  }).start();
  const redactor = new Redactor();
  try {
    await withModel(async (model) => {
      const run = await ingestUntil({
        model,
        redactor,
        sources: [
          createSource(`${camera.origin}/snap.jpg`, { ...FAST, user: "admin:wrong-pw", redactor }),
        ],
        until: () => camera.requests >= 8,
      });
      assertEquals(run.events.length, 0);
      assert(camera.requests >= 8, `${camera.requests} requests`);
      const offline = run.lines.filter((l) => l.includes("HTTP 401"));
      assertEquals(offline.length, 1, run.lines.join("\n"));
      assert(!run.lines.join("\n").includes("wrong-pw"));
    });
  } finally {
    await camera.stop();
  }
});

Deno.test("garbage answers (HTML, a truncated JPEG, a hang mid-body) are logged and the camera kept", async () => {
  const [good] = photos;
  let i = 0;
  const camera = new FakeCamera(() => {
    const n = i++;
    if (n === 0) {
      return new Response("<html><body>Login</body></html>", {
        headers: { "content-type": "text/html" },
      });
    }
    if (n === 1) return jpegResponse(good.bytes.subarray(0, 3000));
    if (n === 2) {
      // Headers and half the body, then nothing: the read timeout must notice.
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(good.bytes.subarray(0, 1000));
        },
      });
      return new Response(body, { headers: { "content-type": "image/jpeg" } });
    }
    return jpegResponse(good.bytes);
  }).start();
  try {
    await withModel(async (model) => {
      const run = await ingestUntil({
        model,
        sources: [createSource(`${camera.origin}/latest.jpg`, FAST)],
        until: (r) => r.events.length >= 2,
      });
      const log = run.lines.join("\n");
      assert(/offline: answered text\/html \(HTTP 200\), not an image/.test(log), log);
      assert(/ImageDecodeError TRUNCATED/.test(log), log);
      assert(/offline: no data for 300 ms/.test(log), log);
      assert(/frames decode again/.test(log), log);
      assertEquals(top1(run.events[0]), good.label);
      const stats = Object.values(run.stats.sources)[0];
      assertEquals(stats.bad, 1); // the HTML never reached the decoder
    });
  } finally {
    await camera.stop();
  }
});

Deno.test("a camera flapping offline and online is picked up again each time", async () => {
  const camera = new FakeCamera(cycling()).start();
  const url = `${camera.origin}/snapshot.jpg`;
  try {
    await withModel(async (model) => {
      let phase = 0;
      const run = await ingestUntil({
        model,
        sources: [createSource(url, FAST)],
        timeoutMs: 30_000,
        until: (r) => {
          // Three outages, each after two more events.
          if (phase < 6 && r.events.length >= (phase / 2 + 1) * 2 && phase % 2 === 0) {
            phase++;
            camera.stop().then(() => setTimeout(() => (camera.start(), phase++), 300));
          }
          return phase >= 6 && r.events.length >= 8;
        },
      });
      assert(run.events.length >= 8, `${run.events.length} events`);
      const offline = run.lines.filter((l) => l.includes("offline:"));
      const online = run.lines.filter((l) => l.includes("online (snapshot)"));
      assertEquals(offline.length, 3, run.lines.join("\n"));
      assertEquals(online.length, 4, run.lines.join("\n"));
      assertRightLabels(run.events);
    });
  } finally {
    await camera.stop();
  }
});

Deno.test("a URL that answers HTML is logged as 'answered text/html' with its status, once, and never online", async () => {
  // Issue 21 item 7: it was logged as "online (snapshot)", then a hex dump per frame.
  for (const type of ["text/html; charset=utf-8", "application/json"]) {
    const camera = new FakeCamera(() =>
      new Response("<!DOCTYPE html><html><body>Please log in</body></html>", {
        headers: { "content-type": type },
      })
    ).start();
    try {
      const source = createSource(`${camera.origin}/`, FAST);
      const run = await runSource(source, () => camera.requests >= 4);
      assert(camera.requests >= 4, `${camera.requests} requests`);
      assertEquals(run.frames.length, 0);
      const media = type.split(";")[0];
      assertEquals(run.lines.length, 1, run.lines.join("\n"));
      assert(
        run.lines[0].startsWith(`offline: answered ${media} (HTTP 200), not an image; retrying`),
        run.lines[0],
      );
    } finally {
      await camera.stop();
    }
  }
});
