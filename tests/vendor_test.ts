/**
 * `src/vendor/tfjs.js`, the bundled tfjs (tools/tfjs_bundle/build.ts): it holds the packages
 * deno.lock pins, its body is the one built, and a user's own `npm:@tensorflow/tfjs-core` works
 * beside it.
 */
import { assert, assertEquals, assertStrictEquals } from "./_assert.ts";
import { BUNDLED_PACKAGES, readBundle } from "../src/vendor/header.ts";
import { sha256Hex } from "../src/weights/sha256.ts";

const ROOT = new URL("../", import.meta.url);

Deno.test("vendor: the bundled tfjs holds the packages deno.lock pins, and its body is the one built", async () => {
  const { packages, sha256, body } = readBundle(
    await Deno.readTextFile(new URL("src/vendor/tfjs.js", ROOT)),
  );
  const lock = JSON.parse(await Deno.readTextFile(new URL("deno.lock", ROOT)));
  assertEquals(packages.length, BUNDLED_PACKAGES.length);
  for (const [i, name] of BUNDLED_PACKAGES.entries()) {
    const { key, integrity } = packages[i];
    assert(key.startsWith(`${name}@`), `${key} is not ${name}`);
    assertStrictEquals(lock.npm[key]?.integrity, integrity, `${key}: deno.lock has another`);
  }
  assertStrictEquals(
    await sha256Hex(new TextEncoder().encode(body)),
    sha256,
    "edited after the build",
  );
  // the two patches of the build
  assert(body.includes("this.util = { TextEncoder, TextDecoder"), "util");
  assert(body.includes("if (env().platform == null) env().setPlatform"), "platform");
});

Deno.test("vendor: a user's own tfjs-core beside the bundled one: one engine, their tensors accepted, no warning", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--lock=deno.dev.lock", "tests/_two_copies_child.ts"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert(out.success, stderr);
  const result = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
  assertEquals([result.same, result.backend], [true, "wasm"]);
  // their tfjs counts the model's weight tensors: the two copies share one engine
  assert(result.tensors > 50, `their engine holds ${result.tensors} tensors`);
  assert(!/Platform .* has already been set/.test(stderr), stderr);
});
