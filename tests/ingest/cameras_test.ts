/**
 * Cameras with their own settings in the ingest loop, on small generated front-door frames and
 * a head taught from them (the 0.25 model, one load for the file): a head per camera, state
 * confirmation, collecting the most distinct frames, and the stop stats of a source that never
 * came online.
 */
import { assert, assertEquals, assertRejects } from "../_assert.ts";
import { HeadError, loadMobileNet, teach } from "../../mod.ts";
import { DOORSTEP } from "../../bench/teach_scene.ts";
import { frames, png } from "../head/_frames.ts";
import { ingestUntil } from "./_harness.ts";
import { readPhotos } from "./_photos.ts";
import { runIngest } from "../../src/ingest/ingest.ts";
import { UNSORTED } from "../../src/ingest/collect.ts";
import { HttpSource } from "../../src/ingest/sources/http_snapshot.ts";
import { listExampleFolder } from "../../src/head/folder.ts";
import type { Source } from "../../src/ingest/types.ts";

const model = await loadMobileNet({ model: "0.25_224" });
const head = await teach(model, {
  package: frames("package", 4, 100),
  empty: frames("empty", 4, 200),
}, { zone: DOORSTEP });

/** Frames of a state from one seed each, as PNG bytes. */
async function scene(state: "empty" | "package", ...seeds: number[]): Promise<Uint8Array[]> {
  return await Promise.all(seeds.map((seed) => png(frames(state, 1, seed)[0])));
}

/** A camera that sends `images` (kept: none dropped, inferred in order), then ends. */
function camera(name: string, images: Uint8Array[]): Source {
  return {
    name,
    run(context) {
      for (const bytes of images) {
        context.emit({ source: name, bytes, time: context.clock.now(), keep: true });
      }
      return Promise.resolve();
    },
  };
}

/** The head's answer to an image: its class, or "unknown". */
async function answer(bytes: Uint8Array): Promise<string> {
  const result = await model.withHead(head).classifyDetailed(bytes);
  return result.unknown ? "unknown" : result.predictions[0].label;
}

Deno.test("each camera its own head: the door answers in the taught classes with unknown, the street in ImageNet's", async () => {
  const door = await scene("package", 300, 301);
  const [photo] = await readPhotos();
  const run = await ingestUntil({
    model,
    sources: [
      { source: camera("door-cam", door), name: "front door", head },
      camera("street-cam", [photo.bytes]),
    ],
    until: () => false,
  });
  const byCamera = (name: string) => run.events.filter((e) => e.camera === name);
  assertEquals(byCamera("front door").length, 2);
  for (const event of byCamera("front door")) {
    assertEquals(event.predictions.map((p) => p.label).sort(), ["empty", "package"]);
    assertEquals(event.predictions[0].label, "package");
    assertEquals(event.unknown, false);
    assertEquals(event.imagenet?.length, 5);
  }
  const [street] = byCamera("street-cam");
  const imagenet = await model.classifyDetailed(photo.bytes, { resize: "stretch" });
  assertEquals(street.predictions.map((p) => p.label), imagenet.predictions.map((p) => p.label));
  assertEquals([street.unknown, street.imagenet, street.state], [undefined, undefined, undefined]);
});

Deno.test("a head taught on other weights is refused before anything runs", async () => {
  const other = await loadMobileNet();
  try {
    const error = await assertRejects(
      () => runIngest({ model: other, sources: [{ source: camera("c", []), head }], sinks: [] }),
      HeadError,
    );
    assertEquals(error.code, "MODEL_MISMATCH");
  } finally {
    await other.dispose();
  }
});

