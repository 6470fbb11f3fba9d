/**
 * The capability probes, and the fallback of an edge platform that pretends to have threads
 * (Supabase Edge Functions: `SharedArrayBuffer` aliased to `ArrayBuffer`, shared memory refused).
 */
import {
  assert,
  assertAllClose,
  assertEquals,
  assertMatch,
  assertStrictEquals,
} from "../_assert.ts";
import { logicalCores, probeSimd, probeThreads } from "../../src/backend/probe.ts";
import { emulateEdgeGlobals, SHARED_MEMORY_ERROR } from "./_edge_globals.ts";

Deno.test("Deno has WASM SIMD and threads; logicalCores is the runtime's count", () => {
  assertEquals(probeSimd(), { ok: true, detail: "WASM SIMD validates" });
  assertEquals(probeThreads(), { ok: true, detail: "shared memory and WASM atomics available" });
  assertStrictEquals(logicalCores(), navigator.hardwareConcurrency);
});

Deno.test("the threads probe creates the shared memory rather than trusting the globals", () => {
  const memory = WebAssembly.Memory;
  const shared = SharedArrayBuffer;
  let restore = emulateEdgeGlobals();
  try {
    assertStrictEquals(typeof SharedArrayBuffer, "function", "the alias fools a typeof check");
    const probe = probeThreads();
    assertStrictEquals(probe.ok, false);
    assertStrictEquals(
      probe.detail,
      `cannot create a shared WebAssembly memory: ${SHARED_MEMORY_ERROR}`,
    );
  } finally {
    restore();
  }
  // A runtime that quietly gives an unshared memory for `shared: true` is caught as well.
  restore = emulateEdgeGlobals({ silent: true });
  try {
    assertEquals(probeThreads(), {
      ok: false,
      detail: "a shared WebAssembly memory is not backed by a SharedArrayBuffer",
    });
  } finally {
    restore();
  }
  assertStrictEquals(WebAssembly.Memory, memory);
  assertStrictEquals(SharedArrayBuffer, shared);
  assert(probeThreads().ok, "the real globals are back");
});

const CHILD = new URL("./_edge_child.ts", import.meta.url);
const CONFIG = new URL("../../deno.json", import.meta.url);

Deno.test("without shared memory the backend runs single-thread SIMD, says why, and classifies", async () => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-read",
      "--allow-env",
      "--config",
      CONFIG.pathname,
      CHILD.pathname,
      "auto",
      "2",
    ],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output();
  const text = new TextDecoder();
  assertStrictEquals(code, 0, text.decode(stderr));
  const lines = text.decode(stdout).trim().split("\n").map((line) => JSON.parse(line));
  assertEquals(lines.map((l) => l.threads), ["auto", "2"]);
  for (const line of lines) {
    assertStrictEquals(line.binary, "tfjs-backend-wasm-simd.wasm", line.reason);
    assertStrictEquals(line.simd, true);
    assertStrictEquals(line.active, 1);
    assertStrictEquals(line.maxThreads, 1);
    assertStrictEquals(line.adaptive, false);
    assertStrictEquals(line.workers, 0, "no worker was started");
    // With one logical core, "auto" asks for one thread and never needs the probe.
    if (line.threads === "2" || navigator.hardwareConcurrency > 1) {
      assertMatch(
        line.reason,
        /^threads: (auto, \d+ logical cores|2): threads probe failed \(cannot create a shared WebAssembly memory: Creating a shared memory is not supported\): single thread, no workers/,
      );
    }
    assertEquals([line.top.index, line.top.label], [386, "African elephant"]);
    // The threaded backend's probability (README: 0.70243): the fallback computes the same.
    assertAllClose([line.top.probability], [0.7024], 1e-3, "African elephant probability");
  }
});
