import {
  assert,
  assertEquals,
  assertRejects,
  assertStrictEquals,
  assertThrows,
} from "../_assert.ts";
import { checkHeaders, mediaType, readImage, readLimited } from "../../edge/body.ts";
import { HttpError } from "../../edge/errors.ts";

function streamed(chunks: number, size: number) {
  const counter = { pulled: 0, cancelled: false };
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (counter.pulled === chunks) return controller.close();
      counter.pulled++;
      controller.enqueue(new Uint8Array(size).fill(counter.pulled));
    },
    cancel() {
      counter.cancelled = true;
    },
  });
  const request = new Request("http://x/", {
    method: "POST",
    body,
    headers: { "content-type": "image/png" },
  });
  return { request, counter };
}

Deno.test("body: a chunked body is counted and cancelled right after the limit", async () => {
  const { request, counter } = streamed(100, 1000);
  const error = await assertRejects(() => readLimited(request, 4500), HttpError);
  assertEquals([error.status, error.code], [413, "BODY_TOO_LARGE"]);
  assertStrictEquals(counter.pulled, 5); // 5000 bytes seen: never more than one chunk past
  assert(counter.cancelled);
});

Deno.test("body: a body within the limit is returned whole, in order", async () => {
  const { request } = streamed(3, 1000);
  const bytes = await readLimited(request, 3000);
  assertStrictEquals(bytes.length, 3000);
  assertEquals([bytes[0], bytes[1000], bytes[2999]], [1, 2, 3]);
});

Deno.test("body: headers decide 415 and 413 before any byte is read", () => {
  const req = (headers: Record<string, string>) =>
    new Request("http://x/", { method: "POST", headers, body: "x" });
  const cases: [Record<string, string>, number, string][] = [
    [{ "content-type": "text/plain" }, 415, "UNSUPPORTED_MEDIA_TYPE"],
    [{ "content-type": "application/json" }, 415, "UNSUPPORTED_MEDIA_TYPE"],
    [{ "content-type": "image/jpeg", "content-length": "101" }, 413, "BODY_TOO_LARGE"],
  ];
  for (const [headers, status, code] of cases) {
    const error = assertThrows(() => checkHeaders(req(headers), 100), HttpError);
    assertEquals([error.status, error.code], [status, code]);
  }
  checkHeaders(req({ "content-type": "Image/PNG; q=1", "content-length": "100" }), 100);
  checkHeaders(req({ "content-type": "application/octet-stream" }), 100);
  checkHeaders(req({ "content-type": "multipart/form-data; boundary=x" }), 100);
  assertStrictEquals(mediaType(" IMAGE/JPEG ; charset=x"), "image/jpeg");
});

Deno.test("body: multipart takes the file field, else the first file", async () => {
  const form = new FormData();
  form.append("other", new File([new Uint8Array([9])], "a.png", { type: "image/png" }));
  form.append("file", new File([new Uint8Array([1, 2, 3])], "b.jpg", { type: "image/jpeg" }));
  assertEquals(
    [...await readImage(new Request("http://x/", { method: "POST", body: form }), 1e6)],
    [1, 2, 3],
  );
  const second = new FormData();
  second.append("photo", new File([new Uint8Array([4, 5])], "c.png", { type: "" }));
  assertEquals([
    ...await readImage(new Request("http://x/", { method: "POST", body: second }), 1e6),
  ], [4, 5]);
  const big = new FormData();
  big.append("file", new File([new Uint8Array(2000)], "d.png", { type: "image/png" }));
  const error = await assertRejects(
    () => readImage(new Request("http://x/", { method: "POST", body: big }), 1000),
    HttpError,
  );
  assertStrictEquals(error.status, 413);
});
