/**
 * `deno task bench`: the whole performance picture in one run, printed as tables of medians
 * and ratios.
 *
 * 1. Image path: decode + resize into the 224x224x3 input for 640x480, 1280x720, 1920x1080 and
 *    3840x2160 JPEGs and a 640x480 PNG (fast DCT-scaled path vs a full-size decode).
 * 2. Model: `predict` on a preprocessed input for 0.25/224, 0.75/224, 1.0/224 and 1.0/128 with
 *    1 and 2 threads (each thread count in its own process: one backend per process).
 * 3. End to end: 1920x1080 JPEG bytes to top-5 with `classify`, against model-only.
 * 4. Cold start and peak RSS of `deno task classify` on the sample photo, 1 and 2 threads.
 * 5. The cold path phase by phase, for `deno task classify` and `deno task serve`'s first 200
 *    (`bench/startup.ts`; pass `--base REV` to it alone for before and after).
 * 6. 1 against 2 threads per layer type, with each way of sharing a job (`bench/scaling_bench.ts`),
 *    0.75/224's 2 threads against 1 in processes taking turns (`bench/scaling_pairs.ts`) and by
 *    layer type as the model runs them (`bench/layer_scaling.ts`), and our block kernel against
 *    two kernels per depthwise-separable block (`bench/separable_bench.ts`).
 * 7. Our pointwise kernels against XNNPACK's, layer by layer (`bench/pointwise_bench.ts`).
 * 8. Model only against onnxruntime-web and native onnxruntime (`bench/ort_compare.ts`).
 *
 * Run: `deno task bench` (or `deno run -A bench/report.ts [--runs N]`).
 *
 * `deno task bench --quick`: under a minute, for a board owner to run and paste: the board (model,
 * arch, cores, memory), model-only `predict` for 0.25/224, 0.75/224 and 1.0/224 on 1 thread and
 * on all cores (at most 8), end to end (1920x1080 JPEG to top-5) for the two bundled models, and
 * one cold start with peak RSS of `classify` and `classify --small-board`. Each median stops
 * sampling after a time budget, so a slow board still finishes in time.
 *
 * Child processes run `Deno.execPath()`; `MOBILENET_EDGE_BENCH_DENO` replaces it with a command
 * (space-separated), e.g. `qemu-aarch64-static /path/to/arm64/deno` to run the children emulated.
 *
 * @module
 */
import { markdownTable } from "./_table.ts";
import { parseArgs } from "../src/cli/parse_args.ts";
import { median } from "../src/_util.ts";

const ROOT = new URL("../", import.meta.url);
const FIXTURES = new URL("bench/fixtures/", ROOT);
const args = parseArgs(Deno.args, { string: ["runs", "child"], boolean: ["quick"] });
const QUICK = args.quick === true;
const RUNS = Number(args.runs ?? (QUICK ? 10 : 30));
/** Quick mode: stop sampling a median after this long (at least 3 samples are kept). */
const QUICK_BUDGET_MS = 2500;

async function time(fn: () => unknown, runs = RUNS, warmup = QUICK ? 1 : 3): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  const start = performance.now();
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
    if (QUICK && samples.length >= 3 && performance.now() - start > QUICK_BUDGET_MS) break;
  }
  return median(samples);
}

/** The command that runs a child Deno: `MOBILENET_EDGE_BENCH_DENO` or this process's binary. */
function denoCommand(): [string, string[]] {
  const custom = Deno.env.get("MOBILENET_EDGE_BENCH_DENO")?.trim();
  if (!custom) return [Deno.execPath(), []];
  const [command, ...prefix] = custom.split(/\s+/);
  return [command, prefix];
}

/**
 * Section 6: `bench/ort_compare.ts` (ours, onnxruntime-web and native onnxruntime, 1.0/224 and
 * 0.75/224, 1 and 2 threads, three rounds), its table and verdicts printed as they come.
 */
async function ortComparison(): Promise<void> {
  console.log(
    "\n## Model only against onnxruntime-web and native onnxruntime (bench/ort_compare.ts)\n",
  );
  const script = new URL("ort_compare.ts", import.meta.url).pathname;
  const [command, prefix] = denoCommand();
  const { code } = await new Deno.Command(command, {
    args: [...prefix, "run", "-A", script, "--runs", String(Math.max(RUNS, 30))],
    stdout: "inherit",
    stderr: "null",
  }).output();
  if (code !== 0) console.log(`bench/ort_compare.ts failed (exit code ${code})`);
}

