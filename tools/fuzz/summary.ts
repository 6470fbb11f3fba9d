/**
 * The end-of-run report: outcomes per format (decoded, each typed error code, and inputs that
 * ended as a finding), findings per format by kind, inputs per second, the slowest input, the
 * peak RSS, the model checks and the saved findings.
 *
 * @module
 */
import type { Summary } from "./tally.ts";
import type { FindingKind } from "./findings.ts";

const KINDS: FindingKind[] = ["hang", "oom", "crash", "error", "insane", "slow", "model"];

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) =>
    r.map((cell, c) => c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])).join("  ")
  )
    .join("\n");
}

/** Outcome labels in report order: decoded, typed codes (sorted), then finding outcomes. */
function labels(summary: Summary): string[] {
  const seen = new Set<string>();
  for (const stats of Object.values(summary.perFormat)) {
    for (const l of Object.keys(stats.outcomes)) {
      seen.add(l);
    }
  }
  const findings = KINDS.filter((k) => seen.has(k));
  const typed = [...seen].filter((l) => l !== "decoded" && !KINDS.includes(l as FindingKind))
    .sort();
  return [...(seen.has("decoded") ? ["decoded"] : []), ...typed, ...findings];
}

/** The summary as text. */
export function formatSummary(summary: Summary): string {
  const formats = Object.entries(summary.perFormat);
  const cols = labels(summary);
  const outcomeRows = [
    ["format", "inputs", ...cols],
    ...formats.map((
      [f, s],
    ) => [f, String(s.inputs), ...cols.map((c) => String(s.outcomes[c] ?? 0))]),
  ];
  const findingRows = [
    ["findings", ...KINDS],
    ...formats.map(([f, s]) => [f, ...KINDS.map((k) => String(s.findings[k] ?? 0))]),
  ];
  const b = summary.bounds;
  const lines = [
    `fuzz: seed ${
      JSON.stringify(summary.seed)
    }, ${summary.jobs} jobs, bounds ${b.timeoutMs} ms CPU ` +
    `(${b.wallMs} ms wall) and ${b.memoryMb} MB RSS per input`,
    `${summary.inputs} inputs in ${summary.seconds.toFixed(1)} s: ${
      summary.inputsPerSecond.toFixed(1)
    } inputs/s`,
    "",
    table(outcomeRows),
    "",
    table(findingRows),
    "",
  ];
  const slow = summary.slowest;
  if (slow) {
    lines.push(
      `slowest input: ${slow.format} #${slow.iteration}, ${slow.cpuMs} ms CPU (${slow.wallMs} ms wall), ${slow.outcome}`,
    );
  }
  const peakAt = summary.peakRssInput
    ? ` (${summary.peakRssInput.format} #${summary.peakRssInput.iteration})`
    : "";
  lines.push(`peak RSS of an input: ${summary.peakRssMb} MB${peakAt}`);
  lines.push(
    `child restarts: ${summary.restarts}; recycled (idle RSS grown by earlier inputs): ` +
      `${summary.recycled}; ooms not repeated in a fresh child: ${summary.oomNotRepeated}`,
  );
  const c = summary.checks;
  lines.push(
    `model checks: ${c.run}, ${
      c.same === c.run ? "every answer the same as the first" : `${c.run - c.same} differed`
    }`,
  );
  lines.push(`findings: ${summary.findingCount}, saved ${summary.saved.length}`);
  for (const { path, record: r } of summary.saved) {
    const min = r.minimized ? `, minimised from ${r.minimized.fromBytes}` : "";
    lines.push(
      `  ${r.kind} ${path} (${r.bytes} bytes${min}; #${r.iteration}: ${
        r.mutations.join("; ").slice(0, 160)
      })`,
    );
  }
  return lines.join("\n");
}
