/**
 * A CLI-like child process for `exit_test.ts`: starts the backend with the threads given as
 * first argument, runs one inference, prints a line and returns, with or without
 * `shutdownBackend()` (second argument `shutdown`). The process must exit on its own.
 *
 * @module
 */
import { initBackend, liveWorkerCount, shutdownBackend } from "../../src/backend/wasm.ts";
import { mobileNetLike } from "./_workload.ts";

const threads = Number(Deno.args[0] ?? 2);
const info = await initBackend({ threads });
const w = mobileNetLike();
const out = w.values();
w.dispose();
console.log(
  JSON.stringify({
    binary: info.binary,
    threads: info.threads,
    workers: liveWorkerCount(),
    out: out[0],
  }),
);
if (Deno.args[1] === "shutdown") await shutdownBackend();
