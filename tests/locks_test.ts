/**
 * The lean install: `deno.lock` (what `deno task classify` installs) holds only the packages
 * the module's entry points import, cut from `deno.dev.lock` by `scripts/locks.ts`; the dev
 * tasks use the dev lock; no package is left with an undecided build script (Deno would invite
 * the user to run it).
 *
 * @module
 */
import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { CUT_LOCKS, cutLock, DEV_LOCK, expectedLocks, formatLock } from "../scripts/locks.ts";
import type { LockFile } from "../scripts/locks.ts";

const ROOT = new URL("../", import.meta.url);
const read = (file: string) => Deno.readTextFile(new URL(file, ROOT));
const config = JSON.parse(await read("deno.json"));

Deno.test("locks: deno.lock and deno.convert.lock are what scripts/locks.ts cuts from deno.dev.lock", async () => {
  for (const [file, text] of await expectedLocks()) {
    assert(
      (await read(file)) === text,
      `${file} is stale: run \`deno run --allow-read --allow-write scripts/locks.ts\``,
    );
  }
});

Deno.test("locks: the runtime lock holds none of the bench, test and convert tools", async () => {
  const runtime = Object.keys(JSON.parse(await read("deno.lock")).specifiers);
  for (const tool of ["onnxruntime", "playwright", "h5wasm", "jpeg-js", "@jsquash"]) {
    assertEquals(runtime.filter((s) => s.includes(tool)), [], tool);
  }
  // and it has what classify needs
  assert(runtime.includes("npm:@tensorflow/tfjs-core@4.22.0"));
  assertEquals(config.lock, { path: "deno.lock", frozen: true });
});

Deno.test("locks: dev tasks use the dev lock, convert its own; the others the runtime lock", () => {
  const tasks: Record<string, string> = config.tasks;
  for (const [name, command] of Object.entries(tasks)) {
    const locks = [...command.matchAll(/--lock=(\S+)/g)].map((m) => m[1]);
    const dev = /deno (test|bench)\b|\s(tests|bench|tools)\/|deno check/.test(command);
    const expected = dev ? [DEV_LOCK] : name === "convert" ? ["deno.convert.lock"] : [];
    assertEquals(locks, expected, `task ${name}: ${command}`);
  }
  assertEquals(CUT_LOCKS.map((l) => l.file), ["deno.lock", "deno.convert.lock"]);
});

Deno.test("locks: every package with a build script is denied or allowed in deno.json", async () => {
  const dev: LockFile = JSON.parse(await read(DEV_LOCK));
  const decided = [...(config.allowScripts?.deny ?? []), ...(config.allowScripts?.allow ?? [])];
  const withScripts = Object.entries(dev.npm).filter(([, entry]) => entry.scripts === true)
    .map(([key]) => `npm:${/^(@?[^@]+)/.exec(key)![1]}`);
  assert(withScripts.includes("npm:onnxruntime-node"));
  assertEquals(withScripts.filter((name) => !decided.includes(name)), []);
});

Deno.test("locks: formatLock writes Deno's layout", async () => {
  const text = await read(DEV_LOCK);
  assertEquals(formatLock(JSON.parse(text)), text);
});

/** A small lock: a peer-suffixed key, two versions of one package, a name with `_`. */
const SAMPLE: LockFile = {
  version: "5",
  specifiers: { "npm:a@1.0.0": "1.0.0_b@2.0.0", "npm:c@3.0.0": "3.0.0", "npm:tool@9.0.0": "9.0.0" },
  npm: {
    "a@1.0.0_b@2.0.0": { integrity: "ia", dependencies: ["b", "long@4.0.0", "string_decoder"] },
    "b@2.0.0": { integrity: "ib" },
    "c@3.0.0": { integrity: "ic", dependencies: ["long@5.0.0"] },
    "long@4.0.0": { integrity: "il4" },
    "long@5.0.0": { integrity: "il5" },
    "string_decoder@1.3.0": { integrity: "is" },
    "tool@9.0.0": { integrity: "it", dependencies: ["long@5.0.0"], scripts: true },
  },
};

Deno.test("locks: cutLock keeps the specifiers asked for and the packages they reach", () => {
  const cut = cutLock(SAMPLE, ["npm:a@1.0.0"]);
  assertEquals(cut.specifiers, { "npm:a@1.0.0": "1.0.0_b@2.0.0" });
  assertEquals(Object.keys(cut.npm), [
    "a@1.0.0_b@2.0.0",
    "b@2.0.0",
    "long@4.0.0",
    "string_decoder@1.3.0",
  ]);
  const both = cutLock(SAMPLE, ["npm:c@3.0.0", "npm:a@1.0.0"]);
  assertEquals(Object.keys(both.specifiers), ["npm:a@1.0.0", "npm:c@3.0.0"]);
  assertEquals(Object.keys(both.npm).filter((key) => !(key in cut.npm)), ["c@3.0.0", "long@5.0.0"]);
  assertThrows(() => cutLock(SAMPLE, ["npm:missing@1.0.0"]), Error, "has no npm:missing@1.0.0");
  // a dependency that names a version the lock lacks is an inconsistent lock, not a silent skip
  const broken = { ...SAMPLE, npm: { ...SAMPLE.npm, "c@3.0.0": { dependencies: ["long@6.0.0"] } } };
  assertThrows(() => cutLock(broken, ["npm:c@3.0.0"]), Error, "long@6.0.0");
});
