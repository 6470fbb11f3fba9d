import assert from "node:assert/strict";
import process from "node:process";
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import {
  type BackendInfo,
  backendInfo,
  type BackendOptions,
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
    assert.equal(liveWorkerCount(), 0, "no pthread worker outlives shutdownBackend()");
  }
}

/** Sets environment variables for the duration of `fn`. */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, Deno.env.get(k)]));
  for (const [k, v] of Object.entries(vars)) Deno.env.set(k, v);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) Deno.env.delete(k);
      else Deno.env.set(k, v);
    }
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
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

Deno.test("threads: 2 starts the threaded SIMD binary with 2 threads and 1 worker", async () => {
  assert.ok(navigator.hardwareConcurrency >= 2, "this test needs 2 logical cores");
  await withBackend({ threads: 2 }, (info) => {
    assert.equal(info.binary, THREADED);
    assert.equal(info.simd, true);
    assert.equal(info.threads, 2);
    assert.equal(info.maxThreads, 2);
    assert.equal(info.adaptive, false);
    assert.match(info.reason, /threads: 2: threaded SIMD with 2 threads/);
    assert.equal(liveWorkerCount(), 1, "exactly threads - 1 workers, not tfjs' pool of 8");
    assert.equal(tf.getBackend(), "wasm");
    assert.deepEqual(backendInfo(), info);
  });
  assert.equal(backendInfo(), undefined);
});

Deno.test("threads: 1 and MOBILENET_EDGE_THREADS=1 take the single-thread SIMD binary", async () => {
  await withBackend({ threads: 1 }, (info) => {
    assert.equal(info.binary, SIMD);
    assert.equal(info.threads, 1);
    assert.equal(info.maxThreads, 1);
    assert.match(info.reason, /^threads: 1: single thread, no workers/);
    assert.equal(liveWorkerCount(), 0);
  });
  await withEnv({ [THREADS_ENV]: "1" }, () =>
    withBackend({}, (info) => {
      assert.equal(info.binary, SIMD);
      assert.equal(info.threads, 1);
      assert.match(info.reason, new RegExp(`^${THREADS_ENV}=1: single thread, no workers`));
      assert.equal(liveWorkerCount(), 0);
    }));
});

Deno.test("simd: false and MOBILENET_EDGE_SIMD=0 take the plain binary, single thread", async () => {
  await withBackend({ simd: false, threads: 2 }, (info) => {
    assert.equal(info.binary, PLAIN);
    assert.equal(info.simd, false);
    assert.equal(info.threads, 1);
    assert.match(
      info.reason,
      /^SIMD off \(simd: false\); threads: 2 ignored: the threaded binary needs SIMD/,
    );
    assert.equal(liveWorkerCount(), 0);
  });
  await withEnv({ [SIMD_ENV]: "0" }, () =>
    withBackend({}, (info) => {
      assert.equal(info.binary, PLAIN);
      assert.match(info.reason, new RegExp(`^SIMD off \\(${SIMD_ENV}=0\\)`));
    }));
});

Deno.test("a threaded start that fails falls back to single-thread SIMD, reason kept", async () => {
  // 1 ms is too short for a worker to load the module: the threaded start times out.
  await withBackend({ threads: 2, startTimeoutMs: 1 }, (info) => {
    assert.equal(info.binary, SIMD);
    assert.equal(info.threads, 1);
    assert.match(
      info.reason,
      /tfjs-backend-wasm-threaded-simd\.wasm failed \(.*did not start within 1 ms\), falling back to tfjs-backend-wasm-simd\.wasm/,
    );
    assert.equal(liveWorkerCount(), 0, "the workers of the failed start were terminated");
    // The fallback backend computes.
    assert.equal(outputs().length, 10);
  });
});

Deno.test("bad options reject with TypeError/RangeError and start nothing", async () => {
  await assert.rejects(initBackend({ threads: 0 }), {
    name: "RangeError",
    message: 'threads must be an integer from 1 to 8 or "auto", got 0',
  });
  await assert.rejects(initBackend({ threads: "2" as unknown as number }), { name: "TypeError" });
  await assert.rejects(initBackend({ simd: 0 as unknown as boolean }), {
    name: "TypeError",
    message: "simd must be a boolean, got number 0",
  });
  await withEnv({ [THREADS_ENV]: "many" }, async () => {
    await assert.rejects(initBackend(), {
      name: "RangeError",
      message: `${THREADS_ENV} must be an integer from 1 to 8 or "auto", got "many"`,
    });
  });
  assert.equal(backendInfo(), undefined);
  assert.equal(liveWorkerCount(), 0);
});

