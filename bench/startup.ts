/**
 * Startup timeline of the cold path, before and after, from one run:
 *
 * 1. A cold `deno task classify` of the sample photo (0.75/224, threads auto unless `--threads`),
 *    in fresh processes: the task itself, spawn to exit (the measure), then an
 *    instrumented run with the task's environment and V8 flags (read from the checkout's
 *    `deno.json`): when the module graph was loaded, the model was ready, the results were
 *    printed and the process exited (ms since the process started; exit is spawn to exit, wall),
 *    the process's CPU time, and each performance mark the library sets (`mobilenet-edge:*`,
 *    phase by phase: backend, WASM compile, kernels, manifest, weights; the first image
 *    decoded, preprocessed and classified).
 * 2. `deno task serve` (`sh edge/serve.sh`, its least-privilege flags): process spawn to the
 *    port accepting connections, and to the first 200 of `POST /v1/classify` (sent as soon as the
 *    port accepts, it waits for the model).
 *
 * "Before" is another checkout given with `--base` (a directory, or a git revision that is then
 * checked out with `git worktree add --detach` under the temporary directory, once). Runs of
 * the two checkouts alternate (ABBA...), so a machine that drifts affects both alike; medians are
 * printed with the ratio after/before. The load average is printed with every table: on a busy
 * machine, compare the ratios, not the absolute times.
 *
 * Run: `deno run -A bench/startup.ts [--base 22bdb70] [--runs 5] [--threads auto|1|2]
 * [--model 0.75_224] [--no-serve]`
 *
 * @module
 */
import { parseArgs } from "../src/cli/parse_args.ts";
import { median } from "../src/_util.ts";
import { markdownTable } from "./_table.ts";

const args = parseArgs(Deno.args, {
  string: ["base", "runs", "threads", "model"],
  boolean: ["no-serve"],
});
const RUNS = Number(args.runs ?? 5);
const HERE = new URL("../", import.meta.url).pathname;
const CHILD = new URL("_startup_child.ts", import.meta.url).pathname;
const PHOTO = new URL("../samples/african_elephant.jpg", import.meta.url);

/** Flags passed on to classify. */
function classifyFlags(): string[] {
  const flags: string[] = [];
  if (args.threads !== undefined) flags.push("--threads", String(args.threads));
  if (args.model !== undefined) flags.push("--model", String(args.model));
  return flags;
}

function loadAverage(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  } catch {
    return "n/a";
  }
}

/** A checkout's directory: `--base` as a directory, or a worktree of that revision. */
async function baseRoot(base: string): Promise<string> {
  try {
    if (Deno.statSync(base).isDirectory) return base.replace(/\/?$/, "/");
  } catch { /* not a directory: a revision */ }
  const dir = `${Deno.env.get("TMPDIR") ?? "/tmp"}/mobilenet-edge-base-${base}/`;
  try {
    Deno.statSync(dir);
  } catch {
    const out = await new Deno.Command("git", {
      args: ["worktree", "add", "--detach", dir, base],
      cwd: HERE,
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  }
  return dir;
}

/** One cold classify: ms since the process started, per phase, and its CPU time. */
interface ClassifyRun {
  imported: number;
  loaded: number;
  printed: number;
  exit: number;
  cpuMs: number;
  backendMs: number;
  rssMiB: number;
  marks: Record<string, number>;
  threads: string;
}

/**
 * What a checkout's `classify` task sets: its leading `NAME=value` environment, its
 * `--v8-flags=...` and its permissions (`--allow-*`), so the instrumented child runs as the task
 * does (`--allow-ffi`, for one, turns huge pages on).
 */
function taskSettings(root: string): { env: Record<string, string>; flags: string[] } {
  const config = JSON.parse(Deno.readTextFileSync(`${root}deno.json`));
  const words = String(config.tasks?.classify ?? "").split(/\s+/);
  const env: Record<string, string> = {};
  for (const word of words) {
    const assignment = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(word);
    if (!assignment) break;
    env[assignment[1]] = assignment[2];
  }
  return { env, flags: words.filter((w) => /^--(v8-flags=|allow-)/.test(w)) };
}

/** One cold `deno task classify` as users run it, spawn to exit (wall), output discarded. */
async function taskClassify(root: string): Promise<number> {
  const t0 = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "classify", ...classifyFlags()],
    cwd: root,
    stdout: "null",
    stderr: "null",
  }).output();
  if (!out.success) throw new Error(`deno task classify in ${root} failed`);
  return performance.now() - t0;
}

