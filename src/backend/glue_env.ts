/**
 * What tfjs-backend-wasm's emscripten glue gets in place of Node's: the glue (vendored in
 * `src/vendor/wasm_glue.js`) runs in Node mode, as it did when Deno loaded it as CommonJS, but
 * it reads `process` and `require` from here. In Deno the global `process` is a getter that loads
 * the whole Node compatibility layer (about 30 ms of a cold start), and a CommonJS import loads
 * Deno's CommonJS loader too (15-20 ms more); the backend's start needs neither.
 *
 * What the glue asks of them, and what it gets:
 * - `process.versions.node`: it decides Node mode on it.
 * - `process.on`, `listeners`, `removeListener`: it adds error listeners that rethrow; here they
 *   go nowhere, so the application's own `process` is never touched (before, they were removed
 *   again as soon as the factory returned).
 * - `process.argv`, `hrtime`, `exitCode`, `exit`: the program's name, a clock, and its exit,
 *   which here throws instead of ending the process.
 * - `require("fs")`, `require("path")`: read only when the glue loads the binary itself, which
 *   it never does here (`instantiateWasm` gives it); reading throws.
 * - `require("worker_threads").Worker`: assigned to `globalThis.Worker`, where the pthread
 *   bridge answers (`PthreadBridge.intercept`).
 * - `require("os")`, `require("perf_hooks")`: not reached (the core count is an import the
 *   backend answers; `performance` exists).
 *
 * @module
 */

/** The CommonJS names a glue function of `wasm_glue.js` is given. */
export interface GlueEnv {
  require: (name: string) => unknown;
  process: GlueProcess;
  dirname: string;
}

/** The part of Node's `process` the glue reads. */
export interface GlueProcess {
  versions: { node: string };
  argv: string[];
  exitCode?: number;
  on(event: string, listener: unknown): void;
  listeners(event: string): unknown[];
  removeListener(event: string, listener: unknown): void;
  hrtime(): [number, number];
  exit(status?: number): never;
}

/** A file of the package's `wasm-out/` directory (a literal, which `deno publish` analyzes). */
const locate = () =>
  new URL(
    import.meta.resolve("npm:@tensorflow/tfjs-backend-wasm@4.22.0/wasm-out/tfjs-backend-wasm.wasm"),
  );

/** The file path of a `file:` URL (`file:///C:/x` is `C:/x` on Windows). */
function filePath(url: URL): string {
  const path = decodeURIComponent(url.pathname);
  return /^\/[A-Za-z]:\//.test(path) ? path.slice(1) : path;
}

/**
 * The `wasm-out/` directory as a path ending in `/`, resolved from the npm specifier without
 * loading the glue. A project that imports this module from elsewhere may not have resolved the
 * package yet: then one small ES module of the package (its version) is imported first, which
 * resolves it without Deno's CommonJS loader or Node layer.
 *
 * @throws {Error} when the runtime does not resolve the package to a local file.
 */
export async function wasmOutDirectory(): Promise<string> {
  let url = locate();
  if (url.protocol !== "file:") {
    await import("npm:@tensorflow/tfjs-backend-wasm@4.22.0/dist/version.js");
    url = locate();
  }
  if (url.protocol !== "file:") {
    throw new Error(`tfjs-backend-wasm resolves to ${url.href}, not to a local file`);
  }
  return filePath(new URL(".", url));
}

function notHere(what: string): never {
  throw new Error(`tfjs-backend-wasm's glue asked for ${what}, which the backend does not give`);
}

const GLUE_PROCESS: GlueProcess = {
  versions: { node: "deno" },
  argv: [],
  on() {},
  listeners: () => [],
  removeListener() {},
  hrtime() {
    const ms = performance.timeOrigin + performance.now();
    return [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];
  },
  exit(status?: number): never {
    throw new Error(`tfjs-backend-wasm asked to exit (status ${status ?? 0})`);
  },
};

/** A placeholder `Worker`: the bridge answers `globalThis.Worker` while the glue runs. */
class NoWorker {
  constructor() {
    notHere("a Worker outside the pthread bridge");
  }
}

const MODULES: Record<string, unknown> = {
  fs: {
    readFileSync: () => notHere("a file read"),
    readFile: () => notHere("a file read"),
  },
  path: {
    dirname: (path: string) => path.replace(/\/[^/]*\/?$/, "") || "/",
    normalize: (path: string) => path,
  },
  worker_threads: { Worker: NoWorker },
};

/**
 * The environment for one glue function: its `require`, `process` and `__dirname`.
 *
 * @example
 * ```ts
 * import { glueEnv } from "./glue_env.ts";
 * const env = glueEnv("/pkg/wasm-out/");
 * console.log(env.process.versions.node, env.dirname); // deno /pkg/wasm-out
 * ```
 */
export function glueEnv(directory: string): GlueEnv {
  return {
    require: (name) => name in MODULES ? MODULES[name] : notHere(`require("${name}")`),
    process: GLUE_PROCESS,
    dirname: directory.replace(/\/$/, ""),
  };
}
