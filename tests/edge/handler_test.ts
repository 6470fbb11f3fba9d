/**
 * The edge handler on a real loopback server (`Deno.serve` on port 0, in this process) with the
 * real 0.75/224 model: every route, every error status, and after each error a valid request
 * that still classifies the elephant photo.
 */
import { assert, assertEquals, assertStrictEquals } from "../_assert.ts";
import { encodePng } from "../_png.ts";
import type { Prediction } from "../../mod.ts";
import { ELEPHANT, ELEPHANT_LABEL, pngClaiming, readJson } from "./_helpers.ts";
import { startLoopback } from "./_loopback.ts";

const LIMIT = 256 * 1024;

function post(url: string, body: BodyInit | Uint8Array, type?: string): Promise<Response> {
  return fetch(url, {
    method: "POST",
    body: body as BodyInit,
    headers: type ? { "content-type": type } : {},
  });
}

const photo = await Deno.readFile(ELEPHANT);

/** Predictions as the edge sends them: probabilities to 6 decimals, as the CLI's `--json`. */
function rounded(predictions: Prediction[]): Prediction[] {
  return predictions.map((p) => ({ ...p, probability: Math.round(p.probability * 1e6) / 1e6 }));
}

/** A valid classification, checked: used after every error. */
async function expectElephant(base: string): Promise<void> {
  const { status, body } = await readJson(await post(`${base}/v1/classify`, photo, "image/jpeg"));
  assertStrictEquals(status, 200, JSON.stringify(body));
  const predictions = body.predictions as { label: string }[];
  assertStrictEquals(predictions[0].label, ELEPHANT_LABEL);
}

async function expectError(
  response: Promise<Response>,
  status: number,
  codes: string[],
): Promise<Record<string, unknown>> {
  const { status: got, headers, body } = await readJson(await response);
  const error = body.error as { code: string; message: string };
  assertStrictEquals(got, status, JSON.stringify(body));
  assert(codes.includes(error.code), `code ${error.code}, expected one of ${codes}`);
  assert(error.message.length > 0);
  assertStrictEquals(headers.get("content-type"), "application/json; charset=utf-8");
  return body;
}

