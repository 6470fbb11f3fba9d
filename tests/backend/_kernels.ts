/**
 * Test helpers for our pointwise kernels: an environment variable set for the duration of a
 * test, and a backend started with a given kernel choice and thread count.
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import { assert, assertEquals, assertStrictEquals } from "../_assert.ts";
import type { PointwiseKernels } from "../../src/backend/pointwise/install.ts";
import { KERNELS_ENV } from "../../src/backend/flags.ts";
import { overrideEnv } from "../../src/_util.ts";
import { activeKernels } from "../../src/backend/wasm.ts";
import { liveKernelWorkers } from "../../src/backend/pointwise/pool.ts";
import { type BackendInfo, initBackend, shutdownBackend } from "../../src/backend/wasm.ts";

/**
 * Sets environment variables (`undefined`: unset) as the library reads them, for the duration of
 * `fn`, in this test module only (`overrideEnv`: never the process's environment, which the test
 * modules running beside this one share).
 */
export async function withEnv<T>(
  vars: Record<string, string | undefined>,
  fn: () => Promise<T>,
): Promise<T> {
  const restore = Object.entries(vars).map(([name, value]) => overrideEnv(name, value));
  try {
    return await fn();
  } finally {
    for (const undo of restore.reverse()) undo();
  }
}

/** Starts the backend with `kernels` and `threads`, runs `fn`, always shuts down. */
export async function withKernels(
  kernels: string,
  threads: number,
  fn: (info: BackendInfo) => Promise<void> | void,
): Promise<void> {
  await withEnv({ [KERNELS_ENV]: kernels }, async () => {
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

/**
 * Our kernel `name` is registered while our kernels run, gone while XNNPACK's do (`disable()`)
 * with `current()` (the kernels' getter of its name) saying so, back after `enable()`, and gone
 * with the backend.
 */
export async function assertSwapsWithXnnpack(
  name: string,
  current: (kernels: PointwiseKernels) => string | undefined,
  threads = 1,
): Promise<void> {
  await withKernels("relaxed-simd", threads, () => {
    const kernels = activeKernels()!;
    assert(tf.getKernel(name, "wasm") !== undefined);
    kernels.disable();
    assertEquals(tf.getKernel(name, "wasm"), undefined);
    assertEquals(current(kernels), undefined);
    kernels.enable();
    assertStrictEquals(current(kernels), name);
    assert(tf.getKernel(name, "wasm") !== undefined);
  });
  assertEquals(tf.getKernel(name, "wasm"), undefined, "gone with the backend");
}
