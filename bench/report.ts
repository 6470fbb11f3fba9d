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
 *
 * Run: `deno task bench` (or `deno run -A bench/report.ts [--runs N]`).
 *
 * @module
 */
import { parseArgs } from "../src/cli/parse_args.ts";
import { median } from "../src/_util.ts";

const ROOT = new URL("../", import.meta.url);
const FIXTURES = new URL("bench/fixtures/", ROOT);
const args = parseArgs(Deno.args, { string: ["runs", "child"], boolean: ["quick"] });
const RUNS = Number(args.runs ?? (args.quick ? 10 : 30));

async function time(fn: () => unknown, runs = RUNS, warmup = 3): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return median(samples);
}

function table(headers: string[], rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === "number" ? c.toFixed(1) : c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const line = (r: string[]) =>
    `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ")} |`;
  return [line(headers), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...cells.map(line)]
    .join("\n");
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
    if (name === "0.75/224" || name === "1.0/224") {
      e2e[name] = await time(() => m.classify(frame, { topK: 5 }));
    }
    m.dispose();
  }
  console.log(JSON.stringify({ threads, backend: backendInfo(), model, e2e }));
}

async function runChild(threads: number) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      "--child",
      String(threads),
      "--runs",
      String(RUNS),
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
  console.log(table(["image", "ours (DCT-scaled)", "full-size decode", "speed-up"], rows));
}

async function coldStart(): Promise<void> {
  const rows: (string | number)[][] = [];
  for (const threads of [1, 2]) {
    const walls: number[] = [];
    const rss: number[] = [];
    const printed: number[] = [];
    for (let i = 0; i < Math.min(RUNS, 7); i++) {
      const t0 = performance.now();
      const out = await new Deno.Command(Deno.execPath(), {
        // --allow-all only so that the command can read its own VmHWM from /proc (getrusage's
        // maxRSS would report this bench's peak, inherited across fork and exec).
        args: [
          "run",
          "--allow-all",
          new URL("src/cli/classify.ts", ROOT).pathname,
          "--verbose",
          "--threads",
          String(threads),
        ],
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
      `threads=${threads}`,
      median(walls),
      median(printed),
      rss.length ? median(rss) : "n/a",
    ]);
  }
  console.log("\n## Cold start of `deno task classify` (sample photo, 0.75/224), medians\n");
  console.log(
    table(["configuration", "spawn to exit (ms)", "start to printed (ms)", "peak RSS (MiB)"], rows),
  );
}

if (args.child !== undefined) {
  await child(Number(args.child));
} else {
  console.log(
    `# mobilenet-edge bench (${RUNS} runs per median, ${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno})`,
  );
  await imagePath();
  const results = [await runChild(1), await runChild(2)];
  console.log("\n## Model only: predict on a preprocessed batch of 1, ms\n");
  const names = Object.keys(results[0].model);
  console.log(table(
    [
      "model",
      ...results.map((r) => `threads=${r.threads} (${r.backend.threads} running)`),
      "1 -> 2 speed-up",
    ],
    names.map((n) => [
      n,
      ...results.map((r) => r.model[n]),
      `${(results[0].model[n] / results[1].model[n]).toFixed(2)}x`,
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
  console.log(table(["model", "end to end", "model only", "ratio"], rows));
  for (const r of results) {
    console.log(`backend threads=${r.threads}: ${r.backend.binary}; ${r.backend.reason}`);
  }
  await coldStart();
  await (await import("./pointwise_bench.ts")).pointwiseReport(RUNS); // ours vs XNNPACK, 1x1 layers
}
