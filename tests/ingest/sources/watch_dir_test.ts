/**
 * The watched-folder source: a file written slowly in pieces is read only when whole; a file
 * renamed into place and a replaced file each give one event; other files are ignored.
 */
import { assert, assertEquals } from "../../_assert.ts";
import { ingestUntil, top1, withModel } from "../_harness.ts";
import { readPhotos } from "../_photos.ts";
import { WatchDirSource } from "../../../src/ingest/sources/watch_dir.ts";
import { looksComplete } from "../../../src/ingest/sources/watch_dir.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("only complete JPEGs and PNGs look complete", async () => {
  const [photo] = await readPhotos();
  assertEquals(looksComplete(photo.bytes), true);
  assertEquals(looksComplete(photo.bytes.subarray(0, photo.bytes.length - 10)), false);
});

Deno.test("a watched folder: slow writes, renames and replacements, each read once and whole", async () => {
  const photos = await readPhotos();
  const dir = await Deno.makeTempDir({ prefix: "ingest_watch_" });
  try {
    await withModel(async (model) => {
      const script = (async () => {
        await sleep(300); // the watcher is up
        // 1. Written slowly in four pieces, with pauses longer than the settle time.
        const file = await Deno.open(`${dir}/img1.jpg`, { write: true, create: true });
        const bytes = photos[0].bytes;
        const quarter = Math.ceil(bytes.length / 4);
        for (let at = 0; at < bytes.length; at += quarter) {
          await file.write(bytes.subarray(at, at + quarter));
          await sleep(250);
        }
        file.close();
        await sleep(600);
        // 2. Written elsewhere and renamed into place (how rpicam-still and motion tools do it).
        await Deno.writeFile(`${dir}/.img2.jpg.tmp`, photos[1].bytes);
        await Deno.rename(`${dir}/.img2.jpg.tmp`, `${dir}/img2.JPG`);
        await Deno.writeTextFile(`${dir}/notes.txt`, "not an image");
        await sleep(600);
        // 3. The first file replaced by another photo.
        await Deno.writeFile(`${dir}/img1.jpg`, photos[2].bytes);
      })();
      const run = await ingestUntil({
        model,
        sources: [new WatchDirSource({ dir, settleMs: 100, incompleteMs: 5000 })],
        until: (r) => r.events.length >= 3,
        timeoutMs: 15_000,
      });
      await script;
      assertEquals(run.events.map(top1), [photos[0].label, photos[1].label, photos[2].label]);
      assertEquals(
        run.events.map((e) => e.frame.bytes),
        photos.slice(0, 3).map((p) => p.bytes.length),
      );
      const stats = Object.values(run.stats.sources)[0];
      assertEquals(stats.bad, 0, run.lines.join("\n"));
      assert(run.events.every((e) => e.source === dir));
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
