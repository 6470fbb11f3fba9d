/**
 * `fetchWithRetry` on its own, with a fake `fetch` and a fake clock (no real waiting): options
 * checked once by one set of rules, backoff delays and their cap, `Retry-After`, what is and is
 * not retried, the idle timeout (a slow body that keeps sending passes, a stalled one times
 * out), the overall deadline (also during a backoff wait), length errors, aborts, and no timer
 * left behind.
 */
import { assert, assertEquals, assertRejects, assertThrows } from "../_assert.ts";
import { FakeClock } from "../_fake_clock.ts";
import {
  fetchWithRetry,
  REQUEST_DEFAULTS,
  type RequestOptions,
  resolveRequestOptions,
  type RetryInfo,
} from "../../src/weights/fetch_retry.ts";
import { WeightsError } from "../../src/errors.ts";

const URL_A = new URL("https://weights.example/shard-000.bin");
const BYTES = Uint8Array.from({ length: 1000 }, (_, i) => i & 255);

type Responder = (call: number, signal: AbortSignal) => Response | Promise<Response>;

/** A `fetch` that answers with `responder` and counts its calls. */
function fakeFetch(responder: Responder) {
  const state = { calls: 0 };
  const fetch = ((_input: unknown, init?: RequestInit) => {
    const signal = init!.signal!;
    if (signal.aborted) return Promise.reject(signal.reason);
    return Promise.resolve(responder(++state.calls, signal));
  }) as typeof globalThis.fetch;
  return { fetch, state };
}

/**
 * A body that sends `chunks`, one every `everyMs` of fake time (never, for `Infinity`), stalls
 * after `stallAfter` of them, and errors with the abort reason when `signal` aborts, as a real
 * fetch body does.
 */
function slowBody(
  clock: FakeClock,
  chunks: Uint8Array[],
  everyMs: number,
  signal: AbortSignal,
  stallAfter = chunks.length,
) {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      signal.addEventListener("abort", () => controller.error(signal.reason), { once: true });
    },
    async pull(controller) {
      if (at >= chunks.length) return controller.close();
      if (!Number.isFinite(everyMs) || at >= stallAfter) return new Promise<void>(() => {});
      await clock.sleep(everyMs, signal);
      if (!signal.aborted) controller.enqueue(chunks[at++]);
    },
  });
}

function split(bytes: Uint8Array, parts: number): Uint8Array[] {
  const size = Math.ceil(bytes.length / parts);
  return Array.from({ length: parts }, (_, i) => bytes.slice(i * size, (i + 1) * size));
}

/** Runs fetchWithRetry on the fake clock; returns the result or the error, and the retries. */
async function read(clock: FakeClock, options: RequestOptions, expectedLength?: number) {
  const retries: RetryInfo[] = [];
  const result = fetchWithRetry(URL_A, resolveRequestOptions(options), {
    clock,
    expectedLength,
    onRetry: (info) => retries.push(info),
  });
  try {
    return { bytes: await clock.run(result), retries };
  } finally {
    assertEquals(clock.pending, 0, "no timer left behind");
  }
}

async function readFails(clock: FakeClock, options: RequestOptions, expectedLength?: number) {
  const retries: RetryInfo[] = [];
  const error = await assertRejects(
    () =>
      clock.run(fetchWithRetry(URL_A, resolveRequestOptions(options), {
        clock,
        expectedLength,
        onRetry: (info) => retries.push(info),
      })),
    WeightsError,
  );
  assertEquals(clock.pending, 0, "no timer left behind");
  return { error, retries };
}

Deno.test("request options: defaults filled in, one set of rules for every caller", () => {
  const resolved = resolveRequestOptions({});
  assertEquals(resolved.timeoutMs, REQUEST_DEFAULTS.timeoutMs);
  assertEquals(resolved.deadlineMs, 600_000);
  assertEquals(resolved.retries, 3);
  assertEquals(resolveRequestOptions({ timeoutMs: Infinity, deadlineMs: 0 }).timeoutMs, Infinity);
  assertThrows(() => resolveRequestOptions({ timeoutMs: NaN }), RangeError, "timeoutMs");
  assertThrows(() => resolveRequestOptions({ deadlineMs: -1 }), RangeError, "deadlineMs");
  assertThrows(() => resolveRequestOptions({ retries: 1.5 }), RangeError, "retries");
  assertThrows(() => resolveRequestOptions({ retries: -1 }), RangeError, "retries");
  assertThrows(
    () => resolveRequestOptions({ retryDelayMs: "5" as unknown as number }),
    TypeError,
    "retryDelayMs must be a number",
  );
  assertThrows(() => resolveRequestOptions({ fetch: 1 as never }), TypeError, "fetch");
});

