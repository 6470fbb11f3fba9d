/**
 * Where events go. A sink's `write` must not hold up inference for long (network sinks queue);
 * `close` flushes what is queued, within a deadline, and releases the sink's connections.
 *
 * @module
 */
import type { IngestEvent } from "../event.ts";

/** An event consumer. */
export interface Sink {
  /** How the sink is shown in logs (redacted). */
  readonly name: string;
  /** Takes one event. */
  write(event: IngestEvent): void | Promise<void>;
  /** Flushes queued events (waiting at most `timeoutMs`) and releases resources. */
  close(timeoutMs?: number): Promise<void>;
}
