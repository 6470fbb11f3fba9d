/**
 * A child process for `wasm_test.ts`: starts and stops the backend (2 threads, one inference)
 * one time, counts the process's OS threads, does it `Deno.args[0]` more times (10 by default),
 * and prints `{before, after, started, live}` as JSON. In a process of its own, the count sees
 * no thread of the test modules that `deno test --parallel` runs beside it.
 *
 * @module
 */
import { initBackend, liveWorkerCount, shutdownBackend } from "../../src/backend/wasm.ts";
import { mobileNetLike } from "./_workload.ts";

/** Threads of this process, from /proc (Deno wants --allow-all to read it). */
async function osThreads(): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${Deno.pid}/status`);
  return Number(/^Threads:\s+(\d+)$/m.exec(status)![1]);
}

async function cycle(): Promise<number> {
  const info = await initBackend({ threads: 2 });
  const workers = liveWorkerCount();
  const w = mobileNetLike();
  w.values();
  w.dispose();
  await shutdownBackend();
  if (liveWorkerCount() !== 0) throw new Error("a worker outlived shutdownBackend");
  return info.threads === 2 ? workers : -1;
}

// One cycle first, so that runtime pools (V8, tokio) have started before counting.
await cycle();
const before = await osThreads();
let started = 0;
const cycles = Number(Deno.args[0] ?? 10);
for (let i = 0; i < cycles; i++) started += await cycle();
// A worker's thread may still be on its way out right after shutdown.
await new Promise((resolve) => setTimeout(resolve, 200));
console.log(JSON.stringify({ before, after: await osThreads(), started, live: liveWorkerCount() }));
