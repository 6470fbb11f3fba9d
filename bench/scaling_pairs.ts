/**
 * Two threads against one, as a user gets them: processes with `threads: 1` (the single-thread
 * SIMD binary) and `threads: 2` (the threaded one, two threads pinned), each loading the bundled
 * 0.75/224 (or `--model`) and timing `predict` on one fixed input (model only: no decoding).
 * They take turns: the parent lets one run a burst of `--burst` inferences, then the next, round
 * after round, so a change in the machine's speed (this VM drifts by tens of percent within
 * seconds) falls on all alike. This VM's two cores also often differ in speed by 10-40% for
 * minutes, so a single-thread process is as fast as the core it lands on: there is one
 * single-thread process pinned to each core (`taskset -c`, unless `--unpinned` or without
 * `taskset`), and the 1-thread time is the mean of theirs, what a process placed at random gets.
 * Prints each round's medians and ratio, and the median ratio. `--base DIR` adds another
 * checkout's processes (its `mod.ts`) to the same turns, so the two are compared round by round
 * under the same drift, and prints this checkout's 2-thread time against the base's, round by
 * round. With `--sequential`, the old way: one whole process after the other
 * (unpinned), in `--pairs` pairs.
 *
 * Run: `deno run -A bench/scaling_pairs.ts [--rounds 15] [--burst 10] [--warmup 30] [--model
 * 0.75_224] [--unpinned] [--base DIR] [--sequential [--pairs 5] [--runs 100]]`
 *
 * @module
 */
import { parseArgs } from "../src/cli/parse_args.ts";
import { median } from "../src/_util.ts";
import { markdownTable } from "./_table.ts";
import { pinnableCores } from "./_taskset.ts";

const args = parseArgs(Deno.args, {
  string: ["pairs", "runs", "warmup", "model", "child", "rounds", "burst", "root", "base"],
  boolean: ["sequential", "unpinned"],
});
const MODEL = String(args.model ?? "0.75_224");
const WARMUP = Number(args.warmup ?? 30);

/**
 * Child: load (the library of the checkout `root`, default this one), warm up; then per line on
 * stdin, `N` inferences timed (or exit on `end`).
 */
async function child(threads: number, root?: string): Promise<void> {
  const library = root ? new URL("mod.ts", `file://${root.replace(/\/?$/, "/")}`) : "../mod.ts";
  const { loadMobileNet } = await import(String(library));
  const model = await loadMobileNet({ model: MODEL, threads });
  const r = model.architecture.config.resolution;
  const data = new Float32Array(r * r * 3).map((_, i) => Math.sin(i) * 0.9);
  const input = { data, shape: [1, r, r, 3] as [number, number, number, number] };
  for (let i = 0; i < WARMUP; i++) model.predict(input);
  const encoder = new TextEncoder();
  await Deno.stdout.write(encoder.encode("ready\n"));
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  let pending = "";
  for await (const chunk of lines) {
    pending += chunk;
    for (let nl = pending.indexOf("\n"); nl >= 0; nl = pending.indexOf("\n")) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (line === "end") {
        await model.dispose();
        Deno.exit(0);
      }
      const times: number[] = [];
      for (let i = 0; i < Number(line); i++) {
        const t0 = performance.now();
        model.predict(input);
        times.push(performance.now() - t0);
      }
      await Deno.stdout.write(encoder.encode(`${JSON.stringify(times)}\n`));
    }
  }
}

/** A child process that answers bursts. */
class Runner {
  readonly #process: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #reader: ReadableStreamDefaultReader<string>;
  #pending = "";

