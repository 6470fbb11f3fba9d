/**
 * Wall-clock timing of every kernel the `wasm` backend runs, for the benches that break an
 * inference down by layer (`op_profile.ts`, `layer_scaling.ts`): each registered kernel is
 * re-registered wrapped by a timer (the backend runs kernels synchronously).
 *
 * @module
 */
import * as tf from "../src/vendor/tfjs.js";

/** Wraps every kernel registered for `wasm` so that each call reports its name and duration. */
export function timeKernels(record: (name: string, ms: number) => void): void {
  for (const config of tf.getKernelsForBackend("wasm")) {
    const inner = config.kernelFunc;
    tf.unregisterKernel(config.kernelName, "wasm");
    tf.registerKernel({
      ...config,
      kernelFunc: (args) => {
        const t0 = performance.now();
        const out = inner(args);
        record(config.kernelName, performance.now() - t0);
        return out;
      },
    });
  }
}
