import {
  assert,
  assertEquals,
  assertRejects,
  assertStrictEquals,
  assertThrows,
} from "../_assert.ts";
import {
  type BodyLimits,
  checkHeaders,
  declaredLength,
  readImage,
  readLimited,
} from "../../edge/body.ts";
import { ByteBudget } from "../../edge/budget.ts";
import { HttpError } from "../../edge/errors.ts";

/** Limits for `maxBodyBytes`, with time and budget to spare unless given. */
function limits(maxBodyBytes: number, more: Partial<BodyLimits> = {}): BodyLimits {
  return {
    maxBodyBytes,
    bodyIdleMs: 60_000,
    bodyTimeoutMs: 60_000,
    maxBufferedBytes: 1e9,
    retryAfterSeconds: 1,
    ...more,
  };
}

/** A hold of a budget with room for everything. */
function hold() {
  return new ByteBudget(1e9).hold();
}

function post(body: BodyInit, headers: Record<string, string> = {}): Request {
  return new Request("http://x/", {
    method: "POST",
    body,
    headers: { "content-type": "image/png", ...headers },
  });
}

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
  const error = await assertRejects(() => readLimited(request, limits(4500), hold()), HttpError);
  assertEquals([error.status, error.code], [413, "BODY_TOO_LARGE"]);
  // 5000 bytes read, never more than one chunk past; the stream may have queued one more
  assert(counter.pulled <= 6, `${counter.pulled} chunks pulled`);
  assert(counter.cancelled);
});

Deno.test("body: a body within the limit is returned whole, in order", async () => {
  const { request } = streamed(3, 1000);
  const bytes = await readLimited(request, limits(3000), hold());
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
});

Deno.test("body: multipart takes the file field, else the first file", async () => {
  const form = new FormData();
  form.append("other", new File([new Uint8Array([9])], "a.png", { type: "image/png" }));
  form.append("file", new File([new Uint8Array([1, 2, 3])], "b.jpg", { type: "image/jpeg" }));
  assertEquals(
    [
      ...await readImage(
        new Request("http://x/", { method: "POST", body: form }),
        limits(1e6),
        hold(),
      ),
    ],
    [1, 2, 3],
  );
  const second = new FormData();
  second.append("photo", new File([new Uint8Array([4, 5])], "c.png", { type: "" }));
  assertEquals([
    ...await readImage(
      new Request("http://x/", { method: "POST", body: second }),
      limits(1e6),
      hold(),
    ),
  ], [4, 5]);
  const big = new FormData();
  big.append("file", new File([new Uint8Array(2000)], "d.png", { type: "image/png" }));
  const error = await assertRejects(
    () => readImage(new Request("http://x/", { method: "POST", body: big }), limits(1000), hold()),
    HttpError,
  );
  assertStrictEquals(error.status, 413);
});

Deno.test("body: Content-Length is digits, or a list of the same digits (RFC 9110 8.6)", () => {
  const req = (length: string) => post("x", { "content-length": length });
  assertStrictEquals(declaredLength(post("x")), undefined);
  assertStrictEquals(declaredLength(req("5, 5")), 5);
  for (const bad of ["abc", "-1", "1, 2", "1e3", "99999999999999999999"]) {
    const error = assertThrows(() => declaredLength(req(bad)), HttpError);
    assertEquals([error.status, error.code], [400, "BAD_LENGTH"]);
  }
});

/** A body that sends `first` and then nothing: never ends, never errors. */
function stalled(first: Uint8Array) {
  const counter = { cancelled: false };
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(first);
    },
    cancel() {
      counter.cancelled = true;
    },
  });
  return { request: post(body), counter };
}

Deno.test("body: a body that stops is cut off with 408 BODY_TIMEOUT, idle or in total", async () => {
  const idle = stalled(new Uint8Array(10));
  const error = await assertRejects(
    () => readLimited(idle.request, limits(100, { bodyIdleMs: 20 }), hold()),
    HttpError,
  );
  assertEquals([error.status, error.code], [408, "BODY_TIMEOUT"]);
  assert(error.message.includes("no body bytes for 20 ms (10 bytes received)"), error.message);
  assert(idle.counter.cancelled);
  // the total time runs out before the idle time does
  const slow = stalled(new Uint8Array(3));
  const total = await assertRejects(
    () => readLimited(slow.request, limits(100, { bodyTimeoutMs: 20 }), hold()),
    HttpError,
  );
  assertEquals([total.status, total.code], [408, "BODY_TIMEOUT"]);
  assert(total.message.includes("not complete after 20 ms"), total.message);
});

Deno.test("body: a body that breaks off is 400 BAD_BODY", async () => {
  let sent = false;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent) return controller.error(new Error("connection reset"));
      sent = true;
      controller.enqueue(new Uint8Array(7));
    },
  });
  const error = await assertRejects(() => readLimited(post(body), limits(100), hold()), HttpError);
  assertEquals([error.status, error.code], [400, "BAD_BODY"]);
  assert(error.message.includes("after 7 bytes: connection reset"), error.message);
});

Deno.test("body: bytes are held in the budget; 503 OVERLOADED when they do not fit", async () => {
  const budget = new ByteBudget(2500);
  const other = budget.hold();
  assert(other.add(1000));
  // a declared length is held whole before anything is read
  const declared = budget.hold();
  const refused = await assertRejects(
    () =>
      readLimited(post(new Uint8Array(2000), { "content-length": "2000" }), limits(1e6), declared),
    HttpError,
  );
  assertEquals([refused.status, refused.code, refused.headers], [503, "OVERLOADED", {
    "retry-after": "1",
  }]);
  assertStrictEquals(declared.bytes, 0);
  // a chunked body is held chunk by chunk, and refused at the chunk that does not fit
  const { request, counter } = streamed(3, 1000);
  const chunked = budget.hold();
  await assertRejects(() => readLimited(request, limits(1e6), chunked), HttpError, "busy");
  assertEquals([chunked.bytes, counter.pulled, counter.cancelled], [1000, 3, true]);
  chunked.release();
  const fits = budget.hold();
  assertStrictEquals((await readLimited(streamed(3, 500).request, limits(1e6), fits)).length, 1500);
  assertEquals([fits.bytes, budget.held], [1500, 2500]);
});