Deno.test("backoff doubles up to the cap, jittered down by at most half; the read then succeeds", async () => {
  for (const [random, want] of [[0, [100, 200, 250]], [1 - Number.EPSILON, [50, 100, 125]]]) {
    const clock = new FakeClock();
    clock.randomValue = random as number;
    const { fetch, state } = fakeFetch((call) =>
      call <= 3 ? new Response("busy", { status: 503 }) : new Response(BYTES)
    );
    const { bytes, retries } = await read(clock, {
      fetch,
      retries: 3,
      retryDelayMs: 100,
      maxRetryDelayMs: 250,
    });
    assertEquals(bytes, BYTES);
    assertEquals(state.calls, 4);
    assertEquals(retries.map((r) => r.delayMs), want);
    assertEquals(retries.map((r) => [r.attempt, r.reason]), [
      [2, "HTTP 503"],
      [3, "HTTP 503"],
      [4, "HTTP 503"],
    ]);
    assertEquals(clock.now(), (want as number[]).reduce((a, b) => a + b), "waited exactly that");
  }
});

Deno.test("Retry-After is honoured up to maxRetryDelayMs; spent retries fail once, with the count", async () => {
  const clock = new FakeClock();
  const { fetch, state } = fakeFetch(() =>
    new Response("slow down", { status: 429, headers: { "retry-after": "2" } })
  );
  const { error, retries } = await readFails(clock, {
    fetch,
    retries: 2,
    retryDelayMs: 10,
    maxRetryDelayMs: 5000,
  });
  assertEquals(retries.map((r) => r.delayMs), [2000, 2000]);
  assertEquals(state.calls, 3);
  assertEquals(error.code, "NETWORK");
  assertEquals(error.message, `cannot read ${URL_A.href}: HTTP 429 (after 3 attempts)`);
});

Deno.test("404 and 403 are not retried; a network error is, then fails as NETWORK", async () => {
  for (const [status, code] of [[404, "NOT_FOUND"], [403, "NETWORK"]] as const) {
    const clock = new FakeClock();
    const { fetch, state } = fakeFetch(() => new Response("no", { status }));
    const { error, retries } = await readFails(clock, { fetch });
    assertEquals([error.code, state.calls, retries.length], [code, 1, 0]);
    assert(!error.message.includes("attempts"), error.message);
  }
  const clock = new FakeClock();
  const reset = new TypeError("connection reset");
  const { fetch, state } = fakeFetch(() => Promise.reject(reset));
  const { error, retries } = await readFails(clock, { fetch, retries: 1, retryDelayMs: 10 });
  assertEquals(state.calls, 2);
  assertEquals(retries[0].reason, "network error: connection reset");
  assertEquals(error.code, "NETWORK");
  assertEquals(error.cause, reset);
});

Deno.test("idle timeout: a body that keeps sending never times out, however long it takes", async () => {
  const clock = new FakeClock();
  const { fetch, state } = fakeFetch((_, signal) =>
    new Response(slowBody(clock, split(BYTES, 20), 80, signal))
  );
  // 20 chunks, 80 ms apart: 1.6 s in all, far over the 100 ms idle timeout.
  const { bytes, retries } = await read(clock, { fetch, timeoutMs: 100 }, BYTES.length);
  assertEquals(bytes, BYTES);
  assertEquals(clock.now(), 1600);
  assertEquals([state.calls, retries.length], [1, 0]);
});

Deno.test("idle timeout: a stalled body times out, is retried, and fails as TIMEOUT", async () => {
  const clock = new FakeClock();
  const { fetch, state } = fakeFetch((_, signal) =>
    new Response(slowBody(clock, split(BYTES, 4), Infinity, signal))
  );
  const { error, retries } = await readFails(clock, {
    fetch,
    timeoutMs: 100,
    retries: 1,
    retryDelayMs: 10,
  });
  assertEquals(error.code, "TIMEOUT");
  assertEquals(
    error.message,
    `reading ${URL_A.href}: nothing received for 100 ms (timeoutMs) (after 2 attempts)`,
  );
  assertEquals(state.calls, 2);
  assertEquals(retries.map((r) => r.reason), ["timeout"]);
  assertEquals(clock.now(), 210);
});

Deno.test("idle timeout: a body that stops halfway times out after its last byte, not its first", async () => {
  const clock = new FakeClock();
  // 5 of 10 chunks, 50 ms apart, then nothing.
  const { fetch } = fakeFetch((_, signal) =>
    new Response(slowBody(clock, split(BYTES, 10), 50, signal, 5))
  );
  const { error } = await readFails(clock, { fetch, timeoutMs: 100, retries: 0 }, BYTES.length);
  assertEquals(error.code, "TIMEOUT");
  assertEquals(clock.now(), 250 + 100, "timed out 100 ms after the fifth chunk");
});

