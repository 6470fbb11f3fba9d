/**
 * The ingest loop: sources hand frames to a {@linkcode LatestFrameScheduler}; one consumer
 * takes them round-robin and hands each to {@linkcode FrameInference} (change check, the
 * camera's head and zone, state confirmation, collecting, the event to every sink). A bad frame
 * (HTML, a truncated JPEG) is an `ImageDecodeError`, logged once per change of state; no source
 * error ends the loop. Aborting `signal` stops the sources, finishes the frame being inferred,
 * and flushes the sinks.
 *
 * @module
 */
import type { MobileNet } from "../mobilenet.ts";
import type { ResizeMode } from "../image/preprocess.ts";
import { errorMessage } from "../_util.ts";
import { Backoff, type Clock, systemClock } from "../clock.ts";
import { type Camera, type CameraInput, toCamera } from "./camera.ts";
import { checkCollectOptions } from "./collect.ts";
import type { IngestEvent } from "./event.ts";
import { FrameInference, type ReadyCamera } from "./infer.ts";
import { emptyStats, type IngestStats } from "./stats.ts";
import { type Logger, StatusBoard } from "./log.ts";
import { LatestFrameScheduler } from "./scheduler.ts";
import type { Sink } from "./sinks/sink.ts";
import type { Frame, Source } from "./types.ts";

export type { IngestStats, SourceStats } from "./stats.ts";

/** Options of {@linkcode runIngest}. */
export interface IngestOptions {
  /** The cameras: sources, or sources with their own settings (a name, a head, a zone, ...). */
  sources: CameraInput[];
  /** A loaded model (the caller loads and disposes it); a camera's head is applied to it. */
  model: MobileNet;
  /** Where events go. */
  sinks: Sink[];
  /** Labels per event (a head's classes: at most its count). @default {5} */
  topK?: number;
  /** Add the pooled features to each event (from the same network run). @default {false} */
  embed?: boolean;
  /**
   * How frames are fitted to the input, for cameras without a head (a head's own mode wins).
   * @default {INGEST_RESIZE ("stretch")}
   */
  resize?: ResizeMode;
  /**
   * Skip a frame whose 16x16 thumbnail differs from the last inferred one of its source by less
   * than this mean fraction of full scale (0 infers every frame). @default {0}
   */
  minChange?: number;
  /** Where log records go (redact them; see `redactingLogger`). @default {no logging} */
  log?: Logger;
  /** Time, sleeps and randomness. */
  clock?: Clock;
  /** Stops the loop. */
  signal?: AbortSignal;
  /** Time allowed to flush the sinks when stopping. @default {5000} */
  flushTimeoutMs?: number;
  /** Called with each event, after the sinks. */
  onEvent?: (event: IngestEvent) => void;
}

/** Checks the options and applies each camera's head to the model. @throws see runIngest */
function prepare(options: IngestOptions): ReadyCamera[] {
  const topK = options.topK ?? 5;
  if (!Number.isInteger(topK) || topK < 1) {
    throw new RangeError(`topK must be a positive integer, got ${topK}`);
  }
  const minChange = options.minChange ?? 0;
  if (!(minChange >= 0 && minChange <= 1)) {
    throw new RangeError(`minChange must be in [0, 1], got ${minChange}`);
  }
  if (options.sources.length === 0) throw new RangeError("no source to ingest from");
  return options.sources.map((input) => {
    const camera: Camera = toCamera(input);
    if (camera.collect) checkCollectOptions(camera.collect);
    return { ...camera, model: camera.head ? options.model.withHead(camera.head) : options.model };
  });
}

/**
 * Runs until `signal` aborts (or every source has ended and the last frames are inferred).
 *
 * @throws {RangeError} for bad options; {@linkcode HeadError} `MODEL_MISMATCH` for a camera
 * whose head does not fit the model.
 */
