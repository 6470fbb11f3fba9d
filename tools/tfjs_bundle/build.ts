/**
 * Builds `src/vendor/tfjs.js`: tfjs-core and tfjs-backend-wasm (their JavaScript, at the versions
 * `deno.lock` pins) as one ES module, so that a cold start does not load tfjs-core's CommonJS
 * build through Deno's Node module loader (measured: 44 ms less for a cold `deno task classify`,
 * median of 15 interleaved pairs). `deno bundle` (esbuild) bundles `entry.ts` for the browser
 * platform (no `require`); the one Node module tfjs-core then asks for, `util` (its Node platform,
 * which Deno gets, wants `TextEncoder`, `TextDecoder` and `types`), is put back with the Web
 * equivalents; and it keeps a platform another copy of tfjs-core has set (no warning when a
 * user's own `npm:@tensorflow/tfjs-core` loaded first). A header records the packages (from `deno.lock`) and the body's sha256, which
 * `tests/vendor_test.ts` checks. The bundle never reads the global `process` when it loads: in
 * Deno that getter alone loads the Node compatibility layer (about 30 ms of a cold start). Its
 * `IS_NODE` flag answers true in Deno without asking `process`, its platform's `now()` is
 * `performance.now()`, and its two other top-level reads of Node globals (`Buffer`,
 * `setImmediate`) and its check for WebGPU data (`GPUBuffer`, a getter that loads Deno's WebGPU
 * layer) wait until they are needed.
 *
 * It also writes `src/vendor/wasm_glue.js`: the package's emscripten glue (`wasm-out/`: the
 * threaded SIMD and the single-thread factories, and the pthread worker's source), each CommonJS
 * file wrapped in a function that is given its `require`, `process`, `__dirname` and
 * `__filename` (see `src/backend/glue_env.ts`), so that starting the backend loads neither
 * Deno's CommonJS loader nor the Node layer. The .wasm binaries still come from the npm package.
 *
 * Run: `deno run -A tools/tfjs_bundle/build.ts` (needs the npm registry once, for esbuild).
 *
 * @module
 */
import { sha256Hex } from "../../src/weights/sha256.ts";
import {
  BUNDLED_PACKAGES,
  type BundledPackage,
  bundleHeader,
  GLUE_PACKAGES,
} from "../../src/vendor/header.ts";

const ROOT = new URL("../../", import.meta.url);
const OUT = new URL("src/vendor/tfjs.js", ROOT);
const GLUE_OUT = new URL("src/vendor/wasm_glue.js", ROOT);
const WASM_OUT = "npm:@tensorflow/tfjs-backend-wasm@4.22.0/wasm-out/";

const UTIL_STUB = "this.util = require_deno_browser_disabled_util();";
const UTIL = "this.util = { TextEncoder, TextDecoder, types: { " +
  "isFloat32Array: (a) => a instanceof Float32Array, isInt32Array: (a) => a instanceof Int32Array, " +
  "isUint8Array: (a) => a instanceof Uint8Array, " +
  "isUint8ClampedArray: (a) => a instanceof Uint8ClampedArray } };";

// tfjs sets its platform when it loads and warns when one is set already (another copy of
// tfjs-core, such as the user's own npm import, loaded first): this copy then keeps that one.
const PLATFORM = 'env().setPlatform("node", new PlatformNode());';
const PLATFORM_KEPT = 'if (env().platform == null) env().setPlatform("node", new PlatformNode());';

// Deno is Node-like for tfjs (the flag was true there before), and answering it must not touch
// the global `process`, whose getter loads Deno's Node layer.
const IS_NODE = 'registerFlag("IS_NODE", () => typeof process !== "undefined"';
const IS_NODE_DENO = 'registerFlag("IS_NODE", () => typeof Deno !== "undefined" || ' +
  'typeof process !== "undefined"';
// The node platform's clock: tfjs only takes differences of it.
const HRTIME =
  /now\(\) \{\n\s+const (\w+) = process\.hrtime\(\);\n\s+return \1\[0\] \* 1e3 \+ \1\[1\] \/ 1e6;\n\s+\}/g;
const NOW = "now() {\n    return performance.now();\n  }";
// Two more top-level reads of Node globals whose getters load that layer: `Buffer` (asked only
// where Blob, atob or btoa are missing, which Deno has) and `setImmediate` (asked on first use).
const NODE_BUFFER = 'var useNodeBuffer = typeof Buffer !== "undefined" && (typeof Blob === ' +
  '"undefined" || typeof atob === "undefined" || typeof btoa === "undefined");';
const NODE_BUFFER_LAST = 'var useNodeBuffer = (typeof Blob === "undefined" || typeof atob === ' +
  '"undefined" || typeof btoa === "undefined") && typeof Buffer !== "undefined";';
// And WebGPU's `GPUBuffer`, whose getter loads Deno's WebGPU layer (3-4 ms): asked only of a value
// that is not a typed array (which is never WebGPU data).
const GPU_DATA = 'return typeof GPUBuffer !== "undefined" && values != null && typeof values === ' +
  '"object" && "buffer" in values && values.buffer instanceof GPUBuffer;';
