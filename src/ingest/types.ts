/**
 * What sources hand to the ingest loop: frames, and the context a source runs in.
 *
 * @module
 */
import type { Clock } from "../clock.ts";
import type { Logger, LogLevel } from "./log.ts";

/** One encoded image from a camera. */
export interface Frame {
  /** The camera it came from (shown in events; never holds credentials). */
  source: string;
  /** Encoded image bytes (JPEG or PNG). */
  bytes: Uint8Array;
  /** When it was received, milliseconds since the epoch. */
  time: number;
  /** An MQTT retained message delivered at subscribe time. */
  retained?: boolean;
  /** The file it was read from, for a watched folder (its name in the folder). */
  file?: string;
  /**
   * Part of a finite input (a few JPEGs piped in): not dropped for a newer frame of its source
   * but held, in order, within bounds (see `LatestFrameScheduler`). A frame of the source
   * without it drops what is held: the source is live.
   */
  keep?: boolean;
}

/** What a running source may do. */
export interface SourceContext {
  /** Aborts when the ingest loop stops; the source must then return promptly. */
  readonly signal: AbortSignal;
  /** Hands a frame to the scheduler (latest frame wins per `frame.source`). */
  emit(frame: Frame): void;
  /** Sets the source's state on a channel; logged only when it changes. */
  status(channel: string, state: string, message: string, level?: LogLevel): void;
  /** Logs a one-off message. */
  log: Logger;
  /** Time, sleeps and randomness. */
  readonly clock: Clock;
}

/** A camera or feed of frames. `run` returns when the feed ends or `signal` aborts. */
export interface Source {
  /** How the source is shown (redacted). */
  readonly name: string;
  /** Produces frames until the feed ends or the context's signal aborts; never throws for camera faults. */
  run(context: SourceContext): Promise<void>;
}
