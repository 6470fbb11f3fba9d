/**
 * `ThreadPools` on a fake module: a real `WebAssembly.Memory` laid out as emscripten does
 * (static data below the stack top, pool structs in the heap above it) and fake C exports that
 * behave like tfjs-backend-wasm's `init_with_threads_count` / `get_threads_count`, so locating
 * the pool pointer, switching by pointer, and the fallbacks run in microseconds, without tfjs.
 * The real module is covered by `wasm_test.ts` ("the thread count changes at run time").
 */
import { assertEquals, assertRejects, assertStrictEquals } from "../_assert.ts";
import type { LoadedModule } from "../../src/backend/emscripten_module.ts";
import type { PthreadBridge, PthreadPool } from "../../src/backend/pthread_bridge.ts";
import { ThreadPools } from "../../src/backend/pools.ts";

/** Bytes below the stack top: emscripten's static data, where the C globals live. */
const STACK_TOP = 1024;
/** `tfjs::backend::threadpool`, the global that holds the active pool's pointer. */
const GLOBAL = 64;
/** Two more globals that change with every new pool but that `get_threads_count` ignores. */
const COUNTER = 80;
const LAST_CREATED = 84;
/** Where the fake allocates pool structs (the heap). */
const HEAP_START = 4096;

interface FakeOptions {
  /** The pool size the backend was initialised with. */
  initial: number;
  /** Most threads a pool may have. */
  maxThreads: number;
  /** Idle pthread slots left; `prepare` throws a RangeError beyond them. */
  idleSlots?: number;
  /** An error `prepare` throws instead. */
  prepareError?: Error;
  /** Put the global above the stack top, where the diff cannot see it. */
  hideGlobal?: boolean;
  /** `init_with_threads_count` clamps pools to this size (a broken module). */
  clampTo?: number;
  /** A module without a pthread bridge (the single-thread binaries). */
  noBridge?: boolean;
}

/** A fake threaded module and the calls made to it. */
function fakeModule(options: FakeOptions) {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const heap = () => new Int32Array(memory.buffer);
  const global = options.hideGlobal ? HEAP_START - 4 : GLOBAL;
  let next = HEAP_START;
  const inits: number[] = [];
  const prepares: number[] = [];
  const exports = {
    init_with_threads_count(threads: number): void {
      inits.push(threads);
      const pool = next;
      next += 16;
      heap()[pool >> 2] = Math.min(threads, options.clampTo ?? Infinity);
      heap()[global >> 2] = pool;
      heap()[COUNTER >> 2]++;
      heap()[LAST_CREATED >> 2] = pool;
    },
    get_threads_count: (): number => heap()[heap()[global >> 2] >> 2],
    stackSave: (): number => STACK_TOP,
  };
  exports.init_with_threads_count(options.initial);
  inits.length = 0;
  const pthreads: PthreadPool = { unusedWorkers: [] };
  let idle = options.idleSlots ?? 8;
  const bridge = {
    prepare(_pool: PthreadPool, count: number): Promise<void> {
      prepares.push(count);
      if (options.prepareError) return Promise.reject(options.prepareError);
      if (count > idle) {
        return Promise.reject(new RangeError(`only ${idle} idle pthread slots, ${count} needed`));
      }
      idle -= count;
      return Promise.resolve();
    },
  } as unknown as PthreadBridge;
  const loaded = {
    module: {},
    binary: "tfjs-backend-wasm-threaded-simd.wasm",
    memory,
    exports,
    pthreads: options.noBridge ? undefined : pthreads,
    bridge: options.noBridge ? undefined : bridge,
    maxThreads: options.maxThreads,
  } as unknown as LoadedModule;
  return { loaded, inits, prepares };
}