/** Runs another bench script of this folder with `args`, its output printed as it comes. */
async function section(script: string, args: string[]): Promise<void> {
  const [command, prefix] = denoCommand();
  const { code } = await new Deno.Command(command, {
    args: [...prefix, "run", "-A", new URL(script, import.meta.url).pathname, ...args],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) console.log(`bench/${script} failed (exit code ${code})`);
}

/** Child mode: model-only and end-to-end medians for one thread count, as JSON on stdout. */
async function child(threads: number): Promise<void> {
  const { backendInfo, createMobileNet, loadMobileNet, randomWeights } = await import("../mod.ts");
  const frame = await Deno.readFile(new URL("frame_1920x1080.jpg", FIXTURES));
  const variants: [string, () => ReturnType<typeof loadMobileNet>][] = [
    ["0.25/224", () => loadMobileNet({ model: "0.25_224", threads })],
    ["0.75/224", () => loadMobileNet({ model: "0.75_224", threads })],
    ["1.0/224", () => createMobileNet(randomWeights({ alpha: 1 }), { alpha: 1, threads })],
    [
      "1.0/128",
      () =>
        createMobileNet(randomWeights({ alpha: 1, resolution: 128 }), {
          alpha: 1,
          resolution: 128,
          threads,
        }),
    ],
  ];
  if (QUICK) variants.pop(); // 1.0/128: not in the quick table
  const endToEnd = QUICK ? ["0.25/224", "0.75/224"] : ["0.75/224", "1.0/224"];
  const model: Record<string, number> = {};
  const e2e: Record<string, number> = {};
  for (const [name, load] of variants) {
    const m = await load();
    const r = m.resolution;
    const input = {
      data: new Float32Array(r * r * 3),
      shape: [1, r, r, 3] as [1, number, number, 3],
    };
    model[name] = await time(() => m.predict(input));
    if (endToEnd.includes(name)) {
      e2e[name] = await time(() => m.classify(frame, { topK: 5 }));
    }
    m.dispose();
  }
  console.log(JSON.stringify({ threads, backend: backendInfo(), model, e2e }));
}

async function runChild(threads: number) {
  const [command, prefix] = denoCommand();
  const out = await new Deno.Command(command, {
    args: [
      ...prefix,
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      "--child",
      String(threads),
      "--runs",
      String(RUNS),
      ...(QUICK ? ["--quick"] : []),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`bench child (threads=${threads}) failed`);
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  return JSON.parse(lines.at(-1)!) as {
    threads: number;
    backend: { binary: string; threads: number; reason: string };
    model: Record<string, number>;
    e2e: Record<string, number>;
  };
}

async function imagePath(): Promise<void> {
  const { decodeImage } = await import("../src/image/decode.ts");
  const { preprocessPixels } = await import("../src/image/preprocess.ts");
  const out = new Float32Array(224 * 224 * 3);
  const rows: (string | number)[][] = [];
  for (
    const file of [
      "frame_640x480.jpg",
      "frame_1280x720.jpg",
      "frame_1920x1080.jpg",
      "frame_3840x2160.jpg",
      "frame_640x480.png",
    ]
  ) {
    const bytes = await Deno.readFile(new URL(file, FIXTURES));
    const fast = await time(async () =>
      preprocessPixels(
        await decodeImage(bytes, { minWidth: 224, minHeight: 224 }),
        224,
        "stretch",
        out,
      )
    );
    const full = await time(
      async () => preprocessPixels(await decodeImage(bytes), 224, "stretch", out),
      Math.min(RUNS, 15),
    );
    rows.push([file, fast, full, `${(full / fast).toFixed(2)}x`]);
  }
  console.log("\n## Image path: bytes -> 224x224x3 input (decode + resize + scale), ms\n");
  console.log(markdownTable(["image", "ours (DCT-scaled)", "full-size decode", "speed-up"], rows));
}

async function coldStart(): Promise<void> {
  const rows: (string | number)[][] = [];
  const configurations: [string, string[]][] = QUICK
    ? [["default (0.75/224, auto)", []], ["--small-board", ["--small-board"]]]
    : [["threads=1", ["--threads", "1"]], ["threads=2", ["--threads", "2"]]];
  const [command, prefix] = denoCommand();
  for (const [name, flags] of configurations) {
    const walls: number[] = [];
    const rss: number[] = [];
    const printed: number[] = [];
    for (let i = 0; i < (QUICK ? 1 : Math.min(RUNS, 7)); i++) {
      const t0 = performance.now();
      const out = await new Deno.Command(command, {
        // --allow-all only so that the command can read its own VmHWM from /proc (getrusage's
        // maxRSS would report this bench's peak, inherited across fork and exec).
        args: [
          ...prefix,
          "run",
          "--allow-all",
          new URL("src/cli/classify.ts", ROOT).pathname,
          "--verbose",
          ...flags,
        ],
        // -A grants FFI as the classify task does; the small-board task has no huge pages
        env: { MOBILENET_EDGE_HUGE_PAGES: flags.includes("--small-board") ? "0" : "" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      walls.push(performance.now() - t0);
      const err = new TextDecoder().decode(out.stderr);
      const m = /printed (\d+) ms after start(?:, peak RSS ([\d.]+) MiB)?/.exec(err);
      if (!out.success || !m) throw new Error(`classify failed:\n${err}`);
      printed.push(Number(m[1]));
      if (m[2]) rss.push(Number(m[2]));
    }
    rows.push([
      name,
      median(walls),
      median(printed),
      rss.length ? median(rss) : "n/a",
    ]);
  }
  console.log(
    QUICK
      ? "\n## Cold start of `deno task classify` (sample photo), one run each\n"
      : "\n## Cold start of `deno task classify` (sample photo, 0.75/224), medians\n",
  );
  console.log(
    markdownTable([
      "configuration",
      "spawn to exit (ms)",
      "start to printed (ms)",
      "peak RSS (MiB)",
    ], rows),
  );
}

/** What this runs on: the board or CPU model, arch, cores and memory, in one line. */
function board(): string {
  const read = (path: string) => {
    try {
      return Deno.readTextFileSync(path).replaceAll("\0", "").trim();
    } catch {
      return "";
    }
  };
  const cpuinfo = read("/proc/cpuinfo");
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.+)$`, "m").exec(cpuinfo)?.[1];
  const model = read("/proc/device-tree/model") || field("Model") || field("model name") ||
    field("Hardware") || "unknown CPU";
  let memory = "";
  try {
    memory = `, ${(Deno.systemMemoryInfo().total / 2 ** 30).toFixed(1)} GiB RAM`;
  } catch {
    // not allowed or not available
  }
  return `${model}; ${Deno.build.os}/${Deno.build.arch}, ${navigator.hardwareConcurrency} cores${memory}`;
}

if (args.child !== undefined) {
  await child(Number(args.child));
} else {
  console.log(
    `# mobilenet-edge bench${
      QUICK ? " --quick" : ""
    } (${RUNS} runs per median, ${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno})`,
  );
  if (QUICK) console.log(`board: ${board()}`);
  else await imagePath();
  const many = Math.min(navigator.hardwareConcurrency, 8);
  const counts = QUICK ? (many > 1 ? [1, many] : [1]) : [1, 2];
  const results: Awaited<ReturnType<typeof runChild>>[] = [];
  for (const threads of counts) results.push(await runChild(threads));
  const last = results.length - 1;
  console.log("\n## Model only: predict on a preprocessed batch of 1, ms\n");
  const names = Object.keys(results[0].model);
  console.log(markdownTable(
    [
      "model",
      ...results.map((r) => `threads=${r.threads} (${r.backend.threads} running)`),
      `1 -> ${results[last].threads} speed-up`,
    ],
    names.map((n) => [
      n,
      ...results.map((r) => r.model[n]),
      `${(results[0].model[n] / results[last].model[n]).toFixed(2)}x`,
    ]),
  ));
  console.log("\n## End to end: 1920x1080 JPEG bytes -> top-5 (classify), ms\n");
  const rows: (string | number)[][] = [];
  for (const r of results) {
    for (const n of Object.keys(r.e2e)) {
      rows.push([
        `${n} threads=${r.threads}`,
        r.e2e[n],
        r.model[n],
        `${(r.e2e[n] / r.model[n]).toFixed(2)}x`,
      ]);
    }
  }
  console.log(markdownTable(["model", "end to end", "model only", "ratio"], rows));
  for (const r of results) {
    console.log(`backend threads=${r.threads}: ${r.backend.binary}; ${r.backend.reason}`);
  }
  await coldStart();
  if (!QUICK) {
    await section("startup.ts", ["--runs", String(Math.min(RUNS, 7))]);
    await section("scaling_bench.ts", ["--rounds", String(Math.min(RUNS, 15))]);
    await section("scaling_pairs.ts", ["--rounds", "15"]);
    await section("layer_scaling.ts", ["--rounds", String(Math.min(RUNS, 20))]);
    await section("separable_bench.ts", ["--rounds", String(Math.min(RUNS, 15))]);
  }
  await (await import("./pointwise_bench.ts")).pointwiseReport(RUNS); // ours vs XNNPACK, 1x1 layers
  if (!QUICK) await ortComparison();
}
