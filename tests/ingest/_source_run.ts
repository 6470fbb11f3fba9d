/**
 * Running one source without a model: the frames it emits and the lines it logs (through a
 * real `StatusBoard`, so once per change of state, as ingest logs them), until a condition
 * holds or a timeout passes.
 *
 * @module
 */
import { StatusBoard } from "../../src/ingest/log.ts";
import { systemClock } from "../../src/clock.ts";
import type { Frame, Source } from "../../src/ingest/types.ts";

/** What a source did. */
export interface SourceRun {
  frames: Frame[];
  /** Log messages, in order. */
  lines: string[];
}

/** Runs `source` until `until` holds (checked every 10 ms) or `timeoutMs` passes. */
export async function runSource(
  source: Source,
  until: (run: SourceRun) => boolean,
  timeoutMs = 10_000,
): Promise<SourceRun> {
  const run: SourceRun = { frames: [], lines: [] };
  const board = new StatusBoard((r) => run.lines.push(r.message), () => Date.now());
  const controller = new AbortController();
  const done = source.run({
    signal: controller.signal,
    emit: (frame) => run.frames.push(frame),
    status: (channel, state, message, level) =>
      board.set(source.name, channel, state, message, level),
    log: (record) => run.lines.push(record.message),
    clock: systemClock,
  });
  let finished = false;
  done.finally(() => (finished = true));
  const deadline = Date.now() + timeoutMs;
  while (!finished && !until(run) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  controller.abort();
  await done;
  return run;
}
