/**
 * A fuzzing campaign: `jobs` children decode generated inputs until the time or the input count
 * is reached; every outcome is counted per format, every finding (hang, oom, crash, an untyped
 * error, an insane picture, a slow input, a changed model answer) is counted and the first few of
 * each kind are saved, then minimised, and a summary is returned.
 *
 * @module
 */
import { buildCorpus, type Corpus } from "./corpus.ts";
import {
  type FindingRecord,
  readFinding,
  removeFinding,
  type SavedFinding,
  saveFinding,
} from "./findings.ts";
import { FORMAT_MUTATORS, type FuzzInput, makeInput } from "./generate.ts";
import { minimize } from "./minimize.ts";
import type { Format } from "./mutator.ts";
import { type Bounds, Child, type RunResult } from "./runner.ts";
import { detailOf, findingKinds, signatureOf, type Summary, Tally } from "./tally.ts";

export type { Summary };

/** Options of {@linkcode runCampaign}. */
export interface CampaignOptions {
  formats: Format[];
  /** The seed string: the same seed and options make the same inputs. */
  seed: string;
  /** Inputs per format (no limit when absent). */
  inputs?: number;
  /** Wall-time limit of the fuzzing itself, in seconds (no limit when absent). */
  seconds?: number;
  /** Children decoding at once. */
  jobs: number;
  bounds: Bounds;
  /** CPU time over which a finished input is a "slow" finding, in ms. */
  slowMs: number;
  /** Inputs per child between two checks of the model's answer (also at start and end). */
  checkEvery: number;
  /** Where findings are saved; nothing is saved when absent. */
  out?: string;
  /** Findings saved per format, kind and error signature. */
  maxPerKind: number;
  /** Time to minimise each saved finding, in seconds (0: none). */
  minimizeSeconds: number;
  /** Load the real model in the children and check its answer. */
  model: boolean;
  /** A module exporting `createTarget` (tests plant misbehaving targets). */
  targetModule?: string;
  /** The seed corpus (built from the test generators when absent). */
  corpus?: Corpus;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** Hands out `(format, iteration)` pairs, round robin over the formats, until a limit. */
function scheduler(
  options: CampaignOptions,
  start: number,
): () => { format: Format; iteration: number } | undefined {
  const started = new Map(options.formats.map((f) => [f, 0]));
  return () => {
    if (options.seconds !== undefined && performance.now() - start >= options.seconds * 1000) {
      return undefined;
    }
    let best: Format | undefined;
    for (const f of options.formats) {
      const n = started.get(f)!;
      if (options.inputs !== undefined && n >= options.inputs) continue;
      if (best === undefined || n < started.get(best)!) best = f;
    }
    if (best === undefined) return undefined;
    const iteration = started.get(best)!;
    started.set(best, iteration + 1);
    return { format: best, iteration };
  };
}

type Next = ReturnType<typeof scheduler>;

/** A child whose idle RSS grew more than this (MB) since it started is replaced. */
const RECYCLE_MB = 48;

/** An oom: killed over the RSS bound, or died with V8 out of heap. */
function isOom(result: RunResult, options: CampaignOptions): boolean {
  return findingKinds(result, options.slowMs)[0] === "oom";
}

/** Checks the model's answer in `child` against the campaign's first answer. */
async function checkModel(
  child: Child,
  state: { baseline?: string },
  tally: Tally,
  last: FuzzInput | undefined,
): Promise<void> {
  const answer = await child.check();
  tally.summary.checks.run++;
  state.baseline ??= answer;
  if (answer === state.baseline) {
    tally.summary.checks.same++;
    return;
  }
  const detail = `model answer changed: ${answer.slice(0, 300)} (was ${
    state.baseline.slice(0, 300)
  })`;
  const input = last ??
    { format: "jpeg" as Format, iteration: -1, seedIndex: -1, bytes: new Uint8Array(0), notes: [] };
  tally.summary.findingCount++;
  const stats = tally.summary.perFormat[input.format];
  if (stats) stats.findings.model = (stats.findings.model ?? 0) + 1;
  await tally.keep(input, "model", { cpuMs: 0, wallMs: 0, rssMb: 0 }, detail);
}

/** One worker: a child that runs inputs from `next` until there are none, restarted as needed. */
async function worker(
  options: CampaignOptions,
  corpus: Corpus,
  next: Next,
  tally: Tally,
  state: { baseline?: string },
): Promise<void> {
  const start = () =>
    Child.start({
      bounds: options.bounds,
      model: options.model,
      targetModule: options.targetModule,
    });
  // After the first restart a spare child is kept starting, so that restarts cost little.
  let spare: Promise<Child> | undefined;
  const restart = async () => {
    const child = await (spare ?? start());
    spare = start();
    spare.catch(() => {}); // a failed start is reported when the spare is taken
    return child;
  };
  let child = await start();
  let sinceCheck = 0;
  let last: FuzzInput | undefined;
  try {
    if (options.model) await checkModel(child, state, tally, undefined);
    for (let task = next(); task; task = next()) {
      const input = makeInput(task.format, options.seed, task.iteration, corpus);
      // Each input is charged for its own memory: a child that earlier inputs left bigger than
      // RECYCLE_MB over its start is replaced first.
      if (child.alive && child.grownMb > RECYCLE_MB) {
        // its model is checked before it goes: the inputs that grew it must not have changed it
        if (options.model && sinceCheck > 0) await checkModel(child, state, tally, last);
        await child.close();
        tally.summary.recycled++;
      }
      if (!child.alive) {
        child = await restart(); // a fresh process: its model is checked every checkEvery inputs
        tally.summary.restarts++;
        sinceCheck = 0;
      }
      let result = await child.run(input.format, input.bytes);
      if (isOom(result, options)) {
        // Confirmed in a fresh child: an oom that does not come back there is not this input's.
        child = await restart();
        tally.summary.restarts++;
        const again = await child.run(input.format, input.bytes);
        if (!isOom(again, options)) tally.summary.oomNotRepeated++;
        result = again;
      }
      last = input;
      await tally.record(input, result);
      if (options.model && child.alive && ++sinceCheck >= options.checkEvery) {
        sinceCheck = 0;
        await checkModel(child, state, tally, last);
      }
    }
    if (options.model && child.alive) await checkModel(child, state, tally, last);
  } finally {
    await child.close();
    if (spare) await (await spare.catch(() => undefined))?.close();
  }
}

/** Shrinks one saved finding with `child`, keeping its kind (and error signature). */
async function minimizeOne(
  saved: SavedFinding,
  options: CampaignOptions,
  child: { current: Child },
): Promise<SavedFinding> {
  const { record } = saved;
  const bytes = await readFinding(saved.path);
  const want = signatureOf(record.format, record.kind, record.detail);
  const stillFails = async (candidate: Uint8Array) => {
    if (!child.current.alive) {
      child.current = await Child.start({
        bounds: options.bounds,
        model: false,
        targetModule: options.targetModule,
      });
    }
    const result = await child.current.run(record.format, candidate);
    return findingKinds(result, options.slowMs).some((kind) =>
      signatureOf(record.format, kind, detailOf(result)) === want ||
      (record.kind === "slow" && kind === "hang")
    );
  };
  const deadline = performance.now() + options.minimizeSeconds * 1000;
  const remove = FORMAT_MUTATORS[record.format].remove;
  const shrunk = await minimize(bytes, stillFails, { maxTests: 2000, deadline }, remove);
  if (shrunk.bytes.length >= bytes.length) return saved;
  const minimized = { fromBytes: bytes.length, tests: shrunk.tests };
  const next: FindingRecord = { ...record, bytes: shrunk.bytes.length, minimized };
  await removeFinding(saved.path);
  const { path } = await saveFinding(options.out!, shrunk.bytes, next);
  return { path, record: next };
}

/** Minimises the saved findings (not model ones), `jobs` at a time, with model-less children. */
async function minimizeAll(
  saved: SavedFinding[],
  options: CampaignOptions,
): Promise<SavedFinding[]> {
  const queue = saved.map((s, i) => ({ s, i })).filter(({ s }) => s.record.kind !== "model");
  const out = [...saved];
  const run = async () => {
    const child = {
      current: await Child.start({
        bounds: options.bounds,
        model: false,
        targetModule: options.targetModule,
      }),
    };
    try {
      for (let item = queue.shift(); item; item = queue.shift()) {
        out[item.i] = await minimizeOne(item.s, options, child);
        options.log?.(
          `minimised ${item.s.path}: ${item.s.record.bytes} -> ${out[item.i].record.bytes} bytes`,
        );
      }
    } finally {
      await child.current.close();
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.jobs, queue.length) }, run));
  return out.filter((s, i) => out.findIndex((o) => o.path === s.path) === i);
}