/** GNU time, which reports a child's CPU time and peak RSS; undefined where it is missing. */
const GNU_TIME = (() => {
  try {
    return Deno.statSync("/usr/bin/time").isFile ? "/usr/bin/time" : undefined;
  } catch {
    return undefined;
  }
})();

/** CPU ms and peak RSS MiB of the child, from GNU time's line, when it ran under it. */
function rusage(err: string): { cpuMs: number; rssMiB: number } | undefined {
  const line = /^startup-rusage: ([\d.]+) ([\d.]+) (\d+)$/m.exec(err);
  if (!line) return undefined;
  return { cpuMs: (Number(line[1]) + Number(line[2])) * 1000, rssMiB: Number(line[3]) / 1024 };
}

async function coldClassify(root: string): Promise<ClassifyRun> {
  const { env, flags } = taskSettings(root);
  const run = [Deno.execPath(), "run", ...flags, CHILD, `file://${root}`, ...classifyFlags()];
  const command = GNU_TIME ? [GNU_TIME, "-f", "startup-rusage: %U %S %M", ...run] : run;
  const t0 = performance.now();
  const out = await new Deno.Command(command[0], {
    args: command.slice(1),
    cwd: root,
    env: GNU_TIME ? { ...env, STARTUP_RUSAGE: "parent" } : env,
    stdout: "null",
    stderr: "piped",
  }).output();
  const exit = performance.now() - t0;
  const err = new TextDecoder().decode(out.stderr);
  const usage = rusage(err);
  const child = /startup-child: (.*)/.exec(err);
  const loaded = /loaded in (\d+) ms/.exec(err);
  const printed = /printed (\d+) ms after start(?:, peak RSS ([\d.]+) MiB)?/.exec(err);
  const backend = /^backend: (.*)$/m.exec(err);
  if (!out.success || !child || !loaded || !printed || !backend) {
    throw new Error(`classify in ${root} failed:\n${err}`);
  }
  const c = JSON.parse(child[1]);
  const info = JSON.parse(backend[1]);
  return {
    imported: c.imported,
    loaded: c.imported + Number(loaded[1]),
    printed: Number(printed[1]),
    exit,
    cpuMs: usage?.cpuMs ?? c.cpuMs,
    backendMs: info.startupMs,
    rssMiB: usage?.rssMiB ?? Number(printed[2] ?? NaN),
    marks: c.marks,
    threads: `${info.threads}/${info.maxThreads}`,
  };
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** One cold `sh edge/serve.sh`: spawn to listening, and to the first 200 of a classify. */
async function coldServe(root: string): Promise<{ listening: number; first200: number }> {
  const port = freePort();
  const photo = await Deno.readFile(PHOTO);
  const t0 = performance.now();
  const child = new Deno.Command("sh", {
    args: ["edge/serve.sh"],
    cwd: root,
    env: { PORT: String(port), HOST: "127.0.0.1", NO_COLOR: "1" },
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    let listening = NaN;
    for (let i = 0; i < 6000 && Number.isNaN(listening); i++) {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port })).close();
        listening = performance.now() - t0;
      } catch {
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    for (let i = 0; i < 50; i++) {
      const response = await fetch(`http://127.0.0.1:${port}/v1/classify`, {
        method: "POST",
        body: photo,
        headers: { "content-type": "image/jpeg" },
      });
      await response.body?.cancel();
      if (response.status === 200) return { listening, first200: performance.now() - t0 };
    }
    throw new Error(`serve in ${root}: no 200`);
  } finally {
    child.kill("SIGTERM");
    await child.status;
  }
}

