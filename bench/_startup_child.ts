/**
 * One cold `deno task classify` for `bench/startup.ts`: imports `<root>/src/cli/classify.ts` (the
 * checkout to measure, given as the first argument) and runs its `main` with `--verbose` and the
 * remaining arguments, then prints one line `startup-child: {json}` on stderr: when this script
 * started and when the import finished (ms since the process started), the performance marks the
 * library set (`mobilenet-edge:*`; an older checkout may set none) and the exit code. The CPU
 * time and peak RSS come from the parent (`/usr/bin/time`); without it, the CPU time is read
 * here from `node:process` once `main` has returned (its import loads Deno's Node layer, which
 * the library's own cold path no longer does, so it is not imported up front).
 *
 * @module
 */

const started = performance.now();
const root = Deno.args[0];
const { main } = await import(new URL("src/cli/classify.ts", root).href);
const imported = performance.now();
const code = await main(["--verbose", ...Deno.args.slice(1)]);
const done = performance.now();
const marks: Record<string, number> = {};
for (const entry of performance.getEntriesByType("mark")) {
  if (!entry.name.startsWith("mobilenet-edge:")) continue;
  marks[entry.name.slice("mobilenet-edge:".length)] ??= entry.startTime;
}
// the parent reads the CPU time with GNU time when it has it (STARTUP_RUSAGE=parent)
let cpuMs: number | undefined;
if (Deno.env.get("STARTUP_RUSAGE") !== "parent") {
  const { default: process } = await import("node:process");
  const cpu = process.cpuUsage();
  cpuMs = (cpu.user + cpu.system) / 1000;
}
console.error(
  `startup-child: ${
    JSON.stringify({
      started,
      imported,
      done,
      code,
      marks,
      cpuMs,
    })
  }`,
);
Deno.exit(code);
