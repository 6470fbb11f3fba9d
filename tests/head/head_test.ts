/**
 * Head files: the round trip (object, file, URL, directory), and every way a file is refused:
 * corrupt, malformed, wrong dimensions, a newer version, too large, missing; heads made from
 * WordNet categories. No model is loaded here.
 */
import { assert, assertEquals, assertRejects, assertThrows } from "../_assert.ts";
import { checkHeadModel, Head, type HeadJson } from "../../src/head/head.ts";
import { HeadError } from "../../src/head/errors.ts";
import { contentHash, encodeFloats } from "../../src/head/codec.ts";
import { findSynset } from "../../src/head/hierarchy.ts";

/** A small taught head by hand: 2 classes on a 4-value embedding. */
function taughtBody(): Omit<HeadJson, "sha256"> {
  return {
    format: "mobilenet-edge-head",
    formatVersion: 1,
    kind: "taught",
    labels: ["closed", "open"],
    model: {
      architecture: "mobilenet_v1",
      alpha: 0.25,
      resolution: 224,
      featureSize: 4,
      weightsSha256: "ab".repeat(32),
    },
    preprocessing: { resize: "stretch", zone: { x: 0.5, y: 0.4, width: 0.3, height: 0.5 } },
    weights: {
      embedding: encodeFloats(new Float32Array([2, 0, 0, 0, 0, 2, 0, 0])),
      bias: encodeFloats(new Float32Array([0, 0.5])),
    },
    threshold: 0.6,
    report: { createdBy: "test" },
  };
}

/** `json` changed by `edit`, with its hash made valid again (so only the edit is checked). */
async function resealed(json: HeadJson, edit: (j: Record<string, unknown>) => void) {
  const copy = structuredClone(json) as unknown as Record<string, unknown>;
  edit(copy);
  copy.sha256 = await contentHash(copy);
  return copy as unknown as HeadJson;
}

Deno.test("a taught head applies softmax(W·x + b) on the normalised embedding, and refuses other weights", async () => {
  const head = await Head.seal(taughtBody());
  assertEquals(head.kind, "taught");
  assertEquals(head.labels, ["closed", "open"]);
  assertEquals(head.zone, { x: 0.5, y: 0.4, width: 0.3, height: 0.5 });
  assertEquals(head.resize, "stretch");
  assertEquals(head.usesProbabilities, false);
  const p = head.apply(new Float32Array([3, 0, 0, 0]), undefined); // x = [1, 0, 0, 0]
  const e = Math.exp(2 - 0.5);
  assert(Math.abs(p[0] - e / (e + 1)) < 1e-6, `${p[0]}`);
  const fits = { weightsId: "ab".repeat(32), featureSize: 4, imagenetTop: false };
  checkHeadModel(head, fits);
  const error = assertThrows(
    () => checkHeadModel(head, { ...fits, weightsId: "cd".repeat(32) }),
    HeadError,
  );
  assertEquals(error.code, "MODEL_MISMATCH");
  assert(error.message.includes("abababababab"), error.message);
  assertThrows(() => checkHeadModel(head, { ...fits, weightsId: undefined }), HeadError);
});