/** The seeds: the target module's own (`seeds(format)`, for planted targets), else the built ones. */
async function corpusFor(options: CampaignOptions): Promise<Corpus> {
  if (options.targetModule) {
    const module = await import(options.targetModule);
    if (typeof module.seeds === "function") {
      return Object.fromEntries(options.formats.map((f) => [f, module.seeds(f)]));
    }
  }
  return await buildCorpus(options.formats);
}

/**
 * Runs a campaign and returns its summary (findings saved under `options.out`).
 *
 * @example
 * ```ts
 * import { runCampaign } from "./campaign.ts";
 * import { DEFAULT_BOUNDS } from "./runner.ts";
 * import { formatSummary } from "./summary.ts";
 * const summary = await runCampaign({
 *   formats: ["png"],
 *   seed: "1",
 *   inputs: 500,
 *   jobs: 2,
 *   bounds: DEFAULT_BOUNDS,
 *   slowMs: 1000,
 *   checkEvery: 1000,
 *   maxPerKind: 3,
 *   minimizeSeconds: 0,
 *   model: false,
 * });
 * console.log(formatSummary(summary));
 * ```
 */
export async function runCampaign(options: CampaignOptions): Promise<Summary> {
  const corpus = options.corpus ?? await corpusFor(options);
  const tally = new Tally(options);
  const t0 = performance.now();
  const next = scheduler(options, t0);
  const state: { baseline?: string } = {};
  const progress = setInterval(() => {
    const s = tally.summary;
    options.log?.(
      `${
        ((performance.now() - t0) / 1000).toFixed(0)
      } s: ${s.inputs} inputs, ${s.findingCount} findings`,
    );
  }, 10_000);
  try {
    await Promise.all(
      Array.from({ length: options.jobs }, () => worker(options, corpus, next, tally, state)),
    );
  } finally {
    clearInterval(progress);
  }
  const s = tally.summary;
  s.seconds = (performance.now() - t0) / 1000;
  s.inputsPerSecond = s.inputs / s.seconds;
  if (options.out && options.minimizeSeconds > 0 && s.saved.length > 0) {
    s.saved = await minimizeAll(s.saved, options);
  }
  return s;
}
