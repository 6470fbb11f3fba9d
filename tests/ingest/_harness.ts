/**
 * Running the ingest loop in a test: a model loaded once per test, events and log lines
 * collected, and a stop condition polled (bounded by a timeout).
 *
 * @module
 */
import { loadMobileNet, type MobileNet } from "../../mod.ts";
import { type IngestOptions, type IngestStats, runIngest } from "../../src/ingest/ingest.ts";
import type { IngestEvent } from "../../src/ingest/event.ts";
import { formatLogRecord, type LogRecord, redactingLogger } from "../../src/ingest/log.ts";
import { Redactor } from "../../src/ingest/redact.ts";
import type { CameraInput } from "../../src/ingest/camera.ts";
import type { Sink } from "../../src/ingest/sinks/sink.ts";

/** Short reconnect delays for fault tests. */
export const FAST_BACKOFF = { initialMs: 50, maxMs: 400 };

/** Runs `fn` with the 0.75 model, disposed afterwards. */
export async function withModel<T>(fn: (model: MobileNet) => Promise<T>): Promise<T> {
  const model = await loadMobileNet();
  try {
    return await fn(model);
  } finally {
    await model.dispose();
  }
}

/** What a run collected. */
export interface Run {
  events: IngestEvent[];
  logs: LogRecord[];
  /** The log as text lines (what the CLI prints). */
  lines: string[];
  stats: IngestStats;
}

/** Options of {@linkcode ingestUntil}. */
export interface RunOptions extends Partial<Omit<IngestOptions, "sources" | "model">> {
  sources: CameraInput[];
  model: MobileNet;
  /** Stop when this returns true (checked every 20 ms). */
  until: (run: Run) => boolean;
  /** Stop anyway after this long. @default {20000} */
  timeoutMs?: number;
  /** Secrets the log must mask. */
  redactor?: Redactor;
}

/** Runs the loop until `until` holds or the timeout passes; returns what was collected. */
export async function ingestUntil(options: RunOptions): Promise<Run> {
  const run: Run = {
    events: [],
    logs: [],
    lines: [],
    stats: { sources: {}, discarded: 0 },
  };
  const controller = new AbortController();
  const log = redactingLogger((record) => {
    run.logs.push(record);
    run.lines.push(formatLogRecord(record));
  }, options.redactor ?? new Redactor());
  const sinks: Sink[] = options.sinks ?? [];
  const done = runIngest({
    ...options,
    sinks,
    log,
    signal: controller.signal,
    onEvent: (event) => run.events.push(event),
  });
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let finished = false;
  done.finally(() => (finished = true));
  while (!finished && !options.until(run) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  controller.abort();
  run.stats = await done;
  return run;
}

/** The top-1 label of an event. */
export function top1(event: IngestEvent): string {
  return event.predictions[0].label;
}
