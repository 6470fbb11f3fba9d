/**
 * `src/vendor/`, tools/tfjs_bundle/build.ts' output: the bundled tfjs and tfjs-backend-wasm's
 * emscripten glue hold the packages deno.lock pins, their bodies are the ones built, a user's own
 * `npm:@tensorflow/tfjs-core` works beside them, and a cold classify never loads Deno's Node
 * layer.
 */
import { assert, assertEquals, assertStrictEquals } from "./_assert.ts";
import { BUNDLED_PACKAGES, GLUE_PACKAGES, readBundle } from "../src/vendor/header.ts";
import { sha256Hex } from "../src/weights/sha256.ts";

const ROOT = new URL("../", import.meta.url);

/** Checks a vendored file's header against deno.lock and its body against its sha256. */
async function checkedBody(file: string, names: readonly string[]): Promise<string> {
  const { packages, sha256, body } = readBundle(await Deno.readTextFile(new URL(file, ROOT)));
  const lock = JSON.parse(await Deno.readTextFile(new URL("deno.lock", ROOT)));
  assertEquals(packages.length, names.length);
  for (const [i, name] of names.entries()) {
    const { key, integrity } = packages[i];
    assert(key.startsWith(`${name}@`), `${key} is not ${name}`);
    assertStrictEquals(lock.npm[key]?.integrity, integrity, `${key}: deno.lock has another`);
  }
  assertStrictEquals(
    await sha256Hex(new TextEncoder().encode(body)),
    sha256,
    `${file} was edited after the build`,
  );
  return body;
}

Deno.test("vendor: the bundled tfjs holds the packages deno.lock pins, and its body is the one built", async () => {
  const body = await checkedBody("src/vendor/tfjs.js", BUNDLED_PACKAGES);
  // the patches of the build
  assert(body.includes("this.util = { TextEncoder, TextDecoder"), "util");
  assert(body.includes("if (env().platform == null) env().setPlatform"), "platform");
  assert(body.includes('registerFlag("IS_NODE", () => typeof Deno !== "undefined" ||'), "IS_NODE");
  assert(!body.includes("process.hrtime"), "the platform's clock");
  assert(body.includes('|| typeof btoa === "undefined") && typeof Buffer'), "Buffer");
  assert(body.includes("return (f) => setImmediate(f);"), "setImmediate");
  assert(
    body.includes('!ArrayBuffer.isView(values) && "buffer" in values && typeof GPUBuffer'),
    "GPU",
  );
});

Deno.test("vendor: the emscripten glue is the package's three files, each wrapped whole", async () => {
  const body = await checkedBody("src/vendor/wasm_glue.js", GLUE_PACKAGES);
  const dir = new URL(
    import.meta.resolve("npm:@tensorflow/tfjs-backend-wasm@4.22.0/wasm-out/tfjs-backend-wasm.js"),
  );
  for (
    const file of [
      "tfjs-backend-wasm-threaded-simd.js",
      "tfjs-backend-wasm.js",
      "tfjs-backend-wasm-threaded-simd.worker.js",
    ]
  ) {
    const text = await Deno.readTextFile(new URL(file, dir));
    assert(body.includes(`// wasm-out/${file}\n`), file);
    assert(body.includes(text), `${file}: the vendored copy differs from the package's`);
  }
});

/** Runs a child script with `flags`; its stderr, and the JSON of its last stdout line. */
async function runChild(
  flags: string[],
  script: string,
): Promise<{ stderr: string; result: Record<string, unknown> }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--lock=deno.dev.lock", ...flags, script],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert(out.success, stderr);
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  return { stderr, result: JSON.parse(lines.at(-1)!) };
}

Deno.test("vendor: a cold classify through the CLI never reads Node's globals nor loads its modules", async () => {
  // the classify task's permissions
  const task = ["--allow-read", "--allow-env", "--allow-net", "--allow-ffi"];
  const { stderr, result } = await runChild(task, "tests/_node_layer_child.ts");
  assertEquals(result.code, 0, stderr);
  const trapped = result.trapped as string[];
  assert(trapped.length >= 3, `only ${trapped.join(", ")} could be watched`);
  assertEquals(result.touched, []);
});

Deno.test("vendor: a user's own tfjs-core beside the bundled one: one engine, their tensors accepted, no warning", async () => {
  const { stderr, result } = await runChild(["-A"], "tests/_two_copies_child.ts");
  assertEquals([result.same, result.backend], [true, "wasm"]);
  // their tfjs counts the model's weight tensors: the two copies share one engine
  assert(Number(result.tensors) > 50, `their engine holds ${result.tensors} tensors`);
  assert(!/Platform .* has already been set/.test(stderr), stderr);
});
