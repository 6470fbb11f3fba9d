/** `--min-change`: the thumbnail difference, and frames skipped in a run. */
import { assert, assertEquals } from "../_assert.ts";
import { changeBetween, thumbnail, THUMBNAIL_SIDE } from "../../src/ingest/change.ts";
import { ingestUntil, withModel } from "./_harness.ts";
import { concat, padded, readPhotos, syntheticJpeg } from "./_photos.ts";
import { StreamSource } from "../../src/ingest/sources/stdin.ts";
import { ImageDecodeError } from "../../src/errors.ts";
import { assertRejects } from "../_assert.ts";

Deno.test("the same picture differs by ~0, another photo by much more", async () => {
  const [a, b] = await readPhotos();
  const ta = await thumbnail(a.bytes);
  assertEquals(ta.length, THUMBNAIL_SIDE * THUMBNAIL_SIDE);
  assertEquals(changeBetween(ta, await thumbnail(padded(a.bytes, 10))), 0);
  const other = changeBetween(ta, await thumbnail(b.bytes));
  assert(other > 0.05, `photo to photo: ${other}`);
  const g1 = await thumbnail(syntheticJpeg(320, 240, 0));
  const g2 = await thumbnail(syntheticJpeg(320, 240, 12));
  const small = changeBetween(g1, g2);
  assert(small > 0.005 && small < 0.03, `a slight tint: ${small}`);
  await assertRejects(() => thumbnail(new TextEncoder().encode("<html>")), ImageDecodeError);
});

Deno.test("with --min-change, a repeated frame is not inferred again", async () => {
  const [a, b] = await readPhotos();
  await withModel(async (model) => {
    // a, a (re-encoded the same), b, b: two events, two skipped.
    let i = 0;
    const chunks = [a.bytes, padded(a.bytes, 5), b.bytes, padded(b.bytes, 7)];
    const readable = new ReadableStream<Uint8Array>({
      async pull(controller) {
        await new Promise((resolve) => setTimeout(resolve, 150)); // one at a time
        if (i < chunks.length) controller.enqueue(chunks[i++]);
        else controller.close();
      },
    });
    const run = await ingestUntil({
      model,
      minChange: 0.02,
      sources: [new StreamSource({ readable, name: "cam" })],
      until: () => false,
    });
    const s = run.stats.sources.cam;
    assertEquals(s.received, 4);
    assertEquals(s.unchanged + s.dropped, 2);
    assertEquals(run.events.map((e) => e.predictions[0].label), [a.label, b.label]);
  });
  void concat;
});
