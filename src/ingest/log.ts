/**
 * Ingest logging: records with a level and a source, every message passed through the
 * {@linkcode Redactor}, and a {@linkcode StatusBoard} that logs a source's state only when it
 * changes (a camera that stays offline for an hour logs once, not once per retry).
 *
 * @module
 */
import type { Redactor } from "./redact.ts";

/** How bad a log record is. */
export type LogLevel = "info" | "warn" | "error";

/** One log line. */
export interface LogRecord {
  /** Milliseconds since the epoch. */
  time: number;
  /** Severity. */
  level: LogLevel;
  /** The source it concerns, when any (already redacted). */
  source?: string;
  /** What happened (already redacted). */
  message: string;
}

/** Where log records go. */
export type Logger = (record: LogRecord) => void;

/** A logger that masks secrets in the source and message before passing records on. */
export function redactingLogger(log: Logger, redactor: Redactor): Logger {
  return (record) =>
    log({
      ...record,
      source: record.source === undefined ? undefined : redactor.redact(record.source),
      message: redactor.redact(record.message),
    });
}

/** Formats a record as one text line: `2026-01-01T00:00:00.000Z warn source: message`. */
export function formatLogRecord(record: LogRecord): string {
  const where = record.source ? `${record.source}: ` : "";
  return `${new Date(record.time).toISOString()} ${record.level} ${where}${record.message}`;
}

/**
 * The state of each source on a few channels ("connection", "frames"), logged once per change.
 *
 * @example
 * ```ts
 * import { StatusBoard } from "./log.ts";
 * const board = new StatusBoard((r) => console.error(r.message), () => Date.now());
 * board.set("cam", "connection", "offline:HTTP_STATUS", "HTTP 401", "warn"); // logged
 * board.set("cam", "connection", "offline:HTTP_STATUS", "HTTP 401", "warn"); // not logged
 * ```
 */
export class StatusBoard {
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #states = new Map<string, { state: string; message: string }>();

  /** Creates a board that logs through `log`. */
  constructor(log: Logger, now: () => number) {
    this.#log = log;
    this.#now = now;
  }

  /** The current state of a source's channel, if any was set. */
  get(source: string, channel: string): string | undefined {
    return this.#states.get(`${channel}\0${source}`)?.state;
  }

  /** The message logged for a source's channel's current state, if any was set. */
  message(source: string, channel: string): string | undefined {
    return this.#states.get(`${channel}\0${source}`)?.message;
  }

  /** Sets a state; logs `message` and returns true only when the state changed. */
  set(
    source: string,
    channel: string,
    state: string,
    message: string,
    level: LogLevel = "info",
  ): boolean {
    const key = `${channel}\0${source}`;
    if (this.#states.get(key)?.state === state) return false;
    this.#states.set(key, { state, message });
    this.#log({ time: this.#now(), level, source, message });
    return true;
  }
}
