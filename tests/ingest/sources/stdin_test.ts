/**
 * The stdin source through the real CLI: `deno task ingest -` with JPEGs piped in back to back
 * (as `rpicam-vid --codec mjpeg -o -` writes them), and the source alone on a hostile stream.
 */
import { assert, assertEquals } from "../../_assert.ts";
import { concat, readPhotos } from "../_photos.ts";
import { LineReader } from "../_lines.ts";
import type { IngestEvent } from "../../../src/ingest/event.ts";
import { StreamSource } from "../../../src/ingest/sources/stdin.ts";
import { MAX_FILL_BYTES } from "../../../src/ingest/sources/jpeg_splitter.ts";
import { chunkedBody, fillRun } from "../_hostile_streams.ts";
import { runSource } from "../_source_run.ts";
import { spawnIngest } from "../_cli.ts";

Deno.test("stdin: each piped JPEG gives an event with its label; end of input ends the process", async () => {
  const photos = await readPhotos();
  const child = spawnIngest(["-", "--top", "3"]);
  const out = new LineReader(child.stdout);
  const stderr = new Response(child.stderr).text();
  const writer = child.stdin.getWriter();
  try {
    for (const photo of photos.slice(0, 5)) {
      // Written in two pieces, split mid-image, as a pipe delivers it.
      const cut = photo.bytes.length >> 1;
      await writer.write(photo.bytes.subarray(0, cut));
      await writer.write(photo.bytes.subarray(cut));
      const line = await out.next();
      if (!line) {
        child.kill();
        throw new Error(`no event for ${photo.file}; stderr: ${await stderr}`);
      }
      const event = JSON.parse(line) as IngestEvent;
      assertEquals(event.source, "stdin");
      assertEquals(event.predictions[0].label, photo.label);
      assertEquals(event.predictions.length, 3);
      assertEquals(event.frame.bytes, photo.bytes.length);
      assertEquals(event.dropped, 0);
    }
    // A burst: every frame is either inferred or counted as dropped.
    await writer.write(concat(...photos.slice(0, 4).map((p) => p.bytes)));
    await writer.close();
    const events = (await out.rest()).map((l) => JSON.parse(l) as IngestEvent);
    assert(events.length >= 1);
    assertEquals(events.length + events.reduce((n, e) => n + e.dropped, 0), 4);
    assertEquals(events.at(-1)!.predictions[0].label, photos[3].label);
    const status = await child.status;
    assertEquals(status.code, 0);
  } finally {
    try {
      child.kill();
    } catch { /* exited */ }
    await child.status;
    await stderr;
  }
});

for (const precision of ["float32", "int8"]) {
  Deno.test(`stdin: \`cat a.jpg b.jpg c.jpg | deno task ingest -\` classifies every image, in order (${precision})`, async () => {
    const photos = (await readPhotos()).slice(0, 4);
    const child = spawnIngest(["-", "--top", "1", "--precision", precision]);
    const stderr = new Response(child.stderr).text();
    const writer = child.stdin.getWriter();
    await writer.write(concat(...photos.map((p) => p.bytes)));
    await writer.close();
    const events = (await new LineReader(child.stdout).rest()).map((l) =>
      JSON.parse(l) as IngestEvent
    );
    assertEquals((await child.status).code, 0, await stderr);
    assertEquals(events.map((e) => e.predictions[0].label), photos.map((p) => p.label));
    assertEquals(events.map((e) => e.dropped), [0, 0, 0, 0]);
  });
}

Deno.test("stdin: an input still read after finiteMs is live: the frames held are dropped for the newest", async () => {
  const [a, b, c] = await readPhotos();
  let push!: (bytes: Uint8Array) => void;
  let end!: () => void;
  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      push = (bytes) => controller.enqueue(bytes);
      end = () => controller.close();
    },
  });
  const run = runSource(new StreamSource({ readable, finiteMs: 100 }), () => false);
  push(concat(a.bytes, b.bytes));
  // c comes in 4 pieces, 80 ms apart: 4 x 50 ms of reading (a longer wait counts 50 ms)
  const quarter = Math.ceil(c.bytes.length / 4);
  for (let at = 0; at < c.bytes.length; at += quarter) {
    await new Promise((resolve) => setTimeout(resolve, 80));
    push(c.bytes.subarray(at, at + quarter));
  }
  end();
  const { frames, lines } = await run;
  assertEquals(frames.map((f) => f.keep), [true, true, undefined]);
  assert(
    lines.some((l) => /^still open after 200 ms of reading: a live stream/.test(l)),
    lines.join(),
  );
});

Deno.test("stdin: a long wait between reads (the model busy) counts as 50 ms: a slow board still reads a finite input whole", async () => {
  const [a, b, c] = await readPhotos();
  let push!: (bytes: Uint8Array) => void;
  const readable = new ReadableStream<Uint8Array>({
    start: (c) => void (push = (x) => c.enqueue(x)),
  });
  const run = runSource(new StreamSource({ readable, finiteMs: 100 }), (r) => r.frames.length >= 3);
  push(a.bytes);
  await new Promise((resolve) => setTimeout(resolve, 300)); // as a first inference on a Pi
  push(b.bytes);
  push(c.bytes);
  const { frames } = await run;
  assertEquals(frames.map((f) => f.keep), [true, true, true]);
});

Deno.test("stdin: a run of FF fill bytes is skipped and logged, and the JPEG after it comes out", async () => {
  const [photo] = await readPhotos();
  const readable = chunkedBody(concat(fillRun(256 * 1024), photo.bytes), 4096);
  const run = await runSource(new StreamSource({ readable }), () => false);
  assertEquals(run.frames.map((f) => f.bytes), [photo.bytes]);
  assertEquals(run.lines, [
    "reading JPEGs",
    `skipped ${MAX_FILL_BYTES + 3} bytes: a run of over ${MAX_FILL_BYTES} FF fill bytes`,
    "whole images again",
    `1 broken image(s) skipped, 0 bytes of an unfinished image at end of input`,
    "end of input",
  ]);
});
