/**
 * Heads at the edge (issue 20, item 7) on a real loopback server with the decode worker:
 * `GET /v1/models` lists them; `POST /v1/classify?head=NAME` answers as the library's head view
 * does (labels are the class folders' names, `unknown`, the ImageNet answer), decoding in the
 * worker with the view's options (its zone and resize); an unknown name is a 404.
 */
import { notDeepStrictEqual as assertNotEquals } from "node:assert/strict";
import { assert, assertEquals, assertStrictEquals } from "../_assert.ts";
import { decodeImage, Head, loadMobileNet, type Prediction, teach } from "../../mod.ts";
import { WorkerDecoder } from "../../edge/decoder.ts";
import { DOORSTEP } from "../../bench/teach_scene.ts";
import { frames, png, writeExamples } from "../head/_frames.ts";
import { ELEPHANT, ELEPHANT_LABEL, readJson } from "./_helpers.ts";
import { startLoopback } from "./_loopback.ts";

/** A large photo (1546x1213): without the zone its JPEG would be decoded at 1/4 of the size. */
const DOG = new URL("../fixtures/images/dog.jpg", import.meta.url);

function post(url: string, bytes: Uint8Array, type = "image/jpeg"): Promise<Response> {
  return fetch(url, {
    method: "POST",
    body: bytes as Uint8Array<ArrayBuffer>,
    headers: { "content-type": type },
  });
}

/** Predictions as the edge sends them (probabilities to 6 decimals). */
function rounded(predictions: Prediction[]): Prediction[] {
  return predictions.map((p) => ({ ...p, probability: Math.round(p.probability * 1e6) / 1e6 }));
}

// A head taught from class folders (their names are the labels), on the served 0.75 weights.
const teacher = await loadMobileNet({ threads: 1 });
const folder = await Deno.makeTempDir({ prefix: "mobilenet-edge-heads-" });
await writeExamples(folder, {
  package: frames("package", 4, 100),
  empty: frames("empty", 4, 200),
});
const door = await teach(teacher, folder, { zone: DOORSTEP });
await teacher.dispose();
await Deno.remove(folder, { recursive: true });
const animals = await Head.fromCategories(["dog", "cat", "bird"]);

