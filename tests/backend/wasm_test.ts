import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStrictEquals,
  assertThrows,
} from "../_assert.ts";
import process from "node:process";
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import {
  type BackendInfo,
  backendInfo,
  type BackendOptions,
  GROW_DELAY_MS,
  initBackend,
  liveWorkerCount,
  onThreadsChange,
  reportInferenceTime,
  setThreads,
  shutdownBackend,
  SIMD_ENV,
  THREADS_ENV,
  type ThreadsChange,
  timeInference,
} from "../../src/backend/wasm.ts";
import { mobileNetLike } from "./_workload.ts";
import { withEnv } from "./_kernels.ts";
import { liveKernelWorkers } from "../../src/backend/pointwise/pool.ts";

const CYCLES_CHILD = new URL("./_cycles_child.ts", import.meta.url);

const THREADED = "tfjs-backend-wasm-threaded-simd.wasm";
const SIMD = "tfjs-backend-wasm-simd.wasm";
const PLAIN = "tfjs-backend-wasm.wasm";

/** Starts the backend with `options`, runs `fn`, and always shuts down (workers exit). */
async function withBackend<T>(
  options: BackendOptions,
  fn: (info: BackendInfo) => T | Promise<T>,
): Promise<T> {
  try {
    return await fn(await initBackend(options));
  } finally {
    await shutdownBackend();
    assertStrictEquals(liveWorkerCount(), 0, "no pthread worker outlives shutdownBackend()");
  }
}

