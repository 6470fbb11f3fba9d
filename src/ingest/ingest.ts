/**
 * The ingest loop: sources hand frames to a {@linkcode LatestFrameScheduler}; one consumer
 * takes them round-robin, skips frames that barely changed (`minChange`), classifies them with
 * the model's own `classifyDetailed` (labels, and with `embed` the embedding from the same run),
 * and writes an event to every sink. A bad frame (HTML, a truncated JPEG) is an
 * `ImageDecodeError`, logged once per change of state; no source error ends the loop. Aborting `signal` stops the sources, finishes the frame being
 * inferred, and flushes the sinks.
 *
 * @module
 */
import type { MobileNet } from "../mobilenet.ts";
import { ImageDecodeError } from "../errors.ts";
import type { ResizeMode } from "../image/preprocess.ts";
import { errorMessage } from "../_util.ts";
import { Backoff } from "./backoff.ts";
import { changeBetween, thumbnail } from "./change.ts";
import { type Clock, systemClock } from "./clock.ts";
import { INGEST_RESIZE } from "./defaults.ts";
import { buildEvent, type IngestEvent } from "./event.ts";
import { type Logger, StatusBoard } from "./log.ts";
import { LatestFrameScheduler, type Scheduled } from "./scheduler.ts";
import type { Sink } from "./sinks/sink.ts";
import type { Frame, Source } from "./types.ts";

/** Options of {@linkcode runIngest}. */
export interface IngestOptions {
  /** The cameras. */
  sources: Source[];
  /** A loaded model (the caller loads and disposes it). */
  model: MobileNet;
  /** Where events go. */
  sinks: Sink[];
  /** Labels per event. @default {5} */
  topK?: number;
  /** Add the pooled features to each event (one more pass of the network). @default {false} */
  embed?: boolean;
  /** How frames are fitted to the input. @default {INGEST_RESIZE ("stretch")} */
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

/** Counters of one source (or MQTT topic). */
export interface SourceStats {
  /** Frames received. */
  received: number;
  /** Frames inferred (events written). */
  inferred: number;
  /** Stale frames replaced by newer ones before inference. */
  dropped: number;
  /** Frames skipped by `minChange`. */
  unchanged: number;
  /** Frames that could not be decoded. */
  bad: number;
}

/** What {@linkcode runIngest} resolves with. */
export interface IngestStats {
  /** Counters per source. */
  sources: Record<string, SourceStats>;
  /** Frames waiting when the loop was stopped (discarded). */
  discarded: number;
}

function checkOptions(options: IngestOptions): void {
  const topK = options.topK ?? 5;
  if (!Number.isInteger(topK) || topK < 1) {
    throw new RangeError(`topK must be a positive integer, got ${topK}`);
  }
  const minChange = options.minChange ?? 0;
  if (!(minChange >= 0 && minChange <= 1)) {
    throw new RangeError(`minChange must be in [0, 1], got ${minChange}`);
  }
  if (options.sources.length === 0) throw new RangeError("no source to ingest from");
}

/**
 * Runs until `signal` aborts (or every source has ended and the last frames are inferred).
 *
 * @throws {RangeError} for bad options.
 */
export async function runIngest(options: IngestOptions): Promise<IngestStats> {
  checkOptions(options);
  const clock = options.clock ?? systemClock;
  const log = options.log ?? (() => {});
  const board = new StatusBoard(log, () => clock.now());
  const scheduler = new LatestFrameScheduler();
  const stats: IngestStats = { sources: {}, discarded: 0 };
  const statsOf = (source: string) =>
    stats.sources[source] ??= { received: 0, inferred: 0, dropped: 0, unchanged: 0, bad: 0 };
  const stop = new AbortController();
  const onAbort = () => {
    stop.abort();
    stats.discarded += scheduler.close();
  };
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const emit = (frame: Frame) => {
    if (!scheduler.accepting) return; // stopping: the source is about to return
    statsOf(frame.source).received++;
    if (scheduler.offer(frame)) statsOf(frame.source).dropped++;
  };
  const running = options.sources.map((source) =>
    supervise(source, { emit, board, log, clock, signal: stop.signal })
  );
  Promise.all(running).then(() => scheduler.end());
  const infer = new FrameInference(options, board, statsOf, clock);
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
    await Promise.all(
      options.sinks.map((sink) =>
        sink.close(options.flushTimeoutMs ?? 5000).catch((error) =>
          log({
            time: clock.now(),
            level: "error",
            source: sink.name,
            message: errorMessage(error),
          })
        )
      ),
    );
  }
  return stats;
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

/** Inference of one scheduled frame, with its change check, event and error handling. */
class FrameInference {
  readonly #options: IngestOptions;
  readonly #board: StatusBoard;
  readonly #statsOf: (source: string) => SourceStats;
  readonly #clock: Clock;
  readonly #thumbs = new Map<string, Float32Array>();

  constructor(
    options: IngestOptions,
    board: StatusBoard,
    statsOf: (source: string) => SourceStats,
    clock: Clock,
  ) {
    this.#options = options;
    this.#board = board;
    this.#statsOf = statsOf;
    this.#clock = clock;
  }

  async run({ frame, dropped }: Scheduled): Promise<void> {
    const o = this.#options;
    const stats = this.#statsOf(frame.source);
    const start = this.#clock.now();
    try {
      let thumb: Float32Array | undefined;
      if ((o.minChange ?? 0) > 0) {
        thumb = await thumbnail(frame.bytes);
        const last = this.#thumbs.get(frame.source);
        if (last && changeBetween(last, thumb) < o.minChange!) {
          stats.unchanged++;
          return;
        }
      }
      const t0 = performance.now();
      const result = await o.model.classifyDetailed(frame.bytes, {
        topK: o.topK ?? 5,
        resize: o.resize ?? INGEST_RESIZE,
        embedding: o.embed === true,
      });
      const embedding = result.embedding;
      if (thumb) this.#thumbs.set(frame.source, thumb);
      stats.inferred++;
      if (this.#board.get(frame.source, "frames") !== undefined) {
        this.#board.set(frame.source, "frames", "ok", "frames decode again");
      }
      const event = buildEvent(frame, result, {
        dropped,
        queueMs: start - frame.time,
        totalMs: performance.now() - t0,
        embedding,
      });
      await this.#write(event);
    } catch (error) {
      stats.bad++;
      if (!(error instanceof ImageDecodeError)) {
        const message = errorMessage(error);
        this.#board.set(
          frame.source,
          "frames",
          `error:${message}`,
          `inference failed: ${message}`,
          "error",
        );
        return;
      }
      this.#board.set(
        frame.source,
        "frames",
        `bad:${error.code}`,
        `bad frame (${frame.bytes.length} bytes): ImageDecodeError ${error.code}: ${error.message}`,
        "warn",
      );
    }
  }

  async #write(event: IngestEvent): Promise<void> {
    for (const sink of this.#options.sinks) {
      try {
        await sink.write(event);
      } catch (error) {
        this.#board.set(
          sink.name,
          "sink",
          `error:${errorMessage(error)}`,
          errorMessage(error),
          "error",
        );
      }
    }
    this.#options.onEvent?.(event);
  }
}