  /** `cpu`: pin the process to that core (`taskset -c`); `root`: the checkout to load. */
  constructor(threads: number, cpu?: number, root?: string) {
    const forwarded = ["warmup", "model"].flatMap((k) =>
      args[k] === undefined ? [] : [`--${k}`, String(args[k])]
    );
    if (root) forwarded.push("--root", root);
    const pin = cpu === undefined ? [] : ["-c", String(cpu), Deno.execPath()];
    this.#process = new Deno.Command(cpu === undefined ? Deno.execPath() : "taskset", {
      args: [
        ...pin,
        "run",
        "-A",
        new URL(import.meta.url).pathname,
        "--child",
        String(threads),
        ...forwarded,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#writer = this.#process.stdin.getWriter();
    this.#reader = this.#process.stdout.pipeThrough(new TextDecoderStream()).getReader();
  }

  async line(): Promise<string> {
    for (;;) {
      const nl = this.#pending.indexOf("\n");
      if (nl >= 0) {
        const line = this.#pending.slice(0, nl);
        this.#pending = this.#pending.slice(nl + 1);
        return line;
      }
      const { value, done } = await this.#reader.read();
      if (done) throw new Error("a benchmark child ended early");
      this.#pending += value;
    }
  }

  async burst(n: number): Promise<number[]> {
    await this.#writer.write(new TextEncoder().encode(`${n}\n`));
    return JSON.parse(await this.line());
  }

  async close(): Promise<void> {
    await this.#writer.write(new TextEncoder().encode("end\n"));
    await this.#writer.close();
    await this.#reader.cancel();
    await this.#process.status;
  }
}

/** One checkout's processes: a single-thread one pinned to each core (or one), and a 2-thread one. */
interface Team {
  name: string;
  ones: Runner[];
  two: Runner;
  ratios: number[];
  /**
   * Each round, with a single-thread process on each of two cores: the speed-up that two
   * threads would have with no loss of ours (see {@linkcode machineSpeedUp}).
   */
  machine: number[];
  /** Each round: the slower single-thread process's median against the faster one's. */
  spread: number[];
  /** Each round's 2-thread median, ms. */
  twos: number[];
  rows: string[][];
  all: { ones: number[][]; two: number[] };
}

/** The cores to pin single-thread processes to, or `[undefined]` (unpinned, one process). */
async function pinnedCores(): Promise<(number | undefined)[]> {
  return (!args.unpinned && await pinnableCores()) || [undefined];
}

/** Starts a checkout's processes, one at a time (a loading process must not share the cores). */
async function startTeam(
  name: string,
  cpus: (number | undefined)[],
  root?: string,
): Promise<Team> {
  const ones: Runner[] = [];
  for (const cpu of cpus) {
    ones.push(new Runner(1, cpu, root));
    await ones.at(-1)!.line();
  }
  const two = new Runner(2, undefined, root);
  await two.line();
  const all = { ones: ones.map(() => [] as number[]), two: [] as number[] };
  return { name, ones, two, ratios: [], machine: [], spread: [], twos: [], rows: [], all };
}

/**
 * What the machine gives two threads now: the two single-thread processes run a burst at the
 * same time (medians `both`, ms), against each alone (`alone`). Their inferences a second
 * together, times the 1-thread time (the mean of `alone`), is the speed-up a 2-thread process
 * would have if it lost nothing: 2 with two whole cores alike (a little more when they differ),
 * 1 when the host runs the two virtual CPUs on the two hardware threads of one core (their
 * vector units shared), and in between when the cores share caches or memory with busier
 * neighbours.
 */
function machineSpeedUp(alone: number[], both: number[]): number {
  const oneThread = alone.reduce((x, y) => x + y) / alone.length;
  return both.reduce((sum, ms) => sum + 1 / ms, 0) * oneThread;
}

/**
 * Round `r`: every process of every team runs a burst, in an order that rotates; then, with a
 * single-thread process on each of two cores, those two at the same time.
 */
async function round(teams: Team[], r: number, burst: number): Promise<void> {
  const runners = teams.flatMap((t) => [...t.ones, t.two]);
  const k = r % runners.length;
  const times = new Map<Runner, number[]>();
  for (const runner of [...runners.slice(k), ...runners.slice(0, k)]) {
    times.set(runner, await runner.burst(burst));
  }
  for (const team of teams) {
    team.ones.forEach((one, i) => team.all.ones[i].push(...times.get(one)!));
    team.all.two.push(...times.get(team.two)!);
    const each = team.ones.map((one) => median(times.get(one)!));
    const b = median(times.get(team.two)!);
    const a = each.reduce((x, y) => x + y) / each.length;
    team.ratios.push(a / b);
    team.spread.push(Math.max(...each) / Math.min(...each));
    team.twos.push(b);
    const row = [String(r + 1), ...each.map((t) => t.toFixed(2)), b.toFixed(2)];
    row.push(`${(a / b).toFixed(2)}x`);
    if (team.ones.length === 2) {
      const both = await Promise.all(team.ones.map((one) => one.burst(burst)));
      team.machine.push(machineSpeedUp(each, both.map(median)));
      row.push(`${team.machine.at(-1)!.toFixed(2)}x`);
    }
    team.rows.push(row);
  }
}

function report(team: Team, rounds: number, burst: number): void {
  const { ones, ratios, all } = team;
  const heads = ones.length > 1 ? ones.map((_, i) => `1 thread on core ${i} ms`) : ["1 thread ms"];
  heads.push("2 threads ms", "speed-up", ...(team.machine.length ? ["the machine's"] : []));
  console.log(
    `\n## ${MODEL}, ${team.name}: 2 threads against 1 (model only; processes taking turns, ` +
      `${rounds} rounds of ${burst} inferences each, after ${WARMUP} warm-up; 1 thread: the mean ` +
      `of its processes${ones.length > 1 ? ", one pinned to each core" : ""})\n`,
  );
  console.log(markdownTable(["round", ...heads], team.rows));
  const each = all.ones.map(median), b = median(all.two);
  const a = each.reduce((x, y) => x + y) / each.length;
  console.log(
    `\n${team.name}: median of the rounds' speed-ups ${median(ratios).toFixed(2)}x (rounds ` +
      `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}x); all inferences: ` +
      `1 thread ${each.map((t) => t.toFixed(2)).join(" and ")} ms, 2 threads ${b.toFixed(2)} ms, ` +
      `${(a / b).toFixed(2)}x`,
  );
  if (team.machine.length) reportMachine(team);
}

/** Rounds whose machine gave two threads at least this much count as two whole cores. */
const TWO_CORES = 1.9;
/** Rounds whose single-thread processes ran within this ratio of each other have cores alike. */
const ALIKE = 1.1;

/** The model's speed-ups against the machine's ({@linkcode machineSpeedUp}), the same rounds. */
function reportMachine({ name, ratios, machine, spread }: Team): void {
  const range = (xs: number[]) => `${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)}x`;
  const some = (xs: number[]) =>
    xs.length ? `median ${median(xs).toFixed(2)}x (${range(xs)})` : "-";
  const whole = ratios.filter((_, i) => machine[i] >= TWO_CORES);
  const alike = ratios.filter((_, i) => machine[i] >= TWO_CORES && spread[i] <= ALIKE);
  const share = ratios.map((x, i) => x / machine[i]);
  console.log(
    `${name}: the machine's speed-up (both single-thread processes at once): median ` +
      `${median(machine).toFixed(2)}x (${range(machine)}). Two threads' speed-up in the ` +
      `${whole.length} rounds where it was ${TWO_CORES}x or more: ${some(whole)}; in the ` +
      `${alike.length} of those whose cores ran within ${ALIKE}x of each other: ${some(alike)}. ` +
      `Two threads' speed-up against the machine's, median of the rounds: ` +
      `${median(share).toFixed(3)} (${range(share).replace("x", "")})`,
  );
}

/** The processes of this checkout (and of `--base`'s) taking turns, round after round. */
async function turns(): Promise<void> {
  const rounds = Number(args.rounds ?? 15);
  const burst = Number(args.burst ?? 10);
  const cpus = await pinnedCores();
  const teams = [await startTeam("this checkout", cpus)];
  if (args.base) teams.push(await startTeam(`--base ${args.base}`, cpus, String(args.base)));
  for (let r = 0; r < rounds; r++) await round(teams, r, burst);
  await Promise.all(teams.flatMap((t) => [...t.ones, t.two]).map((runner) => runner.close()));
  for (const team of teams) report(team, rounds, burst);
  if (teams.length > 1) compareTwoThreads(teams[0], teams[1]);
}

/**
 * This checkout's 2-thread time against `--base`'s, round by round (the same turns, so the same
 * drift): the median of the rounds' ratios of their medians.
 */
function compareTwoThreads(ours: Team, base: Team): void {
  const ratios = ours.twos.map((ms, i) => ms / base.twos[i]);
  console.log(
    `
2 threads, this checkout against ${base.name}: ${median(ratios).toFixed(3)}x the time ` +
      `(median of the rounds' ratios; rounds ${Math.min(...ratios).toFixed(3)}-` +
      `${Math.max(...ratios).toFixed(3)}x)`,
  );
}

/** The old way: whole processes, one after the other (`--sequential`). */
async function sequential(): Promise<void> {
  const runs = Number(args.runs ?? 100);
  const processMedian = async (threads: number) => {
    const runner = new Runner(threads);
    await runner.line();
    const times = await runner.burst(runs);
    await runner.close();
    return median(times);
  };
  const ratios: number[] = [];
  const rows: (string | number)[][] = [];
  for (let p = 0; p < Number(args.pairs ?? 5); p++) {
    const [a, b] = p % 2
      ? [await processMedian(2), await processMedian(1)].reverse()
      : [await processMedian(1), await processMedian(2)];
    ratios.push(a / b);
    rows.push([p + 1, a.toFixed(2), b.toFixed(2), `${(a / b).toFixed(2)}x`]);
  }
  console.log(`\n## ${MODEL}: 2 threads against 1 (model only, whole processes in pairs)\n`);
  console.log(markdownTable(["pair", "1 thread ms", "2 threads ms", "speed-up"], rows));
  console.log(`\nmedian speed-up ${median(ratios).toFixed(2)}x`);
}

if (args.child !== undefined) await child(Number(args.child), args.root as string | undefined);
else if (args.sequential) await sequential();
else await turns();
