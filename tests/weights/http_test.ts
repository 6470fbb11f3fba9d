/**
 * The weights loader over HTTP (a local server on 127.0.0.1): retries of 503 visible in the
 * progress events, no retry of 404, one retry of a hash mismatch, timeouts (a stalled response
 * times out, a slow one that keeps sending does not, the deadline bounds it), bounded
 * concurrency, and the shard cache (a second load asks the server for no shard).
 */
import { liveTensors } from "../_tensors.ts";
import { assert, assertEquals, assertRejects } from "../_assert.ts";
import { serveDir } from "./_server.ts";
import { loadWeights } from "../../src/weights/loader.ts";
import { fetchWithRetry, resolveRequestOptions } from "../../src/weights/fetch_retry.ts";
import type { LoadProgressEvent } from "../../src/weights/progress.ts";
import { DirCache } from "../../src/weights/cache.ts";
import { WeightsError } from "../../src/errors.ts";
import { loadMobileNet } from "../../mod.ts";

const BUNDLED = new URL("../../weights/mobilenet_v1_0.25_224/", import.meta.url);
const FAST = { retryDelayMs: 1, cache: false as const };

async function expected(): Promise<Map<string, Float32Array>> {
  return (await loadWeights(BUNDLED)).tensors;
}

function assertSameTensors(got: Map<string, Float32Array>, want: Map<string, Float32Array>) {
  assertEquals(got.size, want.size);
  for (const [name, data] of want) assertEquals(got.get(name), data, name);
}

Deno.test("HTTP: two 503s for a shard are retried, the load succeeds, retries are reported", async () => {
  const server = serveDir(BUNDLED, {
    fault: (file, previous) =>
      file === "shard-001.bin" && previous < 2 ? { status: 503 } : undefined,
  });
  try {
    const events: LoadProgressEvent[] = [];
    const loaded = await loadWeights(server.url, { ...FAST, onProgress: (e) => events.push(e) });
    assertSameTensors(loaded.tensors, await expected());
    assertEquals(server.count("shard-001.bin"), 3);
    const retries = events.filter((e) => e.type === "retry");
    assertEquals(retries.length, 2);
    assertEquals(retries.map((e) => e.type === "retry" && [e.shard, e.attempt, e.reason]), [
      [1, 2, "HTTP 503"],
      [1, 3, "HTTP 503"],
    ]);
    const done = events.at(-1)!;
    assertEquals(done.type, "done");
    assertEquals(done.retries, 2);
    assertEquals(done.loadedShards, 2);
    assertEquals(done.loadedBytes, done.totalBytes);
    assertEquals(events.filter((e) => e.type === "shard").length, 2);
  } finally {
    await server.close();
  }
});

Deno.test("HTTP: 429 with Retry-After is retried; 5xx past the retry budget fails as NETWORK", async () => {
  const server = serveDir(BUNDLED, {
    fault: (file, previous) => {
      if (file === "shard-000.bin" && previous === 0) {
        return { status: 429, headers: { "retry-after": "0" } };
      }
      return file === "shard-001.bin" ? { status: 500 } : undefined;
    },
  });
  try {
    const error = await assertRejects(
      () => loadWeights(server.url, { ...FAST, retries: 2 }),
      WeightsError,
    );
    assertEquals(error.code, "NETWORK");
    assert(error.message.includes("HTTP 500"), error.message);
    assert(error.message.includes("after 3 attempts"), error.message);
    assertEquals(server.count("shard-000.bin"), 2);
    assertEquals(server.count("shard-001.bin"), 3);
  } finally {
    await server.close();
  }
});

Deno.test("HTTP: 404 and 403 are not retried", async () => {
  const server = serveDir(BUNDLED, {
    fault: (file) => file === "shard-000.bin" ? { status: 403 } : undefined,
  });
  const gone = serveDir(BUNDLED, {
    fault: (file) => file === "shard-001.bin" ? { status: 404 } : undefined,
  });
  try {
    const forbidden = await assertRejects(() => loadWeights(server.url, FAST), WeightsError);
    assertEquals(forbidden.code, "NETWORK");
    assert(forbidden.message.includes("HTTP 403"), forbidden.message);
    assertEquals(server.count("shard-000.bin"), 1);
    const missing = await assertRejects(() => loadWeights(gone.url, FAST), WeightsError);
    assertEquals(missing.code, "NOT_FOUND");
    assert(missing.message.includes("shard-001.bin"), missing.message);
    assertEquals(gone.count("shard-001.bin"), 1);
  } finally {
    await server.close();
    await gone.close();
  }
});

