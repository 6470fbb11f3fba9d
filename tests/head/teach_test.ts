/**
 * teach and model.withHead with the bundled 0.25 model (one load for the file): small
 * generated front-door frames, "empty" or "package" on the doorstep.
 */
import { assert, assertEquals, assertMatch, assertRejects, assertThrows } from "../_assert.ts";
import { Head, HeadError, type HeadJson, loadMobileNet, teach } from "../../mod.ts";
import { contentHash } from "../../src/head/codec.ts";
import { DOORSTEP } from "../../bench/teach_scene.ts";
import { frames, png, writeExamples } from "./_frames.ts";

const model = await loadMobileNet({ model: "0.25_224" });
const examples = { package: frames("package", 4, 100), empty: frames("empty", 4, 200) };
const taught = await teach(model, examples, { zone: DOORSTEP });

async function resealed(json: HeadJson, edit: (j: HeadJson) => void): Promise<Head> {
  const copy = structuredClone(json);
  edit(copy);
  copy.sha256 = await contentHash(copy as unknown as Record<string, unknown>);
  return await Head.load(copy);
}

Deno.test("teach: labels in order, the report, the zone stored; the same examples give the same head", async () => {
  assertEquals(taught.labels, ["empty", "package"]);
  assertEquals(taught.zone, DOORSTEP);
  assertEquals(taught.resize, "stretch");
  const report = taught.report;
  assertEquals(report.examples, { empty: 4, package: 4 });
  assertEquals(report.folds, 4);
  assert(typeof report.accuracy === "number" && report.accuracy >= 0.75, `${report.accuracy}`);
  assertEquals((report.confusion as number[][]).flat().reduce((a, b) => a + b), 8);
  assert(taught.threshold > 0 && taught.threshold < 1);
  // warned: fewer than 5 examples per class
  assertEquals((report.warnings as string[]).length, 2);
  const again = await teach(model, examples, { zone: DOORSTEP });
  assertEquals(again.sha256, taught.sha256);
  assertEquals(again.toJSON(), taught.toJSON());
});

Deno.test("withHead: classify answers in the taught classes, with unknown and the ImageNet answer; embed is unchanged", async () => {
  const doorbell = model.withHead(taught);
  assertEquals(doorbell.head, taught);
  assertEquals(model.head, undefined);
  let right = 0;
  for (
    const [state, list] of [["package", frames("package", 3, 900)], [
      "empty",
      frames("empty", 3, 950),
    ]] as const
  ) {
    for (const frame of list) {
      const result = await doorbell.classifyDetailed(frame);
      assertEquals(result.predictions.map((p) => p.label).sort(), ["empty", "package"]);
      assert(result.predictions[0].probability >= result.predictions[1].probability);
      assertEquals(typeof result.unknown, "boolean");
      assertEquals(result.imagenet!.length, 5);
      if (result.predictions[0].label === state) right++;
    }
  }
  assert(right >= 5, `${right}/6 new frames right`);
  const frame = frames("package", 1, 77)[0];
  assertEquals([...await doorbell.embed(frame)], [...await model.embed(frame)]);
  // the ImageNet answer of the same run: the head's zone and resize
  assertEquals(
    (await doorbell.classifyDetailed(frame)).imagenet,
    (await model.classifyDetailed(frame, { zone: DOORSTEP, resize: "stretch" })).predictions,
  );
});