function outputs(): Float32Array {
  const w = mobileNetLike();
  try {
    return w.values();
  } finally {
    w.dispose();
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assertStrictEquals(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** Fewer than 2 logical cores: the tests of the 2-thread default are skipped, with a message. */
const ONE_CORE = navigator.hardwareConcurrency < 2;
if (ONE_CORE) {
  console.warn(
    `wasm_test: ${navigator.hardwareConcurrency} logical core; the tests that need 2 are ignored`,
  );
}

Deno.test({
  name: "threads: 2 starts the threaded SIMD binary with 2 threads and 1 worker",
  ignore: ONE_CORE,
}, async () => {
  await withBackend({ threads: 2 }, (info) => {
    assertStrictEquals(info.binary, THREADED);
    assertStrictEquals(info.simd, true);
    assertStrictEquals(info.threads, 2);
    assertStrictEquals(info.maxThreads, 2);
    assertStrictEquals(info.adaptive, false);
    assertMatch(info.reason, /threads: 2: threaded SIMD with 2 threads/);
    assertStrictEquals(liveWorkerCount(), 1, "exactly threads - 1 workers, not tfjs' pool of 8");
    assertStrictEquals(tf.getBackend(), "wasm");
    assertEquals(backendInfo(), info);
  });
  assertStrictEquals(backendInfo(), undefined);
});

Deno.test("threads: 1 and MOBILENET_EDGE_THREADS=1 take the single-thread SIMD binary", async () => {
  await withBackend({ threads: 1 }, (info) => {
    assertStrictEquals(info.binary, SIMD);
    assertStrictEquals(info.threads, 1);
    assertStrictEquals(info.maxThreads, 1);
    assertMatch(info.reason, /^threads: 1: single thread, no workers/);
    assertStrictEquals(liveWorkerCount(), 0);
  });
  await withEnv({ [THREADS_ENV]: "1" }, () =>
    withBackend({}, (info) => {
      assertStrictEquals(info.binary, SIMD);
      assertStrictEquals(info.threads, 1);
      assertMatch(info.reason, new RegExp(`^${THREADS_ENV}=1: single thread, no workers`));
      assertStrictEquals(liveWorkerCount(), 0);
    }));
});

Deno.test("simd: false and MOBILENET_EDGE_SIMD=0 take the plain binary, single thread", async () => {
  await withBackend({ simd: false, threads: 2 }, (info) => {
    assertStrictEquals(info.binary, PLAIN);
    assertStrictEquals(info.simd, false);
    assertStrictEquals(info.threads, 1);
    assertMatch(
      info.reason,
      /^SIMD off \(simd: false\); threads: 2 ignored: the threaded binary needs SIMD/,
    );
    assertStrictEquals(liveWorkerCount(), 0);
  });
  await withEnv({ [SIMD_ENV]: "0" }, () =>
    withBackend({}, (info) => {
      assertStrictEquals(info.binary, PLAIN);
      assertMatch(info.reason, new RegExp(`^SIMD off \\(${SIMD_ENV}=0\\)`));
    }));
});

Deno.test("a threaded start that fails falls back to single-thread SIMD, reason kept", async () => {
  // 1 ms is too short for a worker to load the module: the threaded start times out.
  await withBackend({ threads: 2, startTimeoutMs: 1 }, (info) => {
    assertStrictEquals(info.binary, SIMD);
    assertStrictEquals(info.threads, 1);
    assertMatch(
      info.reason,
      /tfjs-backend-wasm-threaded-simd\.wasm failed \(.*did not start within 1 ms\), falling back to tfjs-backend-wasm-simd\.wasm/,
    );
    assertStrictEquals(liveWorkerCount(), 0, "the workers of the failed start were terminated");
    // The fallback backend computes.
    assertStrictEquals(outputs().length, 10);
  });
});

Deno.test("bad options reject with TypeError/RangeError and start nothing", async () => {
  await assertRejects(initBackend({ threads: 0 }), {
    name: "RangeError",
    message: 'threads must be an integer from 1 to 8 or "auto", got 0',
  });
  await assertRejects(initBackend({ threads: "2" as unknown as number }), { name: "TypeError" });
  await assertRejects(initBackend({ simd: 0 as unknown as boolean }), {
    name: "TypeError",
    message: "simd must be a boolean, got number 0",
  });
  await withEnv({ [THREADS_ENV]: "many" }, async () => {
    await assertRejects(initBackend(), {
      name: "RangeError",
      message: `${THREADS_ENV} must be an integer from 1 to 8 or "auto", got "many"`,
    });
  });
  assertStrictEquals(backendInfo(), undefined);
  assertStrictEquals(liveWorkerCount(), 0);
});

Deno.test("threaded, single-thread and plain paths compute the same outputs (1e-4)", async () => {
  const threaded = await withBackend({ threads: 2 }, () => outputs());
  const single = await withBackend({ threads: 1 }, () => outputs());
  const plain = await withBackend({ simd: false }, () => outputs());
  assert(threaded.some((v) => v !== 0), "the workload is not trivially zero");
  assert(
    maxAbsDiff(threaded, single) <= 1e-4,
    `threaded vs single ${maxAbsDiff(threaded, single)}`,
  );
  assert(maxAbsDiff(single, plain) <= 1e-4, `single vs plain ${maxAbsDiff(single, plain)}`);
});

Deno.test("200 inferences on 2 threads leave no tensor behind", async () => {
  await withBackend({ threads: 2 }, () => {
    const w = mobileNetLike();
    try {
      w.values();
      const before = tf.memory().numTensors;
      for (let i = 0; i < 200; i++) {
        const y = timeInference(() => w.run());
        y.dispose();
      }
      assertStrictEquals(tf.memory().numTensors, before);
    } finally {
      w.dispose();
    }
    assertStrictEquals(tf.memory().numTensors, 0);
  });
});

Deno.test("init/shutdown 10 times in one process leaves no live worker", async () => {
  // In a child: the OS threads of this process include those of the modules running beside it.
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", CYCLES_CHILD.pathname, "10"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  assertStrictEquals(code, 0, dec.decode(stderr));
  const { before, after, started, live } = JSON.parse(dec.decode(stdout));
  assertStrictEquals(live, 0);
  assertStrictEquals(started, 10, "one worker per cycle");
  // Each cycle started an OS thread for its worker; a leak would leave up to 10 more.
  assert(after <= before + 2, `OS threads ${before} before, ${after} after 10 cycles`);
});

Deno.test("the start restores globalThis.Worker and process listeners", async () => {
  const worker = Object.getOwnPropertyDescriptor(globalThis, "Worker");
  const counts = () => [
    process.listenerCount("uncaughtException"),
    process.listenerCount("unhandledRejection"),
  ];
  // An application's own listener must survive the start and the shutdown (the module's
  // `_dispose` would remove every listener that existed when it was created).
  const mine = () => {};
  process.on("unhandledRejection", mine);
  try {
    const before = counts();
    await withBackend({ threads: 2 }, () => {
      assertEquals(Object.getOwnPropertyDescriptor(globalThis, "Worker"), worker);
      assertEquals(counts(), before);
    });
    await withBackend({ threads: 1 }, () => assertEquals(counts(), before));
    assertEquals(counts(), before);
    assert(process.listeners("unhandledRejection").includes(mine));
  } finally {
    process.off("unhandledRejection", mine);
  }
});

Deno.test("the thread count changes at run time without invalidating tensors", async () => {
  await withBackend({ threads: 2 }, async () => {
    const changes: ThreadsChange[] = [];
    const off = onThreadsChange((e) => changes.push(e));
    const w = mobileNetLike();
    try {
      const onTwo = w.values();
      let info = await setThreads(1);
      assertStrictEquals(info.threads, 1);
      assertStrictEquals(info.maxThreads, 2);
      const onOne = w.values();
      info = await setThreads(2);
      assertStrictEquals(info.threads, 2);
      const again = w.values();
      assert(maxAbsDiff(onTwo, onOne) <= 1e-4);
      assertEquals(again, onTwo);
      assertEquals(changes.map((e) => [e.previous, e.threads]), [[2, 1], [1, 2]]);
      assertStrictEquals(liveWorkerCount(), 1, "switching by pointer starts no worker");
      await assertRejects(setThreads(3), {
        name: "RangeError",
        message:
          "threads must be an integer from 1 to 2 (the pool of tfjs-backend-wasm-threaded-simd.wasm), got 3",
      });
    } finally {
      off();
      w.dispose();
    }
  });
  await assertRejects(setThreads(1), { message: /not running/ });
});

Deno.test({
  name: "auto with calibrate: calibrated at start, adaptive, reportInferenceTime is safe to call",
  ignore: ONE_CORE,
}, async () => {
  await withBackend({ calibrate: true }, (info) => {
    assertStrictEquals(info.binary, THREADED);
    assertStrictEquals(info.maxThreads, Math.min(navigator.hardwareConcurrency, 8));
    assertStrictEquals(info.adaptive, true);
    assert(info.calibration, "calibration ran");
    assert([1, info.maxThreads].includes(info.threads));
    assertStrictEquals(info.calibration.chosen, info.threads);
    assertMatch(info.reason, /calibration: 2 threads .* ms, 1 thread .* ms -> [12]; watchdog on/);
    const w = mobileNetLike();
    try {
      for (let i = 0; i < 40; i++) w.run().dispose();
      for (let i = 0; i < 40; i++) timeInference(() => w.run()).dispose();
      const now = backendInfo()!;
      assert([1, 2].includes(now.threads));
      assertThrows(() => reportInferenceTime(-5), { name: "RangeError" });
    } finally {
      w.dispose();
    }
  });
  // Without a backend, reports are ignored.
  reportInferenceTime(10);
});

/** Resolves with the next thread-count change (bounded wait). */
function nextChange(timeoutMs = 30_000): Promise<ThreadsChange> {
  const { promise, resolve, reject } = Promise.withResolvers<ThreadsChange>();
  const timer = setTimeout(() => reject(new Error("no thread change")), timeoutMs);
  const off = onThreadsChange((change) => resolve(change));
  return promise.finally(() => {
    clearTimeout(timer);
    off();
  });
}

Deno.test({
  name: "auto: 1 thread and no worker until the first inference, then the pool and the watchdog",
  ignore: ONE_CORE,
}, async () => {
  await withBackend({}, async (info) => {
    assertStrictEquals(info.binary, THREADED);
    assertStrictEquals(info.threads, 1);
    assertStrictEquals(info.adaptive, true);
    assertStrictEquals(info.calibration, undefined);
    assertMatch(info.reason, /1 thread until the first inference/);
    assertStrictEquals(liveWorkerCount() + liveKernelWorkers(), 0, "no worker at start");
    const w = mobileNetLike();
    try {
      const grown = nextChange();
      const onOne = timeInference(() => w.values());
      assertStrictEquals(liveWorkerCount() + liveKernelWorkers(), 0, "none right after it");
      const change = await grown;
      assertEquals([change.previous, change.threads], [1, info.maxThreads]);
      const now = backendInfo()!;
      assertStrictEquals(now.threads, info.maxThreads);
      assertMatch(now.reason, /pool of 2 after the first inference; watchdog on/);
      assertStrictEquals(liveWorkerCount(), info.maxThreads - 1);
      if (now.kernels !== "xnnpack") assertStrictEquals(liveKernelWorkers(), info.maxThreads - 1);
      const onPool = timeInference(() => w.values());
      assert(maxAbsDiff(onOne, onPool) <= 1e-4, `pool vs 1 thread ${maxAbsDiff(onOne, onPool)}`);
    } finally {
      w.dispose();
    }
  });
  assertStrictEquals(liveKernelWorkers(), 0);
});

Deno.test({
  name: "auto: a stop right after the first inference, or during the growth, leaves no worker",
  ignore: ONE_CORE,
}, async () => {
  await withBackend({}, () => {
    const w = mobileNetLike();
    timeInference(() => w.values());
    w.dispose();
  }); // shutdownBackend at once: the growth was only scheduled
  assertStrictEquals(liveKernelWorkers(), 0);
  await withBackend({}, async () => {
    const w = mobileNetLike();
    timeInference(() => w.values());
    w.dispose();
    // setThreads starts the growth at once; the stop comes while the workers start
    const switched = setThreads(2).catch((error) => error);
    await shutdownBackend();
    const result = await switched;
    assert(result instanceof Error || result.threads === 2, String(result));
  });
  assertStrictEquals(liveKernelWorkers(), 0);
});

Deno.test({
  name: "auto: setThreads starts the deferred workers at once; 1 cancels them",
  ignore: ONE_CORE,
}, async () => {
  await withBackend({}, async () => {
    let info = await setThreads(2);
    assertStrictEquals(info.threads, 2);
    assertStrictEquals(info.adaptive, false);
    assertStrictEquals(liveWorkerCount(), 1);
    info = await setThreads(1);
    assertStrictEquals(info.threads, 1);
  });
  await withBackend({}, async () => {
    const info = await setThreads(1);
    assertStrictEquals(info.adaptive, false);
    const w = mobileNetLike();
    timeInference(() => w.values());
    w.dispose();
    await new Promise((r) => setTimeout(r, GROW_DELAY_MS + 100));
    assertStrictEquals(liveWorkerCount() + liveKernelWorkers(), 0, "no growth after setThreads(1)");
  });
});

Deno.test("concurrent initBackend calls share one start; later calls return the running info", async () => {
  try {
    const [a, b] = await Promise.all([initBackend({ threads: 2 }), initBackend({ threads: 1 })]);
    assertEquals(a, b);
    assertStrictEquals(a.threads, 2);
    assertStrictEquals(liveWorkerCount(), 1);
    assertStrictEquals((await initBackend({ simd: false })).binary, THREADED);
  } finally {
    await shutdownBackend();
  }
  await shutdownBackend(); // a second call is harmless
  assertStrictEquals(liveWorkerCount(), 0);
});
