/**
 * RSS of the ingest loop over time, in small-board mode: the ingest CLI, run as the systemd unit
 * runs it (`MOBILENET_EDGE_SMALL_BOARD=1`, `MALLOC_ARENA_MAX=1`,
 * `--v8-flags=--max-semi-space-size=1`), polls a fake camera on loopback (scripts/fake_camera.ts)
 * for `--minutes` (default 10); its VmRSS and VmHWM are read from /proc every `--sample`
 * seconds. Prints a table and whether RSS stayed flat: the last sample at most `--tolerance` MiB
 * (default 5) above the sample taken after the first minute (warm-up).
 *
 * Needs src/cli/ingest.ts (the ingest adapter). Run: `deno run -A bench/rss_soak.ts [--minutes
 * 10] [--every 1s] [--sample 30] [--tolerance 5] [--full]` (`--full`: the default mode instead of
 * small-board, without the process settings).
 *
 * @module
 */
import { parseArgs } from "../src/cli/parse_args.ts";
import { startFakeCamera } from "../scripts/fake_camera.ts";

const args = parseArgs(Deno.args, {
  string: ["minutes", "every", "sample", "tolerance"],
  boolean: ["full"],
});
const MINUTES = Number(args.minutes ?? 10);
const EVERY = String(args.every ?? "1s");
const SAMPLE_S = Number(args.sample ?? 30);
const TOLERANCE = Number(args.tolerance ?? 5);
const ROOT = new URL("../", import.meta.url);
const INGEST = new URL("src/cli/ingest.ts", ROOT);

/** VmRSS and VmHWM of a process in MiB, or undefined once it has gone. */
function memoryOf(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kib = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)![1]);
    return { rss: kib("VmRSS") / 1024, hwm: kib("VmHWM") / 1024 };
  } catch {
    return undefined;
  }
}

try {
  await Deno.stat(INGEST);
} catch {
  console.error(
    "rss_soak: src/cli/ingest.ts does not exist yet (the ingest adapter): nothing to run",
  );
  Deno.exit(2);
}

const camera = await startFakeCamera();
const small = !args.full;
const child = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    ...(small ? ["--v8-flags=--max-semi-space-size=1"] : []),
    "--allow-read",
    "--allow-env",
    `--allow-net=${new URL(camera.url).host}`,
    INGEST.pathname,
    camera.url,
    "--every",
    EVERY,
  ],
  env: small ? { MOBILENET_EDGE_SMALL_BOARD: "1", MALLOC_ARENA_MAX: "1" } : {},
  stdout: "piped",
  stderr: "null",
}).spawn();
let events = 0;
const counting = (async () => {
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    events += chunk.split("\n").filter((l) => l.includes('"predictions"')).length;
  }
})();

console.log(
  `# ingest RSS over ${MINUTES} min (${
    small ? "small-board, unit's process settings" : "default"
  }), a frame every ${EVERY}\n`,
);
console.log("| minute | events | VmRSS (MiB) | VmHWM (MiB) |");
console.log("|---:|---:|---:|---:|");
const started = performance.now();
const samples: { minute: number; rss: number; hwm: number }[] = [];
while (performance.now() - started < MINUTES * 60_000) {
  await new Promise((resolve) => setTimeout(resolve, SAMPLE_S * 1000));
  const m = memoryOf(child.pid);
  if (!m) break;
  const minute = (performance.now() - started) / 60_000;
  samples.push({ minute, ...m });
  console.log(`| ${minute.toFixed(1)} | ${events} | ${m.rss.toFixed(1)} | ${m.hwm.toFixed(1)} |`);
}
child.kill("SIGTERM");
await child.status;
await counting;
await camera.close();

const warm = samples.find((s) => s.minute >= 1) ?? samples[0];
const last = samples.at(-1);
if (!warm || !last) {
  console.log("\nthe ingest process ended early");
  Deno.exit(1);
}
const growth = last.rss - warm.rss;
const flat = growth <= TOLERANCE;
console.log(
  `\n${flat ? "FLAT" : "GROWING"}: VmRSS ${warm.rss.toFixed(1)} MiB after ${
    warm.minute.toFixed(1)
  } min -> ${last.rss.toFixed(1)} MiB at ${last.minute.toFixed(1)} min (${growth >= 0 ? "+" : ""}${
    growth.toFixed(1)
  }); peak ${last.hwm.toFixed(1)} MiB; ${events} events`,
);
Deno.exit(flat ? 0 : 1);
