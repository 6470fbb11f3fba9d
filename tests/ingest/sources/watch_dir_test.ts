/**
 * The watched-folder source: a file written slowly in pieces is read only when whole; a file
 * renamed into place and a replaced file each give one event naming the file; at start the
 * newest image is read and the older ones logged; TIFFs are read, other files logged once.
 */
import { assert, assertEquals } from "../../_assert.ts";
import { ingestUntil, top1, withModel } from "../_harness.ts";
import { readPhotos } from "../_photos.ts";
import { looksComplete, WatchDirSource } from "../../../src/ingest/sources/watch_dir.ts";
import { encodeTiff } from "../../image/_tiff.ts";
import jpegJs from "npm:jpeg-js@0.4.4";

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
      assertEquals(run.events.map((e) => e.file), ["img1.jpg", "img2.JPG", "img1.jpg"]);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A photo as a deflated RGBA TIFF. */
function asTiff(jpeg: Uint8Array): Uint8Array {
  const { data, width, height } = jpegJs.decode(jpeg, { useTArray: true });
  return encodeTiff(data, width, height, 4, { compression: "deflate" });
}

Deno.test("a watched folder at start: the newest image is read, the older ones logged; a .tif is read, a .txt logged once", async () => {
  const photos = await readPhotos();
  const dir = await Deno.makeTempDir({ prefix: "ingest_watch_" });
  try {
    for (const [i, name] of ["old1.jpg", "old2.png", "newest.jpg"].entries()) {
      await Deno.writeFile(`${dir}/${name}`, photos[i].bytes);
      const at = new Date(Date.UTC(2026, 0, 1, 0, i));
      await Deno.utime(`${dir}/${name}`, at, at);
    }
    await Deno.writeTextFile(`${dir}/notes.txt`, "not an image");
    await withModel(async (model) => {
      let wrote = false;
      const run = await ingestUntil({
        model,
        sources: [new WatchDirSource({ dir, settleMs: 100 })],
        until: (r) => {
          if (r.events.length === 1 && !wrote) {
            wrote = true;
            Deno.writeFile(`${dir}/.cam.tif.tmp`, asTiff(photos[3].bytes)).then(() =>
              Deno.rename(`${dir}/.cam.tif.tmp`, `${dir}/cam.tif`)
            );
          }
          return r.events.length >= 2;
        },
        timeoutMs: 15_000,
      });
      assertEquals(run.events.map((e) => [e.file, top1(e)]), [
        ["newest.jpg", photos[2].label],
        ["cam.tif", photos[3].label],
      ]);
      const lines = run.logs.map((r) => r.message);
      assertEquals(
        lines.filter((l) => l.startsWith("2 older image(s) already in the folder")).length,
        1,
      );
      assertEquals(lines.filter((l) => l.startsWith("ignoring notes.txt: .txt files")).length, 1);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
