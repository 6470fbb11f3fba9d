/**
 * Creation of one tfjs-backend-wasm emscripten module (threaded SIMD, SIMD or plain), without
 * tfjs' own `init()`: we call the package's emscripten factories ourselves, so we choose the
 * binary, compile it once per process, instantiate it with our imports, and start the pthread
 * pool through the bridge of `pthread_bridge.ts`.
 *
 * The factories are the package's own glue files (`wasm-out/`), vendored in
 * `src/vendor/wasm_glue.js` and given a `require` and `process` of their own
 * (`glue_env.ts`): starting the backend loads neither Deno's CommonJS loader nor its Node layer.
 * The threaded factory assigns `globalThis.Worker`; that is restored as soon as the synchronous
 * call returns. Nothing under `node_modules` is edited.
 *
 * @module
 */
import { adviseHugePages } from "../huge_pages.ts";
import { singleGlue, threadedSimdGlue } from "../vendor/wasm_glue.js";
import type { GlueFactory } from "../vendor/wasm_glue.js";
import type {
  BackendWasmModule,
  WasmFactoryConfig,
} from "npm:@tensorflow/tfjs-backend-wasm@4.22.0/wasm-out/tfjs-backend-wasm.js";
import { glueEnv, wasmOutDirectory } from "./glue_env.ts";
import { PthreadBridge, type PthreadPool } from "./pthread_bridge.ts";
import { errorMessage as message, mark, withTimeout } from "../_util.ts";

/** Which WASM binary of tfjs-backend-wasm is running. */
export type WasmBinary =
  | "tfjs-backend-wasm-threaded-simd.wasm"
  | "tfjs-backend-wasm-simd.wasm"
  | "tfjs-backend-wasm.wasm";

/** The threaded SIMD binary (emscripten pthreads + XNNPACK's pthreadpool). */
export const THREADED_SIMD: WasmBinary = "tfjs-backend-wasm-threaded-simd.wasm";
/** The single-thread SIMD binary. */
export const SIMD: WasmBinary = "tfjs-backend-wasm-simd.wasm";
/** The single-thread binary without SIMD. */
export const PLAIN: WasmBinary = "tfjs-backend-wasm.wasm";

/** The raw C exports of tfjs-backend-wasm's `backend.cc` that this package calls. */
export interface BackendExports {
  /** `init_with_threads_count(n)`: creates a pthreadpool of n threads, makes it the global one. */
  init_with_threads_count(threads: number): void;
  /** `get_threads_count()`: threads of the global pthreadpool. */
  get_threads_count(): number;
  /** emscripten's `stackSave()`: the calling thread's stack pointer. */
  stackSave(): number;
}

/** An emscripten module of tfjs-backend-wasm, ready for `new BackendWasm(module)`. */
export interface LoadedModule {
  /** The module, with tfjs' `tfjs` namespace of C functions. */
  module: BackendWasmModule;
  /** Which binary it runs. */
  binary: WasmBinary;
  /** The module's linear memory (shared for the threaded binary). */
  memory: WebAssembly.Memory;
  /** The raw exports. */
  exports: BackendExports;
  /** emscripten's pthread pool (threaded binary only). */
  pthreads?: PthreadPool;
  /** The pthread bridge (threaded binary only). */
  bridge?: PthreadBridge;
  /** Most threads the module's pthreadpool may get (1 for single-thread binaries). */
  maxThreads: number;
  /** Whether the memory was advised to use transparent huge pages, or why not. */
  hugePages: string;
}

/** Options of {@linkcode loadModule}. */
export interface LoadOptions {
  /** The binary to start. */
  binary: WasmBinary;
  /** For the threaded binary: the largest pool size. */
  maxThreads: number;
  /**
   * For the threaded binary: workers that start at once (the others start when a pool needs
   * them, see `PthreadBridge.prepare`).
   * @default {maxThreads - 1}
   */
  eager?: number;
  /** How long the start may take before it counts as failed. */
  timeoutMs: number;
}

const compiled = new Map<string, Promise<WebAssembly.Module>>();

/** Compiles a binary once per process; a failed compile is not cached. */
function compile(path: string): Promise<WebAssembly.Module> {
  let module = compiled.get(path);
  if (!module) {
    mark("wasm:read-start");
    module = Deno.readFile(path).then((bytes) => {
      mark("wasm:read");
      return WebAssembly.compile(bytes);
    }).then((m) => {
      mark("wasm:compiled");
      return m;
    });
    compiled.set(path, module);
    module.catch(() => compiled.delete(path));
  }
  return module;
}

/** The glue's factories, each made on first use (its glue file runs once per process). */
const factories = new Map<"threaded" | "single", GlueFactory>();