Deno.test("deadline: a body too slow for deadlineMs fails as TIMEOUT at once, not retried", async () => {
  const clock = new FakeClock();
  const { fetch, state } = fakeFetch((_, signal) =>
    new Response(slowBody(clock, split(BYTES, 20), 80, signal))
  );
  const { error, retries } = await readFails(
    clock,
    { fetch, timeoutMs: 100, deadlineMs: 500, retries: 3 },
    BYTES.length,
  );
  assertEquals(error.code, "TIMEOUT");
  assertEquals(error.message, `reading ${URL_A.href} took over 500 ms (deadlineMs)`);
  assertEquals([state.calls, retries.length, clock.now()], [1, 0, 500]);
});

Deno.test("deadline: it also ends a backoff wait, with the last failure as the cause", async () => {
  const clock = new FakeClock();
  const { fetch, state } = fakeFetch(() => new Response("down", { status: 503 }));
  const { error } = await readFails(clock, {
    fetch,
    retries: 5,
    retryDelayMs: 1000,
    maxRetryDelayMs: 10_000,
    deadlineMs: 2500,
  });
  // Attempt 1 at 0, wait 1000, attempt 2 at 1000, wait 2000: the deadline falls at 2500.
  assertEquals([error.code, state.calls, clock.now()], ["TIMEOUT", 2, 2500]);
  assert(error.message.includes("took over 2500 ms (deadlineMs)"), error.message);
  assert(error.cause instanceof WeightsError && error.cause.message.includes("HTTP 503"));
});

Deno.test("wrong length: too long is HASH_MISMATCH, too short TRUNCATED, each fetched once more", async () => {
  for (
    const [body, code] of [[BYTES, "HASH_MISMATCH"], [BYTES.slice(0, 900), "TRUNCATED"]] as const
  ) {
    const clock = new FakeClock();
    const { fetch, state } = fakeFetch(() => new Response(body));
    const { error, retries } = await readFails(clock, { fetch }, 950);
    assertEquals([error.code, state.calls, retries[0].delayMs], [code, 2, 0]);
    assert(error.message.includes("950"), error.message);
  }
});

Deno.test("the caller's abort ends a backoff wait with its reason; verify's own errors pass through", async () => {
  const clock = new FakeClock();
  const controller = new AbortController();
  const { fetch, state } = fakeFetch(() => new Response("down", { status: 503 }));
  const reason = new Error("user stop");
  const reading = fetchWithRetry(
    URL_A,
    resolveRequestOptions({ fetch, signal: controller.signal }),
    {
      clock,
      onRetry: () => queueMicrotask(() => controller.abort(reason)),
    },
  );
  assertEquals(await assertRejects(() => clock.run(reading)), reason);
  assertEquals(state.calls, 1);
  assertEquals(clock.pending, 0);

  const bug = new RangeError("a bug in verify");
  const ok = fakeFetch(() => new Response(BYTES));
  const verifying = fetchWithRetry(URL_A, resolveRequestOptions({ fetch: ok.fetch }), {
    clock,
    verify: () => {
      throw bug;
    },
  });
  assertEquals(await assertRejects(() => clock.run(verifying)), bug);
  assertEquals(ok.state.calls, 1);
});

Deno.test("into: the body is read into the caller's array, from a file: URL or over fetch; a longer or shorter file is wrong content", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mobilenet-into-" });
  try {
    const file = new URL(`file://${dir}/shard.bin`);
    await Deno.writeFile(file, BYTES);
    const whole = new Uint8Array(1200);
    const part = whole.subarray(100, 1100);
    const options = resolveRequestOptions({});
    const local = await fetchWithRetry(file, options, { expectedLength: 1000, into: part });
    assert(local === part, "the caller's array, filled");
    assertEquals([...whole.subarray(100, 1100)], [...BYTES]);
    assertEquals([whole[99], whole[1100]], [0, 0], "nothing written beside it");
    const { fetch } = fakeFetch(() => new Response(BYTES));
    const into = new Uint8Array(1000);
    const fetched = await fetchWithRetry(URL_A, resolveRequestOptions({ fetch }), {
      expectedLength: 1000,
      into,
    });
    assert(fetched === into);
    assertEquals([...into], [...BYTES]);
    for (const [length, code] of [[999, "HASH_MISMATCH"], [1001, "TRUNCATED"]] as const) {
      const error = await assertRejects(
        () =>
          fetchWithRetry(file, options, {
            expectedLength: length,
            into: whole.subarray(0, length),
          }),
        WeightsError,
      );
      assertEquals(error.code, code, `expected ${length}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
