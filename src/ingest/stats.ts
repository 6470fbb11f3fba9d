/**
 * What the ingest loop counts, per source, and the stop summary the CLI prints from it.
 *
 * @module
 */

/** Counters of one source (or MQTT topic). */
export interface SourceStats {
  /** Frames received. */
  received: number;
  /** Frames inferred. */
  inferred: number;
  /** Events written (with `confirm`, only changes of state). */
  events: number;
  /** Stale frames replaced by newer ones before inference. */
  dropped: number;
  /** Frames skipped by `minChange`. */
  unchanged: number;
  /** Frames that could not be decoded. */
  bad: number;
  /** For a source that gave no frame: its last state, as logged (why it never came online). */
  status?: string;
}

/** What `runIngest` resolves with. */
export interface IngestStats {
  /** Counters per source: each frame source, and each source that gave no frame. */
  sources: Record<string, SourceStats>;
  /** Frames waiting when the loop was stopped (discarded). */
  discarded: number;
}

/** A source's counters before its first frame. */
export function emptyStats(): SourceStats {
  return { received: 0, inferred: 0, events: 0, dropped: 0, unchanged: 0, bad: 0 };
}

/**
 * The stop summary: one line per source, a source that gave no frame with its last state.
 *
 * @example
 * ```ts
 * import { emptyStats, summaryLines } from "./stats.ts";
 * summaryLines({ sources: { cam: { ...emptyStats(), status: "offline: HTTP 401" } }, discarded: 0 });
 * // ["cam: no frame (offline: HTTP 401)"]
 * ```
 */
export function summaryLines(stats: IngestStats): string[] {
  const lines = Object.entries(stats.sources).map(([name, s]) =>
    s.received === 0 && s.status !== undefined
      ? `${name}: no frame (${s.status})`
      : `${name}: ${s.received} received, ${s.inferred} inferred, ${s.events} events, ` +
        `${s.dropped} dropped, ${s.unchanged} unchanged, ${s.bad} bad`
  );
  if (stats.discarded > 0) lines.push(`${stats.discarded} frame(s) waiting were discarded`);
  return lines;
}
