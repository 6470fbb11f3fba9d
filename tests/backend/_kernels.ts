/**
 * Test helpers for our pointwise kernels: an environment variable set for the duration of a
 * test, and a backend started with a given kernel choice and thread count.
 *
 * @module
 */
import { assertEquals } from "../_assert.ts";
import { KERNELS_ENV } from "../../src/backend/flags.ts";
import { activeKernels } from "../../src/backend/wasm.ts";
import { liveKernelWorkers } from "../../src/backend/pointwise/pool.ts";
import { type BackendInfo, initBackend, shutdownBackend } from "../../src/backend/wasm.ts";

/** Sets an environment variable for the duration of `fn`. */
export async function withEnv<T>(
  name: string,
  value: string | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  const saved = Deno.env.get(name);
  if (value === undefined) Deno.env.delete(name);
  else Deno.env.set(name, value);
  try {
    return await fn();
  } finally {
    if (saved === undefined) Deno.env.delete(name);
    else Deno.env.set(name, saved);
  }
}

/** Starts the backend with `kernels` and `threads`, runs `fn`, always shuts down. */
export async function withKernels(
  kernels: string,
  threads: number,
  fn: (info: BackendInfo) => Promise<void> | void,
): Promise<void> {
  await withEnv(KERNELS_ENV, kernels, async () => {
    await shutdownBackend();
    try {
      const info = await initBackend({ threads, adaptive: false });
      const kernels = activeKernels();
      await kernels?.ready;
      if (kernels) assertEquals(kernels.workers, threads > 1 ? "ready" : "none");
      await fn(info);
    } finally {
      await shutdownBackend();
    }
  });
  assertEquals(liveKernelWorkers(), 0, "no kernel worker outlives shutdownBackend()");
}
