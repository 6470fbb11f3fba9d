/**
 * `deno task fuzz [--format F] [--seconds N] [--inputs N] [--seed S] [--out DIR] [--jobs J]`:
 * fuzzes the image decoders (and, on request, the camera stream parsers) with seeded,
 * reproducible mutations of a generated seed corpus, each input in a child process bounded in
 * CPU time and memory, and prints a summary. Findings are saved under `--out` (default
 * `tests/fuzz/findings`), minimised, and become regression tests. Exits 1 when there was a
 * finding.
 *
 * @module
 */
import { parseArgs } from "../../src/cli/parse_args.ts";
import { buildCorpus } from "./corpus.ts";
import { type CampaignOptions, runCampaign } from "./campaign.ts";
import { makeInput } from "./generate.ts";
import { EXTENSIONS } from "./findings.ts";
import { type Format, IMAGE_FORMATS, STREAM_FORMATS } from "./mutator.ts";
import { DEFAULT_BOUNDS, killAllChildren } from "./runner.ts";
import { formatSummary } from "./summary.ts";
import { replay } from "./replay.ts";
import { parseOrExit } from "../../src/cli/command.ts";

const USAGE = `usage: deno task fuzz [options]

Fuzzes decodeImage (and the camera stream parsers) with seeded mutations of generated seeds.
Each input runs in a child process under a CPU-time and memory bound; a hang, an oom, a crash,
an error other than a typed one, an insane picture, a slow input or a changed model answer is
a finding, saved under --out and minimised.

options:
  --format F          jpeg, png, gif, tiff, all (the four; default), mjpeg, jpeg-stream, streams,
                      or a comma-separated list
  --seconds N         stop after N seconds of fuzzing (default 60 when --inputs is not given)
  --inputs N          stop after N inputs per format
  --seed S            the seed string (default 1): the same seed and options, the same inputs
  --out DIR           where findings go (default tests/fuzz/findings; "none": not saved)
  --jobs J            child processes at once (default 2)
  --timeout-ms N      CPU time per input before it is a hang (default 2000; wall time: 10x)
  --wall-ms N         wall time per input, for a child that stops using CPU (default 10x timeout)
  --memory-mb N       child RSS before an input is an oom; also V8's heap limit (default 300)
  --slow-ms N         CPU time over which an input is a slow finding (default 1000)
  --check-every N     inputs per child between checks of the model's answer (default 1000)
  --minimize-seconds N  time to shrink each saved finding (default 30; 0: none)
  --max-per-kind N    findings saved per format, kind and error message (default 3)
  --no-model          do not load the model in the children (no answer checks)
  --emit DIR          write the generated inputs to DIR instead of running them
  --replay PATH,...   run these files, or findings folders, under the bounds and say which are
                      still findings (exit 1 if any)
  --json FILE         also write the summary as JSON
  -h, --help          this text`;

const FLAGS = {
  string: [
    "format",
    "seconds",
    "inputs",
    "seed",
    "out",
    "jobs",
    "timeout-ms",
    "wall-ms",
    "memory-mb",
    "slow-ms",
    "check-every",
    "minimize-seconds",
    "max-per-kind",
    "emit",
    "json",
    "target-module",
    "replay",
  ],
  boolean: ["help", "no-model"],
  alias: { h: "help" },
} as const;

function positive(
  flags: Record<string, unknown>,
  name: string,
  fallback?: number,
): number | undefined {
  const raw = flags[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    throw new TypeError(`--${name} must be a number >= 0, got ${raw}`);
  }
  return value;
}

/** A module path as a URL (relative paths from the working directory). */
function moduleUrl(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  return /^[a-z]+:/.test(path) ? path : new URL(path, `file://${Deno.cwd()}/`).href;
}

/** Parses `--format`. */
export function parseFormats(text: string): Format[] {
  const out = new Set<Format>();
  for (const name of text.split(",")) {
    if (name === "all") IMAGE_FORMATS.forEach((f) => out.add(f));
    else if (name === "streams") STREAM_FORMATS.forEach((f) => out.add(f));
    else if (name in EXTENSIONS) out.add(name as Format);
    else {throw new TypeError(
        `unknown --format ${name}: jpeg, png, gif, tiff, all, mjpeg, jpeg-stream, streams`,
      );}
  }
  return [...out];
}