Deno.test("edge handler on a loopback server", async (t) => {
  const server = await startLoopback({ config: { maxBodyBytes: LIMIT } });
  await server.models.get();
  try {
    await t.step("GET /, /healthz, /v1/models, /favicon.ico and HEAD", async () => {
      const page = await fetch(`${server.url}/`);
      const html = await page.text();
      assertStrictEquals(page.status, 200);
      assert(page.headers.get("content-type")!.startsWith("text/html"));
      assert(html.includes('accept="image/*" capture="environment"'));
      assert(html.includes('id="predictions"'));

      const health = await readJson(await fetch(`${server.url}/healthz`));
      assertStrictEquals(health.status, 200);
      assertStrictEquals(health.body.status, "ready");
      assertStrictEquals((health.body.backend as { threads: number }).threads, 1);

      const head = await fetch(`${server.url}/healthz`, { method: "HEAD" });
      assertStrictEquals(head.status, 200);
      assertStrictEquals(await head.text(), "");

      // HEAD: the GET's status, type and length, and no body
      for (const path of ["/", "/v1/models"]) {
        const get = await fetch(`${server.url}${path}`);
        const length = (await get.arrayBuffer()).byteLength;
        const head = await fetch(`${server.url}${path}`, { method: "HEAD" });
        assertStrictEquals(await head.text(), "");
        assertEquals(
          [head.status, head.headers.get("content-type"), head.headers.get("content-length")],
          [200, get.headers.get("content-type"), String(length)],
        );
        assert(length > 100, `${path}: ${length} bytes`);
      }
      // browsers ask for /favicon.ico: no content, not a JSON 404
      const icon = await fetch(`${server.url}/favicon.ico`);
      assertEquals([icon.status, await icon.text()], [204, ""]);

      const { body } = await readJson(await fetch(`${server.url}/v1/models`));
      const [model] = body.models as Record<string, unknown>[];
      assertEquals(
        [model.id, model.inputSize, model.classes, model.labelSet, model.featureSize],
        ["0.75_224", [224, 224, 3], 1000, "imagenet", 768],
      );
      assertEquals(
        [model.resize, model.resizeModes, model.precision],
        ["center-crop", ["center-crop", "stretch", "center-crop-87.5"], "float32"],
      );
      assertEquals(body.bundled, ["0.75_224", "0.25_224"]);
      assertEquals(body.heads, []);
    });
    await t.step(
      "POST /v1/classify (raw, multipart, ?top=, ?resize=) and /v1/embed match the library",
      async () => {
        const model = await server.models.get();
        const expected = await model.classify(photo, { topK: 5 });
        const raw = await readJson(await post(`${server.url}/v1/classify`, photo, "image/jpeg"));
        assertStrictEquals(raw.status, 200);
        assertEquals(raw.body.predictions, rounded(expected));
        // rounded as the CLI's --json: at most 6 decimals
        for (const { probability } of raw.body.predictions as Prediction[]) {
          assert(/^\d(\.\d{1,6})?(e-\d+)?$/.test(String(probability)), String(probability));
        }
        assertStrictEquals(raw.body.model, "0.75_224");
        assertStrictEquals(raw.body.resize, "center-crop");
        const timings = raw.body.timings as Record<string, number>;
        for (const key of ["decodeMs", "inferMs", "totalMs"]) {
          assert(timings[key] > 0 && timings[key] <= timings.totalMs, `${key} ${timings[key]}`);
        }
        // the CLI's and ingest's name for the same time
        assertStrictEquals(timings.inferenceMs, timings.inferMs);

        const top3 = await readJson(
          await post(`${server.url}/v1/classify?top=3`, photo, "image/jpeg"),
        );
        assertEquals(top3.body.predictions, rounded(expected.slice(0, 3)));

        // ?resize=stretch: the library's answer in that mode (the photo is not square)
        const stretched = (await model.classifyDetailed(photo, { resize: "stretch" })).predictions;
        const stretch = await readJson(
          await post(`${server.url}/v1/classify?resize=stretch`, photo, "image/jpeg"),
        );
        assertEquals(stretch.body.predictions, rounded(stretched));
        assertStrictEquals(stretch.body.resize, "stretch");
        assert(stretched[0].probability !== expected[0].probability);

        const form = new FormData();
        form.append("note", "not the file");
        form.append("file", new File([photo], "elephant.jpg", { type: "image/jpeg" }));
        const multi = await readJson(await post(`${server.url}/v1/classify`, form));
        assertStrictEquals(multi.status, 200);
        assertEquals(multi.body.predictions, rounded(expected));

        const features = await model.embed(photo);
        const embedded = await readJson(await post(`${server.url}/v1/embed`, photo, "image/jpeg"));
        assertStrictEquals(embedded.status, 200);
        assertStrictEquals(embedded.body.size, 768);
        assertEquals(embedded.body.embedding, Array.from(features));
      },
    );
    await t.step(
      "bad images get 415/422 with the library's code, and the next request works",
      async () => {
        const url = `${server.url}/v1/classify`;
        const webp = new TextEncoder().encode("RIFF\x24\0\0\0WEBPVP8 \x18\0\0\0 0123456789");
        const corruptPng = await encodePng(new Uint8Array(16 * 16 * 4).fill(7), 16, 16);
        corruptPng.fill(0x55, 41, corruptPng.length - 16); // the IDAT's deflate data
        const cases: [string, Uint8Array, number, string[]][] = [
          ["0-byte body", new Uint8Array(0), 422, ["EMPTY"]],
          ["text sent as a JPEG", new TextEncoder().encode("hello, not an image"), 415, [
            "UNSUPPORTED_FORMAT",
          ]],
          ["WebP", webp, 415, ["UNSUPPORTED_FORMAT"]],
          ["half a JPEG", photo.slice(0, photo.length >> 1), 422, ["TRUNCATED"]],
          ["PNG with a broken IDAT", corruptPng, 422, ["CORRUPT"]],
          ["1x1 PNG", await encodePng(new Uint8Array(4), 1, 1), 422, ["TOO_SMALL"]],
          // 10000x5000 claimed in IHDR with a 2x2 IDAT: the library's pixel budget refuses it from the
          // header, before anything is decoded.
          ["50-megapixel PNG header", await pngClaiming(10000, 5000), 422, ["TOO_LARGE"]],
        ];
        for (const [name, bytes, status, codes] of cases) {
          const type = name.includes("PNG") ? "image/png" : "image/jpeg";
          const body = await expectError(post(url, bytes, type), status, codes);
          assert(JSON.stringify(body).length < 2000, name);
          await expectElephant(server.url);
        }
        // The same through /v1/embed.
        await expectError(post(`${server.url}/v1/embed`, new Uint8Array(0), "image/png"), 422, [
          "EMPTY",
        ]);
        await expectElephant(server.url);
      },
    );
    await t.step("media type, ?top=, forms, methods and routes get 415/400/405/404", async () => {
      const url = `${server.url}/v1/classify`;
      const textForm = new FormData();
      textForm.append("file", new File(["hello"], "notes.txt", { type: "text/plain" }));
      const noFile = new FormData();
      noFile.append("file", "a string, not a file");
      const checks: [string, () => Promise<Response>, number, string[]][] = [
        ["text/plain body", () => post(url, "hello", "text/plain"), 415, [
          "UNSUPPORTED_MEDIA_TYPE",
        ]],
        ["no content type", () => post(url, photo), 415, ["UNSUPPORTED_MEDIA_TYPE"]],
        ["form file text/plain", () => post(url, textForm), 415, ["UNSUPPORTED_MEDIA_TYPE"]],
        ["form without a file", () => post(url, noFile), 400, ["MISSING_FILE"]],
        ["top=0", () => post(`${url}?top=0`, photo, "image/jpeg"), 400, ["BAD_TOP"]],
        ["top=abc", () => post(`${url}?top=abc`, photo, "image/jpeg"), 400, ["BAD_TOP"]],
        ["top=1001", () => post(`${url}?top=1001`, photo, "image/jpeg"), 400, ["BAD_TOP"]],
        ["resize=fill", () => post(`${url}?resize=fill`, photo, "image/jpeg"), 400, [
          "BAD_RESIZE",
        ]],
        ["GET /v1/classify", () => fetch(url), 405, ["METHOD_NOT_ALLOWED"]],
        ["unknown route", () => post(`${server.url}/v1/detect`, photo, "image/jpeg"), 404, [
          "NOT_FOUND",
        ]],
      ];
      for (const [name, send, status, codes] of checks) {
        const body = await expectError(send(), status, codes);
        assert(body.error, name);
        await expectElephant(server.url);
      }
      const wrong = await fetch(`${server.url}/healthz`, { method: "DELETE" });
      await wrong.body?.cancel();
      assertStrictEquals(wrong.status, 405);
      assertStrictEquals(wrong.headers.get("allow"), "GET, HEAD");
      const get = await fetch(url);
      await get.body?.cancel();
      assertStrictEquals(get.headers.get("allow"), "POST");
    });
    await t.step(
      "a body over the limit gets 413, by Content-Length or while streaming",
      async () => {
        const url = `${server.url}/v1/classify`;
        const big = new Uint8Array(LIMIT + 1);
        big.set(photo);
        await expectError(post(url, big, "image/jpeg"), 413, ["BODY_TOO_LARGE"]);
        await expectElephant(server.url);

        // A chunked body (no Content-Length) of 32 MiB: the server stops reading after LIMIT, so
        // the client cannot push it all (loopback socket buffers hold a few MiB at most).
        const total = 32 * 1024 * 1024;
        let sent = 0;
        const chunk = new Uint8Array(16 * 1024);
        const stream = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (sent >= total) return controller.close();
            sent += chunk.length;
            controller.enqueue(chunk);
          },
        });
        const response = fetch(url, {
          method: "POST",
          body: stream,
          headers: { "content-type": "image/jpeg" },
        });
        await expectError(response, 413, ["BODY_TOO_LARGE"]);
        assert(sent < total, `the client was able to send all ${sent} bytes`);
        await expectElephant(server.url);
      },
    );
    await t.step(
      "overload gets 503 with Retry-After; the queued request still succeeds",
      async () => {
        // Hold the only slot, let one request wait in the one-place queue, and send one more.
        const hold = await server.limiter.acquire();
        assert(hold);
        const queued = post(`${server.url}/v1/classify`, photo, "image/jpeg");
        for (let i = 0; i < 500 && server.limiter.queued === 0; i++) {
          await new Promise((r) => setTimeout(r, 10));
        }
        assertStrictEquals(server.limiter.queued, 1);
        const over = post(`${server.url}/v1/classify`, photo, "image/jpeg");
        const rejected = await readJson(await over);
        assertStrictEquals(rejected.status, 503);
        assertStrictEquals((rejected.body.error as { code: string }).code, "OVERLOADED");
        assertStrictEquals(rejected.headers.get("retry-after"), "1");
        hold();
        const first = await readJson(await queued);
        assertStrictEquals(first.status, 200);
        assertStrictEquals(
          (first.body.predictions as { label: string }[])[0].label,
          ELEPHANT_LABEL,
        );
        await expectElephant(server.url);
        assertStrictEquals(server.limiter.active, 0);
      },
    );
  } finally {
    await server.close();
  }
});
