/**
 * Builds `src/vendor/tfjs.js`: tfjs-core and tfjs-backend-wasm (their JavaScript, at the versions
 * `deno.lock` pins) as one ES module, so that a cold start does not load tfjs-core's CommonJS
 * build through Deno's Node module loader (measured: 44 ms less for a cold `deno task classify`,
 * median of 15 interleaved pairs). `deno bundle` (esbuild) bundles `entry.ts` for the browser
 * platform (no `require`); the one Node module tfjs-core then asks for, `util` (its Node platform,
 * which Deno gets, wants `TextEncoder`, `TextDecoder` and `types`), is put back with the Web
 * equivalents; and it keeps a platform another copy of tfjs-core has set (no warning when a
 * user's own `npm:@tensorflow/tfjs-core` loaded first). A header records the packages (from `deno.lock`) and the body's sha256, which
 * `tests/vendor_test.ts` checks. The emscripten glue and the .wasm binaries still come from
 * the npm package at run time.
 *
 * Run: `deno run -A tools/tfjs_bundle/build.ts` (needs the npm registry once, for esbuild).
 *
 * @module
 */
import { sha256Hex } from "../../src/weights/sha256.ts";
import { BUNDLED_PACKAGES, bundleHeader } from "../../src/vendor/header.ts";

const ROOT = new URL("../../", import.meta.url);
const OUT = new URL("src/vendor/tfjs.js", ROOT);
const UTIL_STUB = "this.util = require_deno_browser_disabled_util();";
const UTIL = "this.util = { TextEncoder, TextDecoder, types: { " +
  "isFloat32Array: (a) => a instanceof Float32Array, isInt32Array: (a) => a instanceof Int32Array, " +
  "isUint8Array: (a) => a instanceof Uint8Array, " +
  "isUint8ClampedArray: (a) => a instanceof Uint8ClampedArray } };";

// tfjs sets its platform when it loads and warns when one is set already (another copy of
// tfjs-core, such as the user's own npm import, loaded first): this copy then keeps that one.
const PLATFORM = 'env().setPlatform("node", new PlatformNode());';
const PLATFORM_KEPT = 'if (env().platform == null) env().setPlatform("node", new PlatformNode());';

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
if (!built.success) {
  console.error(new TextDecoder().decode(built.stderr));
  Deno.exit(1);
}
const text = await Deno.readTextFile(tmp);
await Deno.remove(tmp);
if (text.split(UTIL_STUB).length !== 2) {
  throw new Error(`expected one "${UTIL_STUB}" in the bundle: the tfjs build changed`);
}
if (text.split(PLATFORM).length !== 2) {
  throw new Error(`expected one "${PLATFORM}" in the bundle: the tfjs build changed`);
}
const body = text.replace(UTIL_STUB, UTIL).replace(PLATFORM, PLATFORM_KEPT);
const lock = JSON.parse(await Deno.readTextFile(new URL("deno.lock", ROOT)));
const header = bundleHeader(
  BUNDLED_PACKAGES.map((name) => {
    const key = Object.keys(lock.npm).find((k) => k.startsWith(`${name}@`));
    if (!key) throw new Error(`deno.lock has no ${name}`);
    return { key, integrity: lock.npm[key].integrity };
  }),
  await sha256Hex(new TextEncoder().encode(body)),
);
await Deno.writeTextFile(OUT, header + body);
console.log(`wrote ${OUT.pathname} (${(header + body).length} characters)`);
