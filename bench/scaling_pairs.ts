/**
 * Two threads against one, as a user gets them: fresh processes alternate `threads: 1` (the
 * single-thread SIMD binary) and `threads: 2` (the threaded one, two threads pinned), each
 * loading the bundled 0.75/224 (or `--model`) and timing `predict` on one fixed input (model
 * only: no decoding) after a warm-up; prints each process's median, each pair's ratio and the
 * median ratio. Pairs, not one process switching its pool, because the two builds differ and
 * because this VM drifts by tens of percent within minutes: a pair runs within seconds.
 *
 * Run: `deno run -A bench/scaling_pairs.ts [--pairs 5] [--runs 100] [--warmup 30] [--model
 * 0.75_224]`
 *
 * @module
 */
import { parseArgs } from "../src/cli/parse_args.ts";
import { median } from "../src/_util.ts";
import { markdownTable } from "./_table.ts";

const args = parseArgs(Deno.args, {
  string: ["pairs", "runs", "warmup", "model", "child"],
});

if (args.child !== undefined) {
  // One process: load, warm up, time.
  const { loadMobileNet } = await import("../mod.ts");
  const model = await loadMobileNet({
    model: String(args.model ?? "0.75_224"),
    threads: Number(args.child),
  });
  const r = model.architecture.config.resolution;
  const data = new Float32Array(r * r * 3).map((_, i) => Math.sin(i) * 0.9);
  const input = { data, shape: [1, r, r, 3] as [number, number, number, number] };
  for (let i = 0; i < Number(args.warmup ?? 30); i++) model.predict(input);
  const times: number[] = [];
  for (let i = 0; i < Number(args.runs ?? 100); i++) {
    const t0 = performance.now();
    model.predict(input);
    times.push(performance.now() - t0);
  }
  console.log(
    JSON.stringify({
      ms: median(times),
      reason: (await import("../mod.ts")).backendInfo()?.reason,
    }),
  );
  await model.dispose();
  Deno.exit(0);
}

async function child(threads: number): Promise<number> {
  const forwarded = ["runs", "warmup", "model"].flatMap((k) =>
    args[k] === undefined ? [] : [`--${k}`, String(args[k])]
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      "--child",
      String(threads),
      ...forwarded,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`the ${threads}-thread process failed`);
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!).ms;
}

const pairs = Number(args.pairs ?? 5);
const rows: (string | number)[][] = [];
const ratios: number[] = [];
for (let p = 0; p < pairs; p++) {
  // which count runs first alternates
  let one: number, two: number;
  if (p % 2) {
    two = await child(2);
    one = await child(1);
  } else {
    one = await child(1);
    two = await child(2);
  }
  ratios.push(one / two);
  rows.push([p + 1, one.toFixed(2), two.toFixed(2), `${(one / two).toFixed(2)}x`]);
}
console.log(
  `\n## ${args.model ?? "0.75_224"}: 2 threads against 1 (model only, fresh processes, ` +
    `${args.runs ?? 100} runs after ${args.warmup ?? 30} warm-up)\n`,
);
console.log(markdownTable(["pair", "1 thread ms", "2 threads ms", "speed-up"], rows));
console.log(
  `\nmedian speed-up ${median(ratios).toFixed(2)}x (pairs ${Math.min(...ratios).toFixed(2)}-${
    Math.max(...ratios).toFixed(2)
  }x)`,
);