Deno.test("edge heads on a loopback server, decoding in the worker", async (t) => {
  const decoder = new WorkerDecoder({ timeoutMs: 60_000 });
  const server = await startLoopback({
    decoder,
    slots: [1, 4],
    heads: new Map([["animals", animals], ["door", door]]),
  });
  const model = await server.models.get();
  for (let i = 0; i < 600 && decoder.where !== "worker"; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assertStrictEquals(decoder.where, "worker");
  const classify = `${server.url}/v1/classify`;
  try {
    await t.step(
      "GET /v1/models lists each head: kind, labels, threshold, zone, accuracy",
      async () => {
        const { body } = await readJson(await fetch(`${server.url}/v1/models`));
        assertEquals(body.heads, [
          {
            name: "animals",
            kind: "categories",
            labels: ["dog", "cat", "bird"],
            threshold: 0.4,
            zone: null,
            resize: null,
            accuracy: null,
          },
          {
            name: "door",
            kind: "taught",
            labels: ["empty", "package"],
            threshold: door.threshold,
            zone: DOORSTEP,
            resize: "stretch",
            accuracy: door.report.accuracy,
          },
        ]);
        assertStrictEquals(typeof door.report.accuracy, "number");
      },
    );

    await t.step(
      "?head=door answers as the library's view: the taught labels, unknown, imagenet",
      async () => {
        const view = model.withHead(door);
        for (const frame of [frames("package", 1, 900)[0], frames("empty", 1, 950)[0]]) {
          const bytes = await png(frame);
          const expected = await view.classifyDetailed(bytes);
          const { status, body } = await readJson(
            await post(`${classify}?head=door`, bytes, "image/png"),
          );
          assertStrictEquals(status, 200, JSON.stringify(body));
          assertStrictEquals(body.head, "door");
          assertEquals(body.predictions, rounded(expected.predictions));
          assertEquals(
            (body.predictions as Prediction[]).map((p) => p.label).sort(),
            ["empty", "package"],
          );
          assertStrictEquals(body.unknown, expected.unknown);
          assertEquals(body.imagenet, rounded(expected.imagenet!));
          assertStrictEquals(body.resize, "stretch");
        }
      },
    );

    await t.step(
      "the worker decodes with the head's zone: bytes and the library agree",
      async () => {
        const bytes = await Deno.readFile(DOG);
        const view = model.withHead(door);
        const expected = await view.classifyDetailed(bytes);
        const { body } = await readJson(await post(`${classify}?head=door`, bytes));
        assertEquals(body.predictions, rounded(expected.predictions));
        assertEquals(body.imagenet, rounded(expected.imagenet!));
        assertEquals(body.image, { width: 1546, height: 1213, bytes: bytes.byteLength });
        // Decoded for the model without the zone, the JPEG comes out at 1/4 and answers otherwise:
        // this step would fail had the worker been given the model's options.
        const reduced = await decodeImage(bytes, model.decodeOptions());
        assertEquals([reduced.width, reduced.height], [387, 304]);
        const wrong = await view.classifyDetailed(reduced);
        assertNotEquals(rounded(wrong.imagenet!), body.imagenet);
        // ?resize= wins over the head's mode, for the decode and the run alike
        const cropped = await view.classifyDetailed(bytes, { resize: "center-crop" });
        const answer = await readJson(
          await post(`${classify}?head=door&resize=center-crop`, bytes),
        );
        assertEquals(answer.body.imagenet, rounded(cropped.imagenet!));
        assertStrictEquals(answer.body.resize, "center-crop");
      },
    );

    await t.step("unknown: an elephant is none of dog, cat or bird", async () => {
      const photo = await Deno.readFile(ELEPHANT);
      const { body } = await readJson(await post(`${classify}?head=animals&top=2`, photo));
      assertStrictEquals(body.unknown, true);
      const predictions = body.predictions as Prediction[];
      assertStrictEquals(predictions.length, 2);
      assert(predictions[0].probability < animals.threshold, JSON.stringify(predictions));
      assertStrictEquals((body.imagenet as Prediction[])[0].label, ELEPHANT_LABEL);
      // no ?head= (or an empty one): the ImageNet answer, without head fields
      const plain = await readJson(await post(`${classify}?head=`, photo));
      assertStrictEquals((plain.body.predictions as Prediction[])[0].label, ELEPHANT_LABEL);
      assertEquals(["head", "unknown", "imagenet"].filter((key) => key in plain.body), []);
    });

    await t.step("an unknown head is a 404 naming the heads, before the body is read", async () => {
      const { status, body } = await readJson(
        await post(`${classify}?head=garage`, new Uint8Array(1)),
      );
      assertStrictEquals(status, 404);
      const error = body.error as { code: string; message: string };
      assertStrictEquals(error.code, "UNKNOWN_HEAD");
      assertStrictEquals(
        error.message,
        'no head "garage"; the heads are animals, door (GET /v1/models)',
      );
    });
  } finally {
    await server.close();
  }
});

Deno.test("edge heads: a server without heads lists none and answers ?head= with 404", async () => {
  const server = await startLoopback({ model: "0.25_224" });
  try {
    const { body } = await readJson(await fetch(`${server.url}/v1/models`));
    assertEquals(body.heads, []);
    const answer = await readJson(
      await post(`${server.url}/v1/classify?head=door`, new Uint8Array(1)),
    );
    assertStrictEquals(answer.status, 404);
    assertStrictEquals(
      (answer.body.error as { message: string }).message,
      'no head "door"; this server has none (set MOBILENET_EDGE_HEADS to a directory of head files)',
    );
  } finally {
    await server.close();
  }
});