Deno.test("--confirm 3: an event only when 3 answers in a row agree, with state and previous; unknown is no state", async () => {
  const [e0, e1, e2, e4, e5] = await scene("empty", 400, 401, 402, 404, 405);
  const [p0, p1, p3, p4] = await scene("package", 300, 301, 303, 304);
  const zebra = (await readPhotos())[1].bytes;
  const sequence = [e0, e2, e1, zebra, e4, p0, e5, p1, p3, p4];
  // what the head answers to each frame (deterministic: the same examples give the same head)
  const answers = [];
  for (const bytes of sequence) answers.push(await answer(bytes));
  assertEquals(answers, [
    "empty",
    "empty",
    "unknown",
    "unknown",
    "empty", // third empty: confirmed, the unknown ones between neither count nor break the run
    "package",
    "empty", // a single package does not change the state, and breaks the run of packages
    "package",
    "package",
    "package", // confirmed
  ]);
  const run = await ingestUntil({
    model,
    sources: [{ source: camera("garage", sequence), head, confirm: 3 }],
    until: () => false,
  });
  assertEquals(run.events.map((e) => [e.state, e.previous]), [["empty", null], [
    "package",
    "empty",
  ]]);
  assertEquals(run.events.map((e) => e.predictions[0].label), ["empty", "package"]);
  assertEquals(run.stats.sources.garage.inferred, sequence.length);
  assertEquals(run.stats.sources.garage.events, 2);
});

Deno.test("collecting: the most distinct frames go to DIR/_unsorted, not those like what is saved; bounded, then logged once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ingest_collect_" });
  try {
    const [e0, e2, e4] = await scene("empty", 400, 402, 404);
    const packages = await scene("package", 300, 301, 303, 304, 305);
    await Deno.mkdir(`${dir}/empty`);
    await Deno.writeFile(`${dir}/empty/labelled.png`, e0);
    const sequence = [e0, e0, packages[0], packages[0], ...packages.slice(1), e2, e4];
    const run = await ingestUntil({
      model,
      sources: [{
        source: camera("porch", sequence),
        name: "porch",
        zone: DOORSTEP,
        collect: { dir, maxFrames: 3, minDistance: 0.05 },
      }],
      until: () => false,
    });
    assertEquals(run.events.length, sequence.length);
    const saved = [];
    for await (const entry of Deno.readDir(`${dir}/${UNSORTED}`)) saved.push(entry.name);
    assertEquals(saved.length, 3, run.lines.join("\n"));
    assert(saved.every((name) => /^porch-\d{8}T\d{9}Z(-\d+)?\.png$/.test(name)), saved.join());
    const bytes = await Promise.all(saved.map((n) => Deno.readFile(`${dir}/${UNSORTED}/${n}`)));
    const key = (b: Uint8Array) => b.join(",");
    // the first package frame (unlike the labelled empty one) is saved, never a repeat
    assert(bytes.some((b) => key(b) === key(packages[0])));
    assertEquals(new Set(bytes.map(key)).size, 3);
    assert(!bytes.some((b) => key(b) === key(e0)), "a frame like a labelled one is not saved");
    const full = run.lines.filter((l) => l.includes(`${UNSORTED} is full (3 frames`));
    assertEquals(full.length, 1, run.lines.join("\n"));
    // teach reads the class folders only: the unsorted frames wait to be labelled
    assertEquals([...(await listExampleFolder(dir, () => {})).keys()], ["empty"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the stop stats list a source that never came online, with why", async () => {
  const [photo] = await readPhotos();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close(); // nothing listens there now: connection refused
  const dead = new HttpSource({
    url: new URL(`http://127.0.0.1:${port}/snap.jpg`),
    backoff: { initialMs: 50, maxMs: 50 },
  });
  let events = 0;
  const run = await ingestUntil({
    model,
    sources: [camera("stdin", [photo.bytes]), dead],
    until: (r) => (events = r.events.length) >= 1 && r.lines.some((l) => l.includes("offline")),
  });
  assertEquals(events, 1);
  assertEquals(run.stats.sources.stdin.inferred, 1);
  const stats = run.stats.sources[dead.name];
  assertEquals([stats.received, stats.inferred], [0, 0]);
  assert(stats.status?.startsWith("offline: "), stats.status ?? "no status");
});

Deno.test("teardown", async () => {
  await model.dispose();
});