/** Turns the command line into campaign options (and `--emit`/`--json` paths). */
export function parseCommand(
  argv: string[],
): { options: CampaignOptions; emit?: string; json?: string; replay?: string[] } | "help" {
  const flags = parseArgs(argv, FLAGS);
  if (flags.help) return "help";
  if (flags._.length > 0) throw new TypeError(`unexpected argument ${flags._[0]}`);
  const inputs = positive(flags, "inputs");
  const timeoutMs = positive(flags, "timeout-ms", DEFAULT_BOUNDS.timeoutMs)!;
  const out = (flags.out as string | undefined) ?? "tests/fuzz/findings";
  const options: CampaignOptions = {
    formats: parseFormats((flags.format as string | undefined) ?? "all"),
    seed: (flags.seed as string | undefined) ?? "1",
    inputs,
    seconds: positive(flags, "seconds", inputs === undefined ? 60 : undefined),
    jobs: Math.max(1, Math.floor(positive(flags, "jobs", 2)!)),
    bounds: {
      timeoutMs,
      wallMs: positive(flags, "wall-ms", 10 * timeoutMs)!,
      memoryMb: positive(flags, "memory-mb", DEFAULT_BOUNDS.memoryMb)!,
    },
    slowMs: positive(flags, "slow-ms", 1000)!,
    checkEvery: Math.max(1, positive(flags, "check-every", 1000)!),
    out: out === "none" ? undefined : out,
    maxPerKind: positive(flags, "max-per-kind", 3)!,
    minimizeSeconds: positive(flags, "minimize-seconds", 30)!,
    model: !flags["no-model"],
    targetModule: moduleUrl(flags["target-module"] as string | undefined),
    log: (line) => console.error(`[fuzz] ${line}`),
  };
  return {
    options,
    emit: flags.emit as string | undefined,
    json: flags.json as string | undefined,
    replay: (flags.replay as string | undefined)?.split(","),
  };
}

/** Writes the inputs a run would make, without running them. */
async function emit(options: CampaignOptions, dir: string): Promise<void> {
  const corpus = await buildCorpus(options.formats);
  const count = options.inputs ?? 100;
  for (const format of options.formats) {
    await Deno.mkdir(`${dir}/${format}`, { recursive: true });
    for (let i = 0; i < count; i++) {
      const input = makeInput(format, options.seed, i, corpus);
      await Deno.writeFile(
        `${dir}/${format}/${String(i).padStart(6, "0")}.${EXTENSIONS[format]}`,
        input.bytes,
      );
    }
  }
}

async function main(argv: string[]): Promise<number> {
  const command = parseOrExit("fuzz", argv, parseCommand, USAGE);
  if (typeof command === "number") return command;
  if (command.replay) {
    const { bounds, slowMs, targetModule } = command.options;
    const results = await replay(command.replay, bounds, slowMs, targetModule);
    for (const r of results) {
      const verdict = r.findings.length > 0 ? `FINDING ${r.findings.join(",")}` : "ok";
      console.log(`${verdict}  ${r.path}: ${r.outcome} (${r.cpuMs} ms CPU, ${r.rssMb} MB)`);
    }
    if (command.json) {
      await Deno.writeTextFile(command.json, JSON.stringify(results, null, 2) + "\n");
    }
    return results.some((r) => r.findings.length > 0) ? 1 : 0;
  }
  if (command.emit) {
    await emit(command.options, command.emit);
    return 0;
  }
  const summary = await runCampaign(command.options);
  console.log(formatSummary(summary));
  if (command.json) await Deno.writeTextFile(command.json, JSON.stringify(summary, null, 2) + "\n");
  return summary.findingCount > 0 ? 1 : 0;
}

if (import.meta.main) {
  // A child busy with a hang does not read its stdin: kill them all when interrupted.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => {
      killAllChildren();
      Deno.exit(130);
    });
  }
  Deno.exit(await main(Deno.args));
}