Deno.test("HTTP: a hash mismatch is fetched once more, then refused", async () => {
  const good = await Deno.readFile(new URL("shard-001.bin", BUNDLED));
  const bad = good.slice();
  bad[12345] ^= 0x40;
  let flaky = true;
  const server = serveDir(BUNDLED, {
    fault: (file, previous) =>
      file === "shard-001.bin" && (previous === 0 || !flaky) ? { body: bad } : undefined,
  });
  try {
    // A proxy spoiled the first copy: the second is right, the load succeeds.
    const events: LoadProgressEvent[] = [];
    const loaded = await loadWeights(server.url, { ...FAST, onProgress: (e) => events.push(e) });
    assertSameTensors(loaded.tensors, await expected());
    const retry = events.find((e) => e.type === "retry");
    assert(retry?.type === "retry" && retry.reason === "hash mismatch", JSON.stringify(retry));
    // The server keeps serving the wrong bytes: refused after the one retry.
    flaky = false;
    const before = server.count("shard-001.bin");
    const error = await assertRejects(() => loadWeights(server.url, FAST), WeightsError);
    assertEquals(error.code, "HASH_MISMATCH");
    assert(error.message.includes("shard-001.bin"), error.message);
    assertEquals(server.count("shard-001.bin") - before, 2);
  } finally {
    await server.close();
  }
});

Deno.test("HTTP: a short shard is TRUNCATED after one more try", async () => {
  const good = await Deno.readFile(new URL("shard-000.bin", BUNDLED));
  const server = serveDir(BUNDLED, {
    fault: (file) => file === "shard-000.bin" ? { body: good.subarray(0, 5000) } : undefined,
  });
  try {
    const error = await assertRejects(() => loadWeights(server.url, FAST), WeightsError);
    assertEquals(error.code, "TRUNCATED");
    assert(error.message.includes("5000 bytes"), error.message);
    assertEquals(server.count("shard-000.bin"), 2);
  } finally {
    await server.close();
  }
});

Deno.test("HTTP: a stalled response times out, is retried, and fails as TIMEOUT", async () => {
  const server = serveDir(BUNDLED, {
    fault: (file) => file === "shard-001.bin" ? { stall: true } : undefined,
  });
  try {
    const events: LoadProgressEvent[] = [];
    const error = await assertRejects(
      () =>
        loadWeights(server.url, {
          ...FAST,
          timeoutMs: 100,
          retries: 1,
          onProgress: (e) => events.push(e),
        }),
      WeightsError,
    );
    assertEquals(error.code, "TIMEOUT");
    assert(error.message.includes("shard-001.bin"), error.message);
    assertEquals(server.count("shard-001.bin"), 2);
    const retry = events.find((e) => e.type === "retry");
    assert(retry?.type === "retry" && retry.reason === "timeout", JSON.stringify(retry));
  } finally {
    await server.close();
  }
});

