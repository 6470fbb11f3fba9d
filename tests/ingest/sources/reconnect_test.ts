/**
 * Reconnect timing of the HTTP source on a fake clock (no real waiting): exponential backoff
 * with jitter from 1 s to the 60 s cap while the camera is down, the state logged once, and
 * polling at `everyMs` again once it is back.
 */
import { assert, assertEquals } from "../../_assert.ts";
import { FakeClock } from "../../_fake_clock.ts";
import { HttpSource } from "../../../src/ingest/sources/http_snapshot.ts";
import type { Frame, SourceContext } from "../../../src/ingest/types.ts";
import { StatusBoard } from "../../../src/ingest/log.ts";
import { readPhotos } from "../_photos.ts";

Deno.test("a camera down for ten minutes is retried at 1, 2, 4 ... 60, 60 s, then polled again", async () => {
  const [photo] = await readPhotos();
  const clock = new FakeClock();
  clock.randomValue = 0; // no jitter: exact delays
  let down = true;
  let requests = 0;
  const fetch = (_url: URL, _init: RequestInit) => {
    requests++;
    return down ? Promise.reject(new TypeError("connection refused")) : Promise.resolve(
      new Response(photo.bytes.slice(), { headers: { "content-type": "image/jpeg" } }),
    );
  };
  const source = new HttpSource({
    url: new URL("http://cam.invalid/snap.jpg"),
    everyMs: 2000,
    fetch,
  });
  const frames: Frame[] = [];
  const lines: string[] = [];
  const board = new StatusBoard((r) => lines.push(r.message), () => clock.now());
  const controller = new AbortController();
  const context: SourceContext = {
    signal: controller.signal,
    emit: (f) => frames.push(f),
    status: (channel, state, message, level) =>
      board.set(source.name, channel, state, message, level),
    log: () => {},
    clock,
  };
  const running = source.run(context);
  // Ten minutes down.
  for (let t = 0; t < 600; t++) await clock.advance(1000);
  const expected = [1000, 2000, 4000, 8000, 16000, 32000, 60000];
  assertEquals(clock.sleeps.slice(0, 7), expected);
  assert(clock.sleeps.slice(7).every((d) => d === 60000));
  assertEquals(lines.filter((l) => l.startsWith("offline")).length, 1);
  const attempts = requests;
  assert(attempts >= 14 && attempts <= 16, `${attempts} attempts in 10 minutes`);
  // Back online: picked up at the next retry, then polled every 2 s.
  down = false;
  for (let t = 0; t < 70; t++) await clock.advance(1000);
  assert(frames.length >= 5, `${frames.length} frames after recovery`);
  assertEquals(clock.sleeps.at(-1), 2000);
  assertEquals(lines.filter((l) => l.startsWith("online")).length, 1);
  controller.abort();
  await running;
});