/** Runs `measure` on each root, alternating the order (ABBA), `RUNS` times each. */
async function alternate<T>(roots: string[], measure: (root: string) => Promise<T>) {
  const results = roots.map(() => [] as T[]);
  for (let run = 0; run < RUNS; run++) {
    const order = run % 2 ? [...roots.keys()].reverse() : [...roots.keys()];
    for (const i of order) results[i].push(await measure(roots[i]));
  }
  return results;
}

function ratioCell(values: number[]): string {
  return values.length === 2 ? `${(values[1] / values[0]).toFixed(2)}x` : "";
}

async function classifySection(roots: string[], names: string[]): Promise<void> {
  const before = loadAverage();
  const runs = await alternate(roots, coldClassify);
  const tasks = await alternate(roots, taskClassify);
  const phases: [string, (r: ClassifyRun) => number][] = [
    ["module graph loaded", (r) => r.imported],
    ["model ready (loadMobileNet resolved)", (r) => r.loaded],
    ["results printed", (r) => r.printed],
    ["process exit (spawn to exit, wall)", (r) => r.exit],
    ["CPU time of the process", (r) => r.cpuMs],
    ["backend start (startupMs, a duration)", (r) => r.backendMs],
    ["peak RSS (MiB)", (r) => r.rssMiB],
  ];
  const rows = phases.map(([name, get]) => {
    const values = runs.map((list) => median(list.map(get)));
    return [name, ...values, ratioCell(values)];
  });
  const taskValues = tasks.map((list) => median(list));
  rows.unshift([
    "`deno task classify`, spawn to exit (wall)",
    ...taskValues,
    ratioCell(taskValues),
  ]);
  const threads = runs.map((list) => list.at(-1)!.threads).join(" / ");
  console.log(
    `\n## Cold \`deno task classify\` of the sample photo ${classifyFlags().join(" ")}` +
      `\n\nms since the process started, median of ${RUNS} alternating runs; threads ` +
      `active/max: ${threads}; load average ${before} -> ${loadAverage()}\n`,
  );
  console.log(markdownTable(["phase", ...names, roots.length === 2 ? "after/before" : ""], rows));
  const marks = new Set(runs.flatMap((list) => list.flatMap((r) => Object.keys(r.marks))));
  if (marks.size === 0) return;
  const markRows = [...marks].map((name) => {
    const values = runs.map((list) => {
      const times = list.map((r) => r.marks[name]).filter((t) => t !== undefined);
      return times.length ? median(times) : NaN;
    });
    return [name, ...values.map((v) => (Number.isNaN(v) ? "-" : v))];
  }).sort((a, b) => Number(a.at(-1)) - Number(b.at(-1)));
  console.log("\nTimeline (performance marks, median ms since the process started):\n");
  console.log(markdownTable(["mark", ...names], markRows));
}

async function serveSection(roots: string[], names: string[]): Promise<void> {
  const before = loadAverage();
  const runs = await alternate(roots, coldServe);
  const rows = (["listening", "first200"] as const).map((key) => {
    const values = runs.map((list) => median(list.map((r) => r[key])));
    return [
      key === "listening" ? "spawn to port accepting" : "spawn to first 200 classify",
      ...values,
      ratioCell(values),
    ];
  });
  console.log(
    `\n## Cold \`deno task serve\` (0.75/224, default settings)\n\nms, median of ${RUNS} ` +
      `alternating runs; load average ${before} -> ${loadAverage()}\n`,
  );
  console.log(markdownTable(["phase", ...names, roots.length === 2 ? "after/before" : ""], rows));
}

const roots = args.base ? [await baseRoot(String(args.base)), HERE] : [HERE];
const names = args.base ? [`before (${args.base})`, "after (this checkout)"] : ["this checkout"];
console.log(`# Startup bench (${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno})`);
await classifySection(roots, names);
if (!args["no-serve"]) await serveSection(roots, names);
