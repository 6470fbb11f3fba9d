/**
 * What makes up the peak RSS of classify: one process goes through the steps of
 * `deno task classify --model 0.25_224 --threads 1 --precision int8` on the sample photo one at a
 * time (Deno with an empty script, Node compatibility, tfjs-core, tfjs-backend-wasm, our modules,
 * the backend's start, the model's load, the first classification) and reads VmRSS, RssAnon and
 * RssFile from `/proc/self/status` after each. Two such processes run, one plain and one with
 * the systemd unit's process settings (`MALLOC_ARENA_MAX=1`, `--v8-flags=--max-semi-space-size=1`; the
 * classify:small-board task adds `--liftoff-only --no-concurrent-recompilation` to them),
 * each `--runs` times; the table gives the medians.
 *
 * RssFile is mostly the pages of the Deno executable itself (file-backed: shared with other Deno
 * processes, and dropped by the kernel under memory pressure); RssAnon is the process's own.
 *
 * Run: deno run -A bench/rss_breakdown.ts [--runs 5] [--model 0.25_224] [--precision int8]
 * (the measuring processes: `--child MODEL PRECISION`)
 *
 * @module
 */
// No static import: the measuring process's first reading is Deno's own, with this file alone.

/** One step's readings, MiB. */
interface Reading {
  step: string;
  rss: number;
  anon: number;
  file: number;
}

function read(step: string): Reading {
  const status = Deno.readTextFileSync("/proc/self/status");
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)![1]) / 1024;
  return { step, rss: kb("VmRSS"), anon: kb("RssAnon"), file: kb("RssFile") + kb("RssShmem") };
}

/** The child: the steps, one JSON line of readings. */
async function child(model: string, precision: "int8" | "float32"): Promise<void> {
  const out = [read("Deno, empty script")];
  await import("node:process");
  out.push(read("Node compatibility (node:process)"));
  await import("npm:@tensorflow/tfjs-core@4.22.0");
  out.push(read("tfjs-core"));
  await import("npm:@tensorflow/tfjs-backend-wasm@4.22.0");
  out.push(read("tfjs-backend-wasm (and tfjs-backend-cpu)"));
  const mod = await import("../mod.ts");
  const { acquireBackend } = await import("../src/backend/lease.ts");
  out.push(read("mobilenet-edge's modules"));
  const lease = await acquireBackend({ threads: 1 });
  out.push(read("backend started, 1 thread (WASM compiled)"));
  const net = await mod.loadMobileNet({ model, threads: 1, precision });
  out.push(read(`${model} loaded (${net.precision})`));
  await net.classifyDetailed(
    await Deno.readFile(new URL("../samples/african_elephant.jpg", import.meta.url)),
  );
  out.push(read("first classification of the sample photo"));
  const status = Deno.readTextFileSync("/proc/self/status");
  const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
  out.push({ step: "peak (VmHWM)", rss: hwm, anon: -1, file: -1 }); // -1: not read
  await net.dispose();
  await lease.release();
  console.log(JSON.stringify(out));
}

async function run(settings: boolean, model: string, precision: string): Promise<Reading[]> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      ...(settings ? ["--v8-flags=--max-semi-space-size=1"] : []),
      new URL(import.meta.url).pathname,
      "--child",
      model,
      precision,
    ],
    // -A grants FFI, which the command measured has not: no huge pages for the WASM memories
    env: { MOBILENET_EDGE_HUGE_PAGES: "0", ...(settings ? { MALLOC_ARENA_MAX: "1" } : {}) },
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!result.success) throw new Error("the measuring process failed");
  return JSON.parse(new TextDecoder().decode(result.stdout).trim().split("\n").at(-1)!);
}

if (Deno.args[0] === "--child") {
  await child(Deno.args[1], Deno.args[2] as "int8" | "float32");
} else {
  const { parseArgs } = await import("../src/cli/parse_args.ts");
  const { median } = await import("../src/_util.ts");
  const { markdownTable } = await import("./_table.ts");
  const args = parseArgs(Deno.args, { string: ["runs", "model", "precision"] });
  const model = (args.model as string | undefined) ?? "0.25_224";
  const precision = (args.precision as string | undefined) ?? "int8";
  const runs = Number(args.runs ?? 5);
  const plain: Reading[][] = [];
  const tuned: Reading[][] = [];
  for (let i = 0; i < runs; i++) { // interleaved
    plain.push(await run(false, model, precision));
    tuned.push(await run(true, model, precision));
  }
  const med = (all: Reading[][], i: number, key: "rss" | "anon" | "file") =>
    median(all.map((r) => r[i][key]));
  const f = (x: number) => (x < 0 ? "" : x.toFixed(1));
  const rows = plain[0].map((r, i) => {
    const before = i ? med(plain, i - 1, "rss") : 0;
    const beforeTuned = i ? med(tuned, i - 1, "rss") : 0;
    const last = i === plain[0].length - 1;
    return [
      r.step,
      f(med(plain, i, "rss")),
      last ? "" : `+${f(med(plain, i, "rss") - before)}`,
      f(med(plain, i, "anon")),
      f(med(plain, i, "file")),
      f(med(tuned, i, "rss")),
      last ? "" : `+${f(med(tuned, i, "rss") - beforeTuned)}`,
      f(med(tuned, i, "anon")),
    ];
  });
  console.log(`# RSS of classify's steps, ${model} ${precision}, 1 thread, median of ${runs}\n`);
  console.log(markdownTable([
    "step",
    "RSS (MiB)",
    "step adds",
    "anon",
    "file",
    "RSS, task settings",
    "step adds",
    "anon",
  ], rows));
}
