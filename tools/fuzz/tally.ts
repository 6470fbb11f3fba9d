/**
 * The campaign's counts and findings: each result's outcome label and finding kinds, counts per
 * format, the slowest input and the peak RSS, and the saving of the first few findings of each
 * kind (errors are told apart by their message without its numbers).
 *
 * @module
 */
import type { CampaignOptions } from "./campaign.ts";
import {
  type FindingKind,
  type FindingRecord,
  type SavedFinding,
  saveFinding,
} from "./findings.ts";
import type { FuzzInput } from "./generate.ts";
import type { Format } from "./mutator.ts";
import type { Bounds, RunResult } from "./runner.ts";

/** The counts of one format. */
export interface FormatStats {
  inputs: number;
  /** Outcome label (decoded, an error code, or a finding kind) -> count. */
  outcomes: Record<string, number>;
  /** Finding kind -> count (a slow input counts here and under its outcome). */
  findings: Partial<Record<FindingKind, number>>;
}

/** What a campaign did. */
export interface Summary {
  seed: string;
  jobs: number;
  bounds: Bounds;
  seconds: number;
  inputs: number;
  inputsPerSecond: number;
  perFormat: Partial<Record<Format, FormatStats>>;
  slowest?: { format: Format; iteration: number; cpuMs: number; wallMs: number; outcome: string };
  peakRssMb: number;
  peakRssInput?: { format: Format; iteration: number };
  /** Child restarts (after a hang, an oom or a crash). */
  restarts: number;
  /** Children replaced because earlier inputs had left their idle RSS grown. */
  recycled: number;
  /** Ooms that a fresh child did not repeat (counted as the fresh child's outcome). */
  oomNotRepeated: number;
  /** Model answer checks, and how many gave the first answer. */
  checks: { run: number; same: number };
  findingCount: number;
  saved: SavedFinding[];
}

/** The finding kinds of one result: empty for a fine input. */
export function findingKinds(result: RunResult, slowMs: number): FindingKind[] {
  if (result.killed) return [result.killed];
  if (result.died) {
    return [
      /out of memory|allocation failed|heap limit/i.test(result.died.stderr) ? "oom" : "crash",
    ];
  }
  const kinds: FindingKind[] = [];
  const outcome = result.verdict?.outcome;
  if (outcome === "error" || outcome === "insane") kinds.push(outcome);
  if (result.cpuMs > slowMs) kinds.push("slow");
  return kinds;
}

/** An outcome's label for the counts. */
export function outcomeLabel(result: RunResult, kinds: FindingKind[]): string {
  const v = result.verdict;
  if (!v) return kinds[0];
  return v.outcome === "typed" ? v.code! : v.outcome;
}

/** What tells two findings of one kind apart: for errors, the message without its numbers. */
export function signatureOf(format: Format, kind: FindingKind, detail: string): string {
  return kind === "error" || kind === "insane"
    ? `${format}/${kind}/${detail.split("\n")[0].replace(/\d+/g, "N").slice(0, 120)}`
    : `${format}/${kind}`;
}

export function detailOf(result: RunResult): string {
  return (result.verdict?.detail ?? result.died?.stderr ?? result.killed ?? "").slice(0, 1500);
}

/** Counts, findings and saving, shared by the workers. */
export class Tally {
  readonly summary: Summary;
  readonly #perSignature = new Map<string, number>();
  readonly #options: CampaignOptions;

  constructor(options: CampaignOptions) {
    this.#options = options;
    this.summary = {
      seed: options.seed,
      jobs: options.jobs,
      bounds: options.bounds,
      seconds: 0,
      inputs: 0,
      inputsPerSecond: 0,
      perFormat: {},
      peakRssMb: 0,
      restarts: 0,
      recycled: 0,
      oomNotRepeated: 0,
      checks: { run: 0, same: 0 },
      findingCount: 0,
      saved: [],
    };
    for (const f of options.formats) {
      this.summary.perFormat[f] = { inputs: 0, outcomes: {}, findings: {} };
    }
  }

  async record(input: FuzzInput, result: RunResult): Promise<void> {
    const s = this.summary;
    const stats = s.perFormat[input.format]!;
    const kinds = findingKinds(result, this.#options.slowMs);
    const label = outcomeLabel(result, kinds);
    s.inputs++;
    stats.inputs++;
    stats.outcomes[label] = (stats.outcomes[label] ?? 0) + 1;
    if (!s.slowest || result.cpuMs > s.slowest.cpuMs) {
      s.slowest = {
        format: input.format,
        iteration: input.iteration,
        cpuMs: result.cpuMs,
        wallMs: result.wallMs,
        outcome: label,
      };
    }
    if (result.rssMb > s.peakRssMb) {
      s.peakRssMb = Math.round(result.rssMb);
      s.peakRssInput = { format: input.format, iteration: input.iteration };
    }
    for (const kind of kinds) {
      stats.findings[kind] = (stats.findings[kind] ?? 0) + 1;
      s.findingCount++;
    }
    if (kinds.length > 0) await this.keep(input, kinds[0], result, detailOf(result));
  }

  /** Saves a finding unless enough of its kind are saved already. */
  async keep(
    input: FuzzInput,
    kind: FindingKind,
    result: RunResult,
    detail: string,
  ): Promise<void> {
    const key = signatureOf(input.format, kind, detail);
    const count = this.#perSignature.get(key) ?? 0;
    this.#perSignature.set(key, count + 1);
    const o = this.#options;
    this.#options.log?.(
      `finding: ${kind} ${input.format} #${input.iteration} (${input.bytes.length} bytes, ${result.cpuMs} ms CPU, ${
        Math.round(result.rssMb)
      } MB): ${detail.split("\n")[0].slice(0, 160)}`,
    );
    if (!o.out || count >= o.maxPerKind) return;
    const record: FindingRecord = {
      format: input.format,
      kind,
      seed: o.seed,
      iteration: input.iteration,
      seedIndex: input.seedIndex,
      mutations: input.notes,
      detail,
      cpuMs: result.cpuMs,
      wallMs: result.wallMs,
      rssMb: Math.round(result.rssMb),
      bytes: input.bytes.length,
    };
    const { path, fresh } = await saveFinding(o.out, input.bytes, record);
    if (fresh) this.summary.saved.push({ path, record });
  }
}
