/** The shared private helpers of `src/_util.ts`. */
import { assert, assertEquals, assertRejects, assertStrictEquals } from "./_assert.ts";
import {
  concatBytes,
  decodeBase64,
  errorMessage,
  markFirst,
  median,
  mediaType,
  overrideEnv,
  readEnv,
  sizeOf,
  withTimeout,
} from "../src/_util.ts";

Deno.test("errorMessage, median and sizeOf", () => {
  assertStrictEquals(errorMessage(new RangeError("out")), "out");
  assertStrictEquals(errorMessage({ message: 42 }), "42");
  assertStrictEquals(errorMessage("plain"), "plain");
  assertStrictEquals(median([3, 1, 2]), 2);
  assertStrictEquals(median([4, 1, 3, 2]), 2.5);
  assert(Number.isNaN(median([])));
  assertEquals([sizeOf([1, 224, 224, 3]), sizeOf([]), sizeOf([5, 0])], [150528, 1, 0]);
});

Deno.test("mediaType: lower case, without parameters, empty for none", () => {
  assertStrictEquals(mediaType(" Text/HTML ; charset=utf-8"), "text/html");
  assertStrictEquals(
    mediaType("multipart/x-mixed-replace;boundary=frame"),
    "multipart/x-mixed-replace",
  );
  assertStrictEquals(mediaType(null), "");
});

Deno.test("concatBytes joins parts in order into a new array", () => {
  const a = new Uint8Array([1, 2]);
  const joined = concatBytes([a, new Uint8Array(0), new Uint8Array([3]).subarray(0, 1)]);
  assertEquals([...joined], [1, 2, 3]);
  joined[0] = 9;
  assertStrictEquals(a[0], 1);
  assertStrictEquals(concatBytes([]).length, 0);
});

Deno.test("withTimeout: the promise's outcome when it settles first, no timer left", async () => {
  assertStrictEquals(await withTimeout(Promise.resolve(7), 60_000, () => new Error("late")), 7);
  await assertRejects(
    withTimeout(Promise.reject(new TypeError("bad")), 60_000, () => new Error("late")),
    { name: "TypeError", message: "bad" },
  );
  // A pending 60 s timer would fail the test's op sanitizer.
});

Deno.test("withTimeout: the timeout error when the time runs out first", async () => {
  const never = new Promise<never>(() => {});
  await assertRejects(withTimeout(never, 1, () => new Error("not within 1 ms")), {
    name: "Error",
    message: "not within 1 ms",
  });
});

Deno.test("decodeBase64: the runtime's decoder and the atob fallback agree, whitespace ignored", () => {
  const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 37) & 255);
  const text = btoa(String.fromCharCode(...bytes)).replace(/(.{76})/g, "$1\n  ");
  assertEquals(Array.from(decodeBase64(text)), Array.from(bytes));
  const holder = Uint8Array as { fromBase64?: unknown };
  const native = Object.getOwnPropertyDescriptor(holder, "fromBase64");
  delete holder.fromBase64;
  try {
    assertEquals(Array.from(decodeBase64(text)), Array.from(bytes));
  } finally {
    if (native) Object.defineProperty(holder, "fromBase64", native);
  }
});

Deno.test("markFirst marks a phase the first time only", () => {
  const name = `test:first-${crypto.randomUUID()}`;
  const entries = () => performance.getEntriesByName(`mobilenet-edge:${name}`, "mark");
  markFirst(name);
  const first = entries();
  markFirst(name);
  markFirst(name);
  assertEquals([first.length, entries().length], [1, 1]);
  performance.clearMarks(`mobilenet-edge:${name}`);
});

Deno.test("overrideEnv: readEnv sees the value (or unset) in this isolate only, until undone", () => {
  const name = "MOBILENET_EDGE_TEST_OVERRIDE";
  assertEquals(readEnv(name), undefined);
  const undo = overrideEnv(name, "7");
  assertEquals(readEnv(name), "7");
  assertEquals(Deno.env.get(name), undefined, "the process's environment is not touched");
  const undoInner = overrideEnv(name, undefined);
  assertEquals(readEnv(name), undefined);
  undoInner();
  assertEquals(readEnv(name), "7");
  undo();
  assertEquals(readEnv(name), undefined);
  const home = Deno.env.get("HOME");
  const undoHome = overrideEnv("HOME", undefined);
  assertEquals(readEnv("HOME"), undefined, "an override can unset a variable that is set");
  undoHome();
  assertEquals(readEnv("HOME"), home);
});