Deno.test("the pool pointer is located around the 1-thread pool, then pools switch by pointer", async () => {
  const { loaded, inits, prepares } = fakeModule({ initial: 4, maxThreads: 4 });
  const pools = new ThreadPools(loaded);
  assertStrictEquals(pools.active, 4);
  assertStrictEquals(pools.maxThreads, 4);
  assertStrictEquals(pools.located, false);
  assertStrictEquals(await pools.use(1), true);
  assertStrictEquals(pools.located, true, "one word of the static data passes the check");
  assertStrictEquals(pools.active, 1);
  assertEquals(inits, [1], "a 1-thread pool was created (it starts no thread)");
  // The pool that existed before (4) was recorded: switching back creates nothing.
  assertStrictEquals(pools.useExisting(4), true);
  assertStrictEquals(pools.active, 4);
  assertStrictEquals(pools.useExisting(1), true);
  assertStrictEquals(pools.active, 1);
  assertStrictEquals(await pools.use(4), true);
  assertEquals(inits, [1], "no pool was created for a count that has one");
  assertEquals(prepares, [], "no worker was asked for");
  // A count without a pool: useExisting says no, use() creates it (and its workers).
  assertStrictEquals(pools.useExisting(2), false);
  assertStrictEquals(pools.active, 4);
  assertStrictEquals(await pools.use(2), true);
  assertStrictEquals(pools.active, 2);
  assertEquals(inits, [1, 2]);
  assertEquals(prepares, [1], "threads - 1 workers");
  assertStrictEquals(pools.useExisting(1), true);
  assertStrictEquals(pools.useExisting(2), true, "the new pool is switchable by pointer too");
  assertStrictEquals(pools.useExisting(4), true);
  assertEquals(inits, [1, 2]);
});

Deno.test("use() checks the thread count", async () => {
  const pools = new ThreadPools(fakeModule({ initial: 2, maxThreads: 2 }).loaded);
  for (const bad of [0, 3, 1.5, NaN]) {
    await assertRejects(() => pools.use(bad), {
      name: "RangeError",
      message: `threads must be an integer from 1 to 2, got ${bad}`,
    });
  }
  assertStrictEquals(pools.active, 2);
});

Deno.test("without the pointer, use() switches by creating pools", async () => {
  const { loaded, inits, prepares } = fakeModule({ initial: 2, maxThreads: 2, hideGlobal: true });
  const pools = new ThreadPools(loaded);
  assertStrictEquals(await pools.use(1), true);
  assertStrictEquals(pools.located, false, "the diff of the static data did not find it");
  assertStrictEquals(pools.active, 1);
  assertStrictEquals(pools.useExisting(2), false, "no switch by pointer");
  assertStrictEquals(pools.useExisting(1), true, "the active count needs no switch");
  assertStrictEquals(await pools.use(2), true);
  assertStrictEquals(pools.active, 2);
  assertEquals(inits, [1, 2]);
  assertEquals(prepares, [1]);
});

Deno.test("no idle pthread slot: use() says false; other failures reject", async () => {
  const full = fakeModule({ initial: 1, maxThreads: 4, idleSlots: 1 });
  const pools = new ThreadPools(full.loaded);
  assertStrictEquals(await pools.use(4), false, "3 workers needed, 1 idle slot");
  assertStrictEquals(pools.active, 1);
  assertEquals(full.inits, [], "no pool was created");
  assertStrictEquals(await pools.use(2), true);
  assertStrictEquals(pools.active, 2);

  const single = new ThreadPools(fakeModule({ initial: 1, maxThreads: 2, noBridge: true }).loaded);
  assertStrictEquals(await single.use(2), false, "no bridge: no thread can start");
  assertStrictEquals(await single.use(1), true);

  const failing = fakeModule({ initial: 1, maxThreads: 2, prepareError: new Error("worker died") });
  await assertRejects(() => new ThreadPools(failing.loaded).use(2), Error, "worker died");

  const clamped = fakeModule({ initial: 1, maxThreads: 4, clampTo: 2 });
  await assertRejects(
    () => new ThreadPools(clamped.loaded).use(4),
    { message: "init_with_threads_count(4) gave 2 threads" },
  );
  assertEquals(clamped.prepares, [3]);
});