Deno.test("a saved head loads back with the same answers; loadMobileNet({ head }) takes its path", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await taught.save(`${dir}/doorbell.json`);
    const frame = frames("package", 1, 31)[0];
    const before = await model.withHead(taught).classifyDetailed(frame);
    const loaded = await loadMobileNet({ model: "0.25_224", head: `${dir}/doorbell.json` });
    const after = await loaded.classifyDetailed(frame);
    assertEquals(after.predictions, before.predictions);
    assertEquals(after.unknown, before.unknown);
    await loaded.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("unknown: set when the top probability is under the head's threshold", async () => {
  const frame = frames("package", 1, 55)[0];
  const json = taught.toJSON();
  const always = model.withHead(await resealed(json, (j) => j.threshold = 1));
  const never = model.withHead(await resealed(json, (j) => j.threshold = 0));
  assertEquals((await always.classifyDetailed(frame)).unknown, true);
  assertEquals((await never.classifyDetailed(frame)).unknown, false);
  // a categories head on a photo of none of its categories
  const pets = model.withHead(await Head.fromCategories(["dog", "cat"]));
  const elephant = await Deno.readFile(
    new URL("../../samples/african_elephant.jpg", import.meta.url),
  );
  const result = await pets.classifyDetailed(elephant);
  assertEquals(result.unknown, true);
  assertEquals(result.imagenet, await model.classify(elephant));
  const big = model.withHead(await Head.fromCategories(["dog", "elephant"]));
  const answer = await big.classifyDetailed(elephant);
  assertEquals(answer.predictions[0].label, "elephant");
});

Deno.test("a head taught on other weights is refused by withHead and by loadMobileNet", async () => {
  const other = await resealed(taught.toJSON(), (j) => j.model.weightsSha256 = "0".repeat(64));
  const error = assertThrows(() => model.withHead(other), HeadError);
  assertEquals(error.code, "MODEL_MISMATCH");
  assertMatch(error.message, /teach the head again/);
  const rejected = await assertRejects(
    loadMobileNet({ model: "0.25_224", head: other }),
    HeadError,
  );
  assertEquals(rejected.code, "MODEL_MISMATCH");
});

Deno.test("teach refuses a missing folder, one class, an empty class; skips non-images with a warning", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const refused = async (examples: string | Record<string, Uint8Array[]>, message: RegExp) => {
      const error = await assertRejects(teach(model, examples), HeadError);
      assertEquals(error.code, "BAD_EXAMPLES");
      assertMatch(error.message, message);
    };
    await refused(`${dir}/none`, /does not exist/);
    await writeExamples(`${dir}/one`, { open: frames("empty", 2, 1) });
    await refused(`${dir}/one`, /only one class \("open"\)/);
    await Deno.mkdir(`${dir}/one/closed`);
    await refused(`${dir}/one`, /class "closed" has no examples/);
    await Deno.writeTextFile(`${dir}/one/closed/notes.txt`, "not an image");
    await refused(`${dir}/one`, /class "closed" has no images/);
    await refused({ a: [await png(frames("empty", 1, 1)[0])], b: [] }, /class "b" has no examples/);
    // a folder with a stray file and a text file: both skipped with warnings
    await writeExamples(`${dir}/two`, {
      empty: frames("empty", 2, 10),
      package: frames("package", 2, 20),
    });
    await Deno.writeTextFile(`${dir}/two/README.txt`, "examples");
    await writeExamples(`${dir}/two`, { _unsorted: frames("empty", 1, 30) }); // not a class
    await Deno.writeTextFile(`${dir}/two/empty/notes.txt`, "not an image");
    const warnings: string[] = [];
    const head = await teach(model, `${dir}/two`, { onWarning: (w) => warnings.push(w) });
    assertEquals(head.report.examples, { empty: 2, package: 2 });
    assertEquals(head.report.skipped, 1);
    assert(warnings.some((w) => /README\.txt/.test(w)), warnings.join("\n"));
    assert(warnings.some((w) => /empty\/notes\.txt: not an image/.test(w)), warnings.join("\n"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("one example per class: no cross-validation, said so; the head still answers", async () => {
  const head = await teach(model, { a: frames("empty", 1, 3), b: frames("package", 1, 4) });
  assertEquals(head.report.accuracy, null);
  assertEquals(head.report.folds, 0);
  assertEquals(head.threshold, 0);
  assertEquals((await model.withHead(head).classify(frames("empty", 1, 3)[0]))[0].label, "a");
});

Deno.test("teaching through a model with a head ignores that head's zone and resize", async () => {
  const few = { a: frames("empty", 2, 60), b: frames("package", 2, 70) };
  const plain = await teach(model, few);
  const through = await teach(model.withHead(taught), few);
  assertEquals(through.sha256, plain.sha256);
});

Deno.test("teardown", async () => {
  await model.dispose();
});
