/**
 * What tfjs-backend-wasm's glue gets in place of Node's (`src/backend/glue_env.ts`): the
 * package's directory without loading it, a `process` that never touches the application's, and
 * a `require` that refuses what the backend does not give.
 */
import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { glueEnv, wasmOutDirectory } from "../../src/backend/glue_env.ts";

Deno.test("glue env: wasm-out/ is the package's directory, with the binaries and the glue files", async () => {
  const directory = await wasmOutDirectory();
  assert(directory.endsWith("/wasm-out/"), directory);
  for (
    const file of [
      "tfjs-backend-wasm.wasm",
      "tfjs-backend-wasm-simd.wasm",
      "tfjs-backend-wasm-threaded-simd.wasm",
      "tfjs-backend-wasm-threaded-simd.js",
    ]
  ) assert((await Deno.stat(directory + file)).size > 1000, file);
});

Deno.test("glue env: the glue's process is Node-like, keeps no listeners, and its exit throws", () => {
  const { process, dirname } = glueEnv("/pkg/wasm-out/");
  assertEquals(dirname, "/pkg/wasm-out");
  assertEquals(typeof process.versions.node, "string"); // the glue's Node mode
  process.on("uncaughtException", () => {});
  assertEquals(process.listeners("uncaughtException"), []);
  assertThrows(() => process.exit(3), Error, "asked to exit (status 3)");
  const [s1, ns1] = process.hrtime();
  const [s2, ns2] = process.hrtime();
  assert(s2 * 1e9 + ns2 >= s1 * 1e9 + ns1, "hrtime goes forward");
  assert(ns1 >= 0 && ns1 < 1e9);
});

Deno.test("glue env: require gives path and a placeholder Worker; file reads and other modules throw", () => {
  const env = glueEnv("/pkg/wasm-out/");
  const path = env.require("path") as { dirname(p: string): string };
  assertEquals(path.dirname("/pkg/wasm-out/x.js"), "/pkg/wasm-out");
  const fs = env.require("fs") as { readFileSync(p: string): unknown };
  assertThrows(() => fs.readFileSync("/etc/passwd"), Error, "a file read");
  const { Worker } = env.require("worker_threads") as { Worker: new () => unknown };
  assertThrows(() => new Worker(), Error, "outside the pthread bridge");
  assertThrows(() => env.require("child_process"), Error, 'require("child_process")');
});
