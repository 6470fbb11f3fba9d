/**
 * Peak RSS (VmHWM) of the classify command on the sample photo, for 0.25/224 and 0.75/224 on 1
 * and 2 threads (and int8 for 0.25 on 1 thread, also with the process settings of the systemd unit
 * (`MALLOC_ARENA_MAX=1`, `--v8-flags=--max-semi-space-size=1`) and with those of the `classify`
 * task (its V8 flags read from deno.json), and for 0.75 on 2), the small-board mode, with the
 * `classify:small-board` task's settings (also in int8: issue 19's configuration) and with the
 * unit's. Each row is
 * the median of `--runs` fresh processes (the command reads its own VmHWM with `--verbose`).
 *
 * Run: `deno run -A bench/rss_classify.ts [--runs 5] [--root DIR]` (`--root`: another checkout,
 * e.g. an older commit, to measure "before"; its CLI must know the flags of a row, so rows it
 * rejects print "n/a").
 *
 * @module
 */
import { parseArgs } from "../src/cli/parse_args.ts";
import { median } from "../src/_util.ts";

const args = parseArgs(Deno.args, { string: ["runs", "root"] });
const RUNS = Number(args.runs ?? 5);
const ROOT = args.root
  ? String(args.root).replace(/\/?$/, "/")
  : new URL("../", import.meta.url).pathname;

interface Row {
  name: string;
  flags: string[];
  v8?: string;
  env?: Record<string, string>;
}

/** The V8 flags of `task` in the root's deno.json (what `deno task <task>` runs). */
function taskV8Flags(task: string): string {
  const config = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`));
  const flags = /--v8-flags=(\S+)/.exec(config.tasks?.[task] ?? "")?.[1];
  if (!flags) throw new Error(`no --v8-flags in the ${task} task of ${ROOT}deno.json`);
  return flags;
}

const ROWS: Row[] = [
  { name: "0.25/224, 1 thread", flags: ["--model", "0.25_224", "--threads", "1"] },
  {
    name: "0.25/224, 1 thread, int8",
    flags: ["--model", "0.25_224", "--threads", "1", "--precision", "int8"],
  },
  {
    name: "0.25/224, 1 thread, int8 + unit's process settings",
    flags: ["--model", "0.25_224", "--threads", "1", "--precision", "int8"],
    v8: "--max-semi-space-size=1",
    env: { MALLOC_ARENA_MAX: "1" },
  },
  {
    name: "0.25/224, 1 thread, int8 + classify task's process settings",
    flags: ["--model", "0.25_224", "--threads", "1", "--precision", "int8"],
    v8: taskV8Flags("classify"),
    env: { MALLOC_ARENA_MAX: "1" },
  },
  {
    // classify:small-board --precision int8: 0.25/224, 1 thread, one shard at a time
    name: "classify:small-board --precision int8 (0.25/224, 1 thread, the task's settings)",
    flags: ["--small-board", "--precision", "int8"],
    v8: taskV8Flags("classify:small-board"),
    env: { MALLOC_ARENA_MAX: "1" },
  },
  { name: "0.25/224, 2 threads", flags: ["--model", "0.25_224", "--threads", "2"] },
  { name: "0.75/224, 1 thread", flags: ["--model", "0.75_224", "--threads", "1"] },
  { name: "0.75/224, 2 threads", flags: ["--model", "0.75_224", "--threads", "2"] },
  {
    name: "0.75/224, 2 threads, int8",
    flags: ["--model", "0.75_224", "--threads", "2", "--precision", "int8"],
  },
  { name: "--small-board", flags: ["--small-board"] },
  {
    name: "classify:small-board (the task's settings)",
    flags: ["--small-board"],
    v8: taskV8Flags("classify:small-board"),
    env: { MALLOC_ARENA_MAX: "1" },
  },
  {
    name: "--small-board + unit's process settings",
    flags: ["--small-board"],
    v8: "--max-semi-space-size=1",
    env: { MALLOC_ARENA_MAX: "1" },
  },
];

/** One run's VmHWM in MiB, or undefined when the command failed (e.g. an unknown flag). */
async function peak(row: Row): Promise<number | undefined> {
  const out = await new Deno.Command(Deno.execPath(), {
    // --allow-all only so that the command can read its own VmHWM from /proc; it grants FFI too,
    // so the WASM memories' huge pages are turned off (the rows are comparable across versions).
    args: [
      "run",
      "--allow-all",
      ...(row.v8 ? [`--v8-flags=${row.v8}`] : []),
      `${ROOT}src/cli/classify.ts`,
      "--verbose",
      ...row.flags,
    ],
    env: { MOBILENET_EDGE_HUGE_PAGES: "0", ...row.env },
    stdout: "null",
    stderr: "piped",
  }).output();
  const m = /peak RSS ([\d.]+) MiB/.exec(new TextDecoder().decode(out.stderr));
  return out.success && m ? Number(m[1]) : undefined;
}

console.log(`# peak RSS of classify (sample photo), median of ${RUNS} processes, ${ROOT}\n`);
console.log("| configuration | peak RSS (MiB) | min-max |");
console.log("|---|---:|---:|");
for (const row of ROWS) {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const p = await peak(row);
    if (p === undefined) break;
    samples.push(p);
  }
  const cell = samples.length ? median(samples).toFixed(1) : "n/a";
  const range = samples.length
    ? `${Math.min(...samples).toFixed(1)}-${Math.max(...samples).toFixed(1)}`
    : "-";
  console.log(`| ${row.name} | ${cell} | ${range} |`);
}