export async function runIngest(options: IngestOptions): Promise<IngestStats> {
  const cameras = prepare(options);
  const clock = options.clock ?? systemClock;
  const log = options.log ?? (() => {});
  const board = new StatusBoard(log, () => clock.now());
  const scheduler = new LatestFrameScheduler();
  const stats: IngestStats = { sources: {}, discarded: 0 };
  const infer = new FrameInference(options, { board, stats, clock, log });
  const stop = new AbortController();
  const onAbort = () => {
    stop.abort();
    stats.discarded += scheduler.close();
  };
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const gave = new Set<Source>();
  const emitFor = (camera: ReadyCamera) => (frame: Frame) => {
    if (!scheduler.accepting) return; // stopping: the source is about to return
    gave.add(camera.source);
    infer.register(frame.source, camera);
    infer.statsOf(frame.source).received++;
    infer.statsOf(frame.source).dropped += scheduler.offer(frame);
  };
  const running = cameras.map((camera) =>
    supervise(camera.source, { emit: emitFor(camera), board, log, clock, signal: stop.signal })
  );
  Promise.all(running).then(() => scheduler.end());
  try {
    while (await scheduler.ready()) {
      await catchUp(scheduler);
      const item = scheduler.take();
      if (item) await infer.run(item);
    }
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    stop.abort();
    await Promise.all(running);
    await closeSinks(options, log, clock);
  }
  for (const { source } of cameras) {
    if (gave.has(source)) continue;
    const status = board.message(source.name, "connection") ?? "never started";
    stats.sources[source.name] = { ...emptyStats(), status };
  }
  return stats;
}

/** Flushes and closes every sink within the flush timeout; a failure is logged. */
async function closeSinks(options: IngestOptions, log: Logger, clock: Clock): Promise<void> {
  await Promise.all(
    options.sinks.map((sink) =>
      sink.close(options.flushTimeoutMs ?? 5000).catch((error) =>
        log({ time: clock.now(), level: "error", source: sink.name, message: errorMessage(error) })
      )
    ),
  );
}

/** Longest time {@linkcode catchUp} gives the sources before an inference, in ms. */
const CATCH_UP_MS = 20;

/**
 * Inference blocks the thread, so bytes that arrived meanwhile are still unread. Before the
 * next inference, give the sources event-loop turns while they keep completing frames (until
 * three turns bring none, at most {@linkcode CATCH_UP_MS}), so the frame inferred is the newest
 * one the camera sent, not the next one in the socket buffer. Without this, a camera faster
 * than the model built a backlog in the network buffers (the soak saw frames 7.8 s old).
 */
async function catchUp(scheduler: LatestFrameScheduler): Promise<void> {
  const deadline = performance.now() + CATCH_UP_MS;
  let quiet = 0;
  while (quiet < 3 && performance.now() < deadline) {
    const before = scheduler.offered;
    await new Promise((resolve) => setTimeout(resolve, 0));
    quiet = scheduler.offered === before ? quiet + 1 : 0;
  }
}

/** Runs a source; restarts it (with backoff) if it ever throws, so no source error is fatal. */
async function supervise(
  source: Source,
  ctx: {
    emit: (frame: Frame) => void;
    board: StatusBoard;
    log: Logger;
    clock: Clock;
    signal: AbortSignal;
  },
): Promise<void> {
  const backoff = new Backoff({ random: () => ctx.clock.random() });
  const context = {
    signal: ctx.signal,
    emit: ctx.emit,
    clock: ctx.clock,
    log: ctx.log,
    status: (channel: string, state: string, message: string, level?: "info" | "warn" | "error") =>
      ctx.board.set(source.name, channel, state, message, level),
  };
  while (!ctx.signal.aborted) {
    try {
      await source.run(context);
      return;
    } catch (error) {
      const delay = backoff.next();
      ctx.log({
        time: ctx.clock.now(),
        level: "error",
        source: source.name,
        message: `source failed: ${errorMessage(error)}; restarting in ${delay} ms`,
      });
      await ctx.clock.sleep(delay, ctx.signal);
    }
  }
}
