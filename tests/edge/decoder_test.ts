/**
 * The decode worker: the same pixels as decoding on the event loop, typed errors across, a hung
 * decode stopped at the timeout (and the next image decoded by a new worker), and the event loop
 * as the fallback where a worker cannot start or `Worker` does not exist.
 */
import { assert, assertEquals, assertRejects, assertStrictEquals } from "../_assert.ts";
import { ImageDecodeError } from "../../mod.ts";
import {
  createDecoder,
  decodeInline,
  type ImageDecoder,
  InlineDecoder,
  WorkerDecoder,
} from "../../edge/decoder.ts";
import { zeroRowsPng } from "../image/_hostile.ts";
import { ELEPHANT } from "./_helpers.ts";
import { captureLog } from "./_loopback.ts";

const photo = await Deno.readFile(ELEPHANT);
const OPTIONS = { minWidth: 224, minHeight: 224 };

/** Waits (bounded) until the worker has said it is ready. */
async function ready(decoder: ImageDecoder): Promise<void> {
  for (let i = 0; i < 600 && decoder.where !== "worker"; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assertStrictEquals(decoder.where, "worker");
}

Deno.test("decoder: the worker gives the pixels decoding inline gives, and typed errors", async () => {
  const decoder = new WorkerDecoder({ timeoutMs: 60_000 });
  try {
    await ready(decoder);
    // 4.5 MB of pixels: more than the shared buffer the worker keeps (transferred instead)
    const big = await zeroRowsPng(1500, 1000);
    for (const [bytes, options] of [[photo, OPTIONS], [big, {}]] as const) {
      const expected = await decodeInline(bytes, options);
      const sent = bytes.slice();
      const { pixels, decodeMs } = await decoder.decode(sent, options);
      assertStrictEquals(sent.byteLength, 0); // transferred to the worker, not copied
      assertEquals(
        [pixels.width, pixels.height, pixels.channels],
        [expected.pixels.width, expected.pixels.height, expected.pixels.channels],
      );
      assert(pixels.data.every((value, i) => value === expected.pixels.data[i]));
      assert(decodeMs > 0);
    }
    for (
      const [bytes, code] of [
        [new Uint8Array(0), "EMPTY"],
        [new TextEncoder().encode("not an image at all"), "UNSUPPORTED_FORMAT"],
        [photo.slice(0, 2000), "TRUNCATED"],
      ] as const
    ) {
      const error = await assertRejects(() => decoder.decode(bytes, OPTIONS), ImageDecodeError);
      assertStrictEquals(error.code, code);
    }
  } finally {
    decoder.close();
  }
});

Deno.test("decoder: a decode past the timeout stops the worker; a new one takes the next image", async () => {
  const url = new URL("./_hang_worker.ts", import.meta.url);
  const decoder = new WorkerDecoder({ timeoutMs: 300, url });
  try {
    await ready(decoder);
    await captureLog(async (lines) => {
      const hung = await assertRejects(
        () => decoder.decode(new Uint8Array(1), OPTIONS),
        ImageDecodeError,
      );
      assertStrictEquals(hung.code, "TOO_COMPLEX");
      assertEquals(lines, ["edge: a decode ran past 300 ms; stopping its worker"]);
    });
    // queued for the new worker (no fallback to the event loop once a worker has run)
    const { pixels } = await decoder.decode(photo.slice(), OPTIONS);
    assertEquals([pixels.width, pixels.height], [500, 375]);
    assertStrictEquals(decoder.where, "worker");
  } finally {
    decoder.close();
  }
});

Deno.test("decoder: a worker that cannot load leaves decoding on the event loop, said once", async () => {
  await captureLog(async (lines) => {
    const url = new URL("data:text/javascript,throw new Error('cannot load')");
    const decoder = new WorkerDecoder({ timeoutMs: 60_000, url });
    try {
      for (let i = 0; i < 600 && lines.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assertStrictEquals(lines.length, 1);
      assert(lines[0].startsWith("edge: decode worker failed to load:"), lines[0]);
      const { pixels } = await decoder.decode(photo, OPTIONS);
      assertEquals([pixels.width, pixels.height, decoder.where], [500, 375, "inline"]);
      assertStrictEquals(lines.length, 1);
    } finally {
      decoder.close();
    }
  });
});

Deno.test("decoder: without Worker (Supabase's runtime, Deno Deploy) decoding is inline", async () => {
  const global = globalThis as { Worker?: typeof Worker };
  const saved = global.Worker;
  delete global.Worker;
  try {
    const decoder = createDecoder("worker", 30_000);
    assert(decoder instanceof InlineDecoder);
    const { pixels } = await decoder.decode(photo, OPTIONS);
    assertEquals([pixels.width, pixels.height, decoder.where], [500, 375, "inline"]);
  } finally {
    global.Worker = saved;
  }
  assert(createDecoder("inline", 30_000) instanceof InlineDecoder);
});

Deno.test("decoder: startDelayMs holds the worker back after startAfter (inline until then); close() in the wait starts none", async () => {
  const gate = Promise.withResolvers<void>();
  const decoder = new WorkerDecoder({
    timeoutMs: 60_000,
    startAfter: gate.promise,
    startDelayMs: 200,
  });
  try {
    gate.resolve();
    await new Promise((r) => setTimeout(r, 20));
    const { pixels } = await decoder.decode(photo.slice(), OPTIONS);
    assertEquals([pixels.width, pixels.height, decoder.where], [500, 375, "inline"]);
    await ready(decoder);
  } finally {
    decoder.close();
  }
  const closed = new WorkerDecoder({ timeoutMs: 60_000, startDelayMs: 10_000 });
  closed.close(); // the timer goes with it: the test's sanitizer sees no timer left
  assertStrictEquals(closed.where, "inline");
});
