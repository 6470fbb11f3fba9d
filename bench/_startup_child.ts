/**
 * One cold `deno task classify` for `bench/startup.ts`: imports `<root>/src/cli/classify.ts` (the
 * checkout to measure, given as the first argument) and runs its `main` with `--verbose` and the
 * remaining arguments, then prints one line `startup-child: {json}` on stderr: when this script
 * started and when the import finished (ms since the process started), the performance marks the
 * library set (`mobilenet-edge:*`; an older checkout may set none), the exit code and the CPU
 * time of the process (user + system, all threads).
 *
 * @module
 */
import process from "node:process";

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
const cpu = process.cpuUsage();
console.error(
  `startup-child: ${
    JSON.stringify({
      started,
      imported,
      done,
      code,
      marks,
      cpuMs: (cpu.user + cpu.system) / 1000,
    })
  }`,
);
Deno.exit(code);
