/**
 * Pinning to cores with `taskset` (util-linux), for the benches that compare one thread with two
 * on this VM, whose two cores often differ in speed for minutes: `scaling_pairs.ts` pins whole
 * processes, `layer_scaling.ts` its calling thread.
 *
 * @module
 */

/** The cores a bench can pin to (0 to n-1), or undefined with one core or without `taskset`. */
export async function pinnableCores(): Promise<number[] | undefined> {
  const cores = navigator.hardwareConcurrency;
  if (cores < 2) return undefined;
  const probe = new Deno.Command("taskset", { args: ["-c", "0", "true"], stdout: "null" });
  const ok = (await probe.output().catch(() => null))?.success;
  return ok ? [...Array(cores).keys()] : undefined;
}

/**
 * Pins the calling thread (not its workers, which keep their own affinity) to `cpus`, a
 * `taskset` list such as `"1"` or `"0,1"`; false when `taskset` failed.
 */
export async function pinCallingThread(cpus: string): Promise<boolean> {
  const command = new Deno.Command("taskset", {
    args: ["-pc", cpus, String(Deno.pid)],
    stdout: "null",
    stderr: "null",
  });
  return (await command.output().catch(() => null))?.success ?? false;
}