Deno.test("threaded, single-thread and plain paths compute the same outputs (1e-4)", async () => {
  const threaded = await withBackend({ threads: 2 }, () => outputs());
  const single = await withBackend({ threads: 1 }, () => outputs());
  const plain = await withBackend({ simd: false }, () => outputs());
  assert.ok(threaded.some((v) => v !== 0), "the workload is not trivially zero");
  assert.ok(
    maxAbsDiff(threaded, single) <= 1e-4,
    `threaded vs single ${maxAbsDiff(threaded, single)}`,
  );
  assert.ok(maxAbsDiff(single, plain) <= 1e-4, `single vs plain ${maxAbsDiff(single, plain)}`);
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
      assert.equal(tf.memory().numTensors, before);
    } finally {
      w.dispose();
    }
    assert.equal(tf.memory().numTensors, 0);
  });
});

/** OS threads of this process, read by `cat` (Deno needs --allow-all to read /proc itself). */
async function osThreads(): Promise<number> {
  const { stdout } = await new Deno.Command("cat", { args: [`/proc/${Deno.pid}/status`] })
    .output();
  return Number(/^Threads:\s+(\d+)$/m.exec(new TextDecoder().decode(stdout))![1]);
}

Deno.test("init/shutdown 10 times in one process leaves no live worker", async () => {
  // One cycle first, so that runtime pools (V8, tokio) have started before counting.
  await initBackend({ threads: 2 });
  await shutdownBackend();
  const threadsBefore = await osThreads();
  let started = 0;
  for (let i = 0; i < 10; i++) {
    const info = await initBackend({ threads: 2 });
    assert.equal(info.threads, 2);
    started += liveWorkerCount();
    const w = mobileNetLike();
    w.values();
    w.dispose();
    await shutdownBackend();
    assert.equal(liveWorkerCount(), 0, `after cycle ${i + 1}`);
  }
  assert.equal(started, 10, "one worker per cycle");
  // Each cycle started an OS thread for its worker; a leak would leave up to 10 more.
  const threadsAfter = await osThreads();
  assert.ok(
    threadsAfter <= threadsBefore + 2,
    `OS threads ${threadsBefore} before, ${threadsAfter} after 10 cycles`,
  );
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
      assert.deepEqual(Object.getOwnPropertyDescriptor(globalThis, "Worker"), worker);
      assert.deepEqual(counts(), before);
    });
    await withBackend({ threads: 1 }, () => assert.deepEqual(counts(), before));
    assert.deepEqual(counts(), before);
    assert.ok(process.listeners("unhandledRejection").includes(mine));
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
      assert.equal(info.threads, 1);
      assert.equal(info.maxThreads, 2);
      const onOne = w.values();
      info = await setThreads(2);
      assert.equal(info.threads, 2);
      const again = w.values();
      assert.ok(maxAbsDiff(onTwo, onOne) <= 1e-4);
      assert.deepEqual(again, onTwo);
      assert.deepEqual(changes.map((e) => [e.previous, e.threads]), [[2, 1], [1, 2]]);
      assert.equal(liveWorkerCount(), 1, "switching by pointer starts no worker");
      await assert.rejects(setThreads(3), {
        name: "RangeError",
        message:
          "threads must be an integer from 1 to 2 (the pool of tfjs-backend-wasm-threaded-simd.wasm), got 3",
      });
    } finally {
      off();
      w.dispose();
    }
  });
  await assert.rejects(setThreads(1), { message: /not running/ });
});

Deno.test("auto: calibrated, adaptive, and reportInferenceTime is safe to call", async () => {
  await withBackend({}, (info) => {
    assert.equal(info.binary, THREADED);
    assert.equal(info.maxThreads, Math.min(navigator.hardwareConcurrency, 8));
    assert.equal(info.adaptive, true);
    assert.ok(info.calibration, "calibration ran");
    assert.ok([1, info.maxThreads].includes(info.threads));
    assert.equal(info.calibration.chosen, info.threads);
    assert.match(info.reason, /calibration: 2 threads .* ms, 1 thread .* ms -> [12]; watchdog on/);
    const w = mobileNetLike();
    try {
      for (let i = 0; i < 40; i++) w.run().dispose();
      for (let i = 0; i < 40; i++) timeInference(() => w.run()).dispose();
      const now = backendInfo()!;
      assert.ok([1, 2].includes(now.threads));
      assert.throws(() => reportInferenceTime(-5), { name: "RangeError" });
    } finally {
      w.dispose();
    }
  });
  // Without a backend, reports are ignored.
  reportInferenceTime(10);
});

Deno.test("concurrent initBackend calls share one start; later calls return the running info", async () => {
  try {
    const [a, b] = await Promise.all([initBackend({ threads: 2 }), initBackend({ threads: 1 })]);
    assert.deepEqual(a, b);
    assert.equal(a.threads, 2);
    assert.equal(liveWorkerCount(), 1);
    assert.equal((await initBackend({ simd: false })).binary, THREADED);
  } finally {
    await shutdownBackend();
  }
  await shutdownBackend(); // a second call is harmless
  assert.equal(liveWorkerCount(), 0);
});