Deno.test("HTTP: shards are fetched in order, several at once, never more than `concurrency`", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mobilenet-shards-" });
  const server = serveDir(dir);
  try {
    // Re-shard the 0.25 weights into 64 KiB shards (30 shards).
    const { readTfjsLayers } = await import("../../src/weights/convert/tfjs_layers.ts");
    const { writeWeights } = await import("../../src/weights/writer.ts");
    const source = await readTfjsLayers(
      new URL("../fixtures/tfjs_layers/mobilenet_v1_0.25_224/model.json", import.meta.url),
    );
    const written = await writeWeights(source.config, source.tensors, { shardSize: 65536 });
    for (const [i, s] of written.manifest.shards.entries()) {
      await Deno.writeFile(`${dir}/${s.file}`, written.shards[i]);
    }
    await Deno.writeTextFile(`${dir}/manifest.json`, JSON.stringify(written.manifest));
    const asked: string[] = [];
    const recording: typeof fetch = (input, init) => {
      asked.push(String(input).split("/").at(-1)!);
      return fetch(input, init);
    };
    const loaded = await loadWeights(server.url, { ...FAST, concurrency: 3, fetch: recording });
    assertSameTensors(loaded.tensors, await expected());
    // Requested in network order (they may reach the server in a slightly different one).
    assertEquals(asked, ["manifest.json", ...written.manifest.shards.map((s) => s.file)]);
    assert(server.maxInFlight <= 3, `max in flight ${server.maxInFlight}`);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("HTTP: verified shards are cached by hash; the second cold load fetches no shard", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "mobilenet-cache-" });
  const server = serveDir(BUNDLED);
  const want = await expected();
  const shardRequests = () => server.requests.filter((r) => r.startsWith("shard-")).length;
  try {
    await t.step("directory cache", async () => {
      const cache = { dir: `${dir}/cache` };
      await loadWeights(server.url, { ...FAST, cache });
      assertEquals(shardRequests(), 2);
      const events: LoadProgressEvent[] = [];
      const second = await loadWeights(server.url, {
        ...FAST,
        cache,
        onProgress: (e) => events.push(e),
      });
      assertSameTensors(second.tensors, want);
      assertEquals(shardRequests(), 2, "no shard request the second time");
      assertEquals(events.at(-1)!.cachedShards, 2);
      // A corrupt cache entry is dropped and fetched again.
      const entries = [];
      for await (const e of Deno.readDir(cache.dir)) entries.push(e.name);
      const shardEntry = entries.find((n) => n.startsWith("sha256-"))!;
      await Deno.writeFile(`${cache.dir}/${shardEntry}`, new Uint8Array(10));
      assertSameTensors((await loadWeights(server.url, { ...FAST, cache })).tensors, want);
      assertEquals(shardRequests(), 3);
    });
    await t.step("Web Cache API", async () => {
      const name = `mobilenet-edge-test-${crypto.randomUUID()}`;
      try {
        const before = shardRequests();
        await loadWeights(server.url, { ...FAST, cache: { name } });
        assertEquals(shardRequests(), before + 2);
        const second = await loadWeights(server.url, { ...FAST, cache: { name } });
        assertSameTensors(second.tensors, want);
        assertEquals(shardRequests(), before + 2, "no shard request the second time");
      } finally {
        await caches.delete(name);
      }
    });
    await t.step("offline: the cached manifest is used when the server is down", async () => {
      const cache = new DirCache(`${dir}/cache`);
      const url = server.url;
      await server.close();
      const events: LoadProgressEvent[] = [];
      const offline = await loadWeights(url, {
        ...FAST,
        retries: 0,
        cache,
        onProgress: (e) => events.push(e),
      });
      assertSameTensors(offline.tensors, want);
      const first = events[0];
      assert(first.type === "manifest" && first.fromCache);
    });
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("HTTP: a failed load leaves no tensor on the backend", async () => {
  const model = await loadMobileNet({ model: "0.25_224" }); // backend up, baseline taken after
  model.dispose();
  const server = serveDir(BUNDLED, {
    fault: (file) => file === "shard-001.bin" ? { status: 404 } : undefined,
  });
  try {
    const before = liveTensors();
    const error = await assertRejects(
      () => loadMobileNet({ model: server.url, ...FAST }),
      WeightsError,
    );
    assertEquals(error.code, "NOT_FOUND");
    assertEquals(liveTensors(), before);
  } finally {
    await server.close();
  }
});

Deno.test("HTTP: an aborted load rejects with the abort reason and is not retried", async () => {
  const stalled = Promise.withResolvers<void>();
  const server = serveDir(BUNDLED, {
    fault: (file) => {
      if (file !== "shard-000.bin") return undefined;
      stalled.resolve();
      return { stall: true };
    },
  });
  try {
    const controller = new AbortController();
    const loading = loadWeights(server.url, { ...FAST, signal: controller.signal });
    const reason = new Error("stop");
    // abort once the shard is being fetched (a fixed delay loses the race on a busy machine)
    stalled.promise.then(() => controller.abort(reason));
    const error = await assertRejects(() => loading);
    assertEquals(error, reason);
    assertEquals(server.count("shard-000.bin"), 1);
  } finally {
    await server.close();
  }
});

Deno.test("HTTP: a slow server that keeps sending is not timed out; the deadline still bounds it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mobilenet-slow-" });
  // 6 chunks of 16 KiB, one every 50 ms: 300 ms in all, over the 200 ms idle timeout.
  const bytes = Uint8Array.from({ length: 6 * 16384 }, (_, i) => (i * 7919) & 255);
  await Deno.writeFile(`${dir}/blob.bin`, bytes);
  const server = serveDir(dir, { bytesPerSecond: 16384 * 20 });
  try {
    const url = new URL("blob.bin", server.url);
    const hooks = { expectedLength: bytes.byteLength };
    const slow = resolveRequestOptions({ ...FAST, timeoutMs: 200, retries: 0 });
    assertEquals(await fetchWithRetry(url, slow, hooks), bytes);
    const bounded = resolveRequestOptions({ ...FAST, timeoutMs: 200, deadlineMs: 120 });
    const error = await assertRejects(() => fetchWithRetry(url, bounded, hooks), WeightsError);
    assertEquals(error.code, "TIMEOUT");
    assert(error.message.includes("took over 120 ms (deadlineMs)"), error.message);
    assertEquals(server.count("blob.bin"), 2, "the deadline is not retried");
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});