async function glueFactory(kind: "threaded" | "single"): Promise<GlueFactory> {
  let factory = factories.get(kind);
  if (!factory) {
    const directory = await wasmOutDirectory();
    const { require, process, dirname } = glueEnv(directory);
    const [glue, file] = kind === "threaded"
      ? [threadedSimdGlue, "tfjs-backend-wasm-threaded-simd.js"]
      : [singleGlue, "tfjs-backend-wasm.js"];
    factory = glue(require, process, dirname, directory + file);
    factories.set(kind, factory);
  }
  return factory;
}

type Imports = { env: Record<string, unknown> } & WebAssembly.Imports;
type Receive = (instance: WebAssembly.Instance, module: WebAssembly.Module) => void;

type RawExports = Record<string, (...args: number[]) => number>;

/** The `tfjs` namespace of C functions that `BackendWasm` calls, over the raw exports. */
function tfjsNamespace(raw: RawExports): BackendWasmModule["tfjs"] {
  return {
    init: () => void raw.init(),
    initWithThreadsCount: (threads: number) => void raw.init_with_threads_count(threads),
    getThreadsCount: () => raw.get_threads_count(),
    registerTensor: (id: number, size: number, offset: number) =>
      void raw.register_tensor(id, size, offset),
    disposeData: (id: number) => void raw.dispose_data(id),
    // The raw export: the module's `_dispose` wrapper also edits the listeners of the glue's
    // `process` (glue_env.ts), which hold nothing.
    dispose: () => void raw.dispose(),
  };
}

/**
 * Creates and starts one tfjs-backend-wasm module.
 *
 * For the threaded binary, `emscripten_num_logical_cores` (which tfjs halves to cap the pool,
 * giving 1 thread on a 2-core machine) answers `2 * maxThreads`, so `init_with_threads_count`
 * may create pools of up to `maxThreads` threads.
 *
 * @throws {Error} when the binary cannot be read or compiled, the module aborts, a worker fails
 * to start or load, or the start takes longer than `timeoutMs`. Workers started so far are
 * terminated before it rejects.
 */
export async function loadModule(options: LoadOptions): Promise<LoadedModule> {
  const { binary, maxThreads, timeoutMs } = options;
  const threaded = binary === THREADED_SIMD;
  const eager = options.eager ?? maxThreads - 1;
  const bridge = threaded ? new PthreadBridge({ eager, timeoutMs }) : undefined;
  // eager workers start in the factory call; with none, node:worker_threads waits for a worker
  if (bridge && eager > 0) await bridge.loadWorkerClass();
  const { promise: failed, reject: fail } = Promise.withResolvers<never>();
  failed.catch(() => {});
  let memory: WebAssembly.Memory | undefined;
  let hugePages = "off: not started";
  let instance: WebAssembly.Instance | undefined;
  let directory = "";
  const config: WasmFactoryConfig & Record<string, unknown> = {
    locateFile(path: string, prefix: string): string {
      directory = prefix;
      if (threaded) config.mainScriptUrlOrBlob = prefix + "tfjs-backend-wasm-threaded-simd.js";
      return prefix + (path.endsWith(".wasm") ? binary : path);
    },
    instantiateWasm(imports: Imports, receive: Receive): Record<string, never> {
      if (threaded) imports.env.emscripten_num_logical_cores = () => 2 * maxThreads;
      compile(directory + binary)
        .then(async (compiledModule) => {
          instance = await WebAssembly.instantiate(compiledModule, imports);
          mark("wasm:instantiated");
          memory = (threaded ? imports.env.memory : instance.exports.memory) as WebAssembly.Memory;
          // before the runtime starts: its heap's pages come in 2 MiB at a time from the first
          hugePages = adviseHugePages(memory);
          receive(instance, compiledModule);
        })
        .catch((error) => fail(new Error(`cannot start ${binary}: ${message(error)}`)));
      return {};
    },
    onAbort(what: string): void {
      fail(new Error(`${binary} aborted: ${what}`));
    },
  };
  try {
    const factory = await glueFactory(threaded ? "threaded" : "single");
    const ready = bridge ? bridge.intercept(() => factory(config)) : factory(config);
    ready.catch(() => {});
    const racers: Promise<BackendWasmModule>[] = [ready, failed];
    if (bridge) racers.push(bridge.failed);
    const module = await withTimeout(
      Promise.race(racers),
      timeoutMs,
      () => new Error(`${binary} did not start within ${timeoutMs} ms`),
    );
    mark("wasm:module-ready");
    const raw = instance!.exports as RawExports;
    module.tfjs = tfjsNamespace(raw);
    const pthreads = (module as unknown as { PThread?: PthreadPool }).PThread;
    return {
      module,
      binary,
      memory: memory!,
      exports: raw as unknown as BackendExports,
      pthreads,
      bridge,
      maxThreads: threaded ? maxThreads : 1,
      hugePages,
    };
  } catch (error) {
    await bridge?.terminate();
    throw error;
  }
}
