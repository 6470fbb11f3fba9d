/**
 * The JSON-lines sink: one event per line on stdout (or any writer).
 *
 * @module
 */
import type { IngestEvent } from "../event.ts";
import type { Sink } from "./sink.ts";

/** Writes bytes completely (stdout by default). */
export type WriteAll = (bytes: Uint8Array) => Promise<void>;

async function writeStdout(bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await Deno.stdout.write(bytes.subarray(at));
}

/** Events as JSON lines. */
export class JsonLinesSink implements Sink {
  /** "stdout". */
  readonly name = "stdout";
  readonly #write: WriteAll;
  readonly #encoder = new TextEncoder();
  #chain: Promise<void> = Promise.resolve();

  /** Creates the sink; `write` defaults to stdout. */
  constructor(write: WriteAll = writeStdout) {
    this.#write = write;
  }

  /** Queues one line; lines keep their order. */
  write(event: IngestEvent): Promise<void> {
    const bytes = this.#encoder.encode(JSON.stringify(event) + "\n");
    this.#chain = this.#chain.then(() => this.#write(bytes));
    return this.#chain;
  }

  /** Waits for the lines written so far. */
  async close(): Promise<void> {
    await this.#chain;
  }
}