const GPU_DATA_LAST = 'return values != null && typeof values === "object" && ' +
  '!ArrayBuffer.isView(values) && "buffer" in values && typeof GPUBuffer !== "undefined" && ' +
  "values.buffer instanceof GPUBuffer;";
const IMMEDIATE = '} else if (typeof setImmediate !== "undefined") {\n    return setImmediate;';
const IMMEDIATE_LAZY = '} else if (typeof Deno !== "undefined" || typeof setImmediate !== ' +
  '"undefined") {\n    return (f) => setImmediate(f);';

/** The bundle's patches, each `[what, by what]` (see the constants above). */
const PATCHES: [string | RegExp, string][] = [
  [UTIL_STUB, UTIL],
  [PLATFORM, PLATFORM_KEPT],
  [IS_NODE, IS_NODE_DENO],
  [NODE_BUFFER, NODE_BUFFER_LAST],
  [IMMEDIATE, IMMEDIATE_LAZY],
  [GPU_DATA, GPU_DATA_LAST],
  [HRTIME, NOW],
];

/** `text` with `from` replaced once; throws unless `from` occurs exactly once. */
function replaceOnce(text: string, from: string | RegExp, to: string): string {
  const count = typeof from === "string"
    ? text.split(from).length - 1
    : [...text.matchAll(from)].length;
  if (count !== 1) throw new Error(`expected one "${from}" in the bundle: the tfjs build changed`);
  return text.replace(from, to);
}

/** The `deno.lock` key and integrity of each of `names`. */
async function lockedPackages(names: readonly string[]): Promise<BundledPackage[]> {
  const lock = JSON.parse(await Deno.readTextFile(new URL("deno.lock", ROOT)));
  return names.map((name) => {
    const key = Object.keys(lock.npm).find((k) => k.startsWith(`${name}@`));
    if (!key) throw new Error(`deno.lock has no ${name}`);
    return { key, integrity: lock.npm[key].integrity };
  });
}

/** tfjs-core and tfjs-backend-wasm as one ES module, patched (see the module doc). */
async function buildTfjs(): Promise<string> {
  const tmp = await Deno.makeTempFile({ suffix: ".js" });
  const built = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--platform",
      "browser",
      "--format",
      "esm",
      "-o",
      tmp,
      new URL("tools/tfjs_bundle/entry.ts", ROOT).pathname,
    ],
    cwd: new URL(".", ROOT).pathname,
  }).output();
  if (!built.success) throw new Error(new TextDecoder().decode(built.stderr));
  const text = await Deno.readTextFile(tmp);
  await Deno.remove(tmp);
  return PATCHES.reduce((body, [from, to]) => replaceOnce(body, from, to), text);
}

/** One CommonJS file of `wasm-out/` as an exported function that runs it (see the module doc). */
async function wrapped(name: string, file: string, params: string): Promise<string> {
  const path = new URL(import.meta.resolve(WASM_OUT + file)).pathname;
  const text = await Deno.readTextFile(path);
  return [
    `// wasm-out/${file}`,
    `export function ${name}(${params}) {`,
    "var module = { exports: {} };",
    "var exports = module.exports;",
    text,
    "return module.exports;",
    "}",
    "",
  ].join("\n");
}

/** The emscripten glue of tfjs-backend-wasm, as one ES module. */
async function buildGlue(): Promise<string> {
  const params = "require, process, __dirname, __filename";
  return [
    "// tfjs-backend-wasm's emscripten glue, each file as the package ships it, run by a function",
    "// that is given the CommonJS names it reads (src/backend/glue_env.ts).",
    await wrapped("threadedSimdGlue", "tfjs-backend-wasm-threaded-simd.js", params),
    await wrapped("singleGlue", "tfjs-backend-wasm.js", params),
    await wrapped("pthreadWorkerGlue", "tfjs-backend-wasm-threaded-simd.worker.js", ""),
  ].join("\n");
}

/** Writes `body` to `out` behind its header. */
async function write(
  out: URL,
  body: string,
  text: { types: string; licences: string },
  names: readonly string[],
): Promise<void> {
  const header = bundleHeader(
    text,
    await lockedPackages(names),
    await sha256Hex(new TextEncoder().encode(body)),
  );
  await Deno.writeTextFile(out, header + body);
  console.log(`wrote ${out.pathname} (${(header + body).length} characters)`);
}

await write(OUT, await buildTfjs(), {
  types: "tfjs.d.ts",
  licences: "Apache-2.0 (tfjs), Apache-2.0 (long), MIT (seedrandom); their notices are kept below.",
}, BUNDLED_PACKAGES);
await write(GLUE_OUT, await buildGlue(), {
  types: "wasm_glue.d.ts",
  licences: "Apache-2.0 (tfjs-backend-wasm; emscripten's glue: MIT).",
}, GLUE_PACKAGES);