Deno.test("round trip: object, file and URL give the same head; save writes what load reads", async () => {
  const head = await Head.seal(taughtBody());
  const fromObject = await Head.load(head.toJSON());
  assertEquals(fromObject.sha256, head.sha256);
  const dir = await Deno.makeTempDir();
  try {
    await head.save(`${dir}/garage.json`);
    const fromFile = await Head.load(`${dir}/garage.json`);
    assertEquals(fromFile.toJSON(), head.toJSON());
    const fromUrl = await Head.load(new URL(`file://${dir}/garage.json`));
    assertEquals(fromUrl.sha256, head.sha256);
    // the same bytes again: saving is deterministic
    await fromFile.save(`${dir}/again.json`);
    assertEquals(
      await Deno.readTextFile(`${dir}/again.json`),
      await Deno.readTextFile(`${dir}/garage.json`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a head over HTTP: served, missing (404), over the limit", async () => {
  const head = await Head.seal(taughtBody());
  const text = JSON.stringify(head.toJSON());
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const path = new URL(request.url).pathname;
    return path === "/head.json" ? new Response(text) : new Response("no", { status: 404 });
  });
  const base = `http://127.0.0.1:${server.addr.port}`;
  try {
    assertEquals((await Head.load(`${base}/head.json`)).sha256, head.sha256);
    const missing = await assertRejects(Head.load(`${base}/none.json`), HeadError);
    assertEquals(missing.code, "NOT_FOUND");
    const large = await assertRejects(Head.load(`${base}/head.json`, { maxBytes: 100 }), HeadError);
    assertEquals(large.code, "TOO_LARGE");
  } finally {
    await server.shutdown();
  }
});

Deno.test("refused: changed contents (CORRUPT), bad fields, wrong dimensions, newer version, too large, missing", async () => {
  const json = (await Head.seal(taughtBody())).toJSON();
  const code = async (value: unknown) =>
    (await assertRejects(Head.load(value as HeadJson), HeadError)).code;
  // changed after it was written: the threshold, a label, one weight
  assertEquals(await code({ ...json, threshold: 0.1 }), "CORRUPT");
  assertEquals(await code({ ...json, labels: ["closed", "opened"] }), "CORRUPT");
  const weights = json.weights!.embedding!;
  const flipped = `${weights[0] === "A" ? "B" : "A"}${weights.slice(1)}`;
  assertEquals(
    await code({ ...json, weights: { ...json.weights, embedding: flipped } }),
    "CORRUPT",
  );
  // malformed even with a valid hash
  const badHead = async (edit: (j: Record<string, unknown>) => void) =>
    assertEquals(await code(await resealed(json, edit)), "BAD_HEAD");
  await badHead((j) => j.format = "something-else");
  await badHead((j) => j.kind = "magic");
  await badHead((j) => j.labels = ["same", "same"]);
  await badHead((j) => j.labels = ["only"]);
  await badHead((j) => j.threshold = 2);
  await badHead((j) => (j.model as Record<string, unknown>).featureSize = 1e9);
  await badHead((j) =>
    (j.preprocessing as Record<string, unknown>).zone = { x: 0.9, y: 0, width: 0.5, height: 1 }
  );
  // a matrix of the wrong size is refused from its length, before it is decoded
  await badHead((j) =>
    (j.weights as Record<string, unknown>).embedding = encodeFloats(new Float32Array(9))
  );
  await badHead((j) =>
    (j.weights as Record<string, unknown>).embedding = encodeFloats(
      new Float32Array([NaN, 0, 0, 0, 0, 0, 0, 0]),
    )
  );
  await badHead((j) => (j.weights as Record<string, unknown>).colour = "AAAA");
  assertEquals(await code(await resealed(json, (j) => j.formatVersion = 2)), "UNSUPPORTED_VERSION");
  assertEquals(await code("not a head"), "NOT_FOUND");
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/text.json`, "this is not JSON");
    assertEquals(await code(`${dir}/text.json`), "BAD_HEAD");
    await Deno.writeTextFile(`${dir}/big.json`, JSON.stringify(json));
    const large = await assertRejects(Head.load(`${dir}/big.json`, { maxBytes: 64 }), HeadError);
    assertEquals(large.code, "TOO_LARGE");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadDirectory: every NAME.json by name; a bad one is named", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const garage = await Head.seal(taughtBody());
    await garage.save(`${dir}/garage.json`);
    await (await Head.fromCategories(["dog", "cat"])).save(`${dir}/pets.json`);
    await Deno.writeTextFile(`${dir}/notes.txt`, "not a head");
    const heads = await Head.loadDirectory(dir);
    assertEquals([...heads.keys()], ["garage", "pets"]);
    assertEquals(heads.get("pets")!.labels, ["dog", "cat"]);
    await Deno.writeTextFile(`${dir}/broken.json`, "{}");
    const error = await assertRejects(Head.loadDirectory(dir), HeadError);
    assert(error.message.startsWith("broken.json: "), error.message);
    const missing = await assertRejects(Head.loadDirectory(`${dir}/none`), HeadError);
    assertEquals(missing.code, "NOT_FOUND");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("categories from WordNet: each ImageNet class counts for the most specific category", async () => {
  const dog = findSynset("dog")!;
  assertEquals(dog.wnid, "n02084071");
  assertEquals(findSynset("Wheeled Vehicle")!.wnid, "n04576211");
  assertEquals(findSynset("n02084071")!.wnid, "n02084071");
  assert(dog.classes.includes(151) && dog.classes.includes(258)); // Chihuahua, Samoyed
  assert(!dog.classes.includes(281)); // tabby
  const head = await Head.fromCategories(["carnivore", "dog"]);
  const [carnivore, dogs] = head.toJSON().categories!;
  assert(!carnivore.some((c) => dogs.includes(c)), "dogs are dogs, not carnivores");
  assert(carnivore.includes(281) && dogs.includes(258));
  // the answer sums the probabilities of each category's classes
  const probs = new Float32Array(1000);
  probs[258] = 0.5;
  probs[259] = 0.25;
  probs[281] = 0.125;
  const p = head.apply(new Float32Array(8), probs);
  assertEquals([...p], [0.125, 0.75]);
  assertEquals(head.threshold, 0.4);
  const code = async (names: string[]) =>
    (await assertRejects(Head.fromCategories(names), HeadError)).code;
  assertEquals(await code(["dog", "unicornfish"]), "BAD_HEAD");
  assertEquals(await code(["dog", "dog"]), "BAD_HEAD");
  assertEquals(await code(["dog", "domestic_dog"]), "BAD_HEAD"); // the same synset twice
  assertEquals(await code([]), "BAD_HEAD");
});
