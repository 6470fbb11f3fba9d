/**
 * Progress of a weights load, as the loader reports it to an `onProgress` callback: bytes and
 * shards so far, retries, and where each shard came from; plus a one-line text rendering for
 * progress bars.
 *
 * @module
 */

/** Counters every progress event carries, cumulative since the load started. */
export interface ProgressCounters {
  /** Bytes of shards received so far (verified shards plus the parts of shards in flight). */
  loadedBytes: number;
  /** Bytes of all shards the load reads. */
  totalBytes: number;
  /** Shards verified so far. */
  loadedShards: number;
  /** Shards the load reads. */
  totalShards: number;
  /** Of the verified shards, those read from the cache. */
  cachedShards: number;
  /** Retries so far (all shards and the manifest). */
  retries: number;
}

/** A progress event of a weights load. */
export type LoadProgressEvent =
  & ProgressCounters
  & (
    | {
      /** The manifest has been read; the shards are about to be. */
      type: "manifest";
      /** The manifest's URL. */
      url: string;
      /** Whether the manifest came from the cache because the network failed. */
      fromCache: boolean;
    }
    | {
      /** More bytes of a shard arrived. */
      type: "bytes";
      /** Shard index. */
      shard: number;
    }
    | {
      /** A shard arrived whole and its sha256 matched. */
      type: "shard";
      /** Shard index. */
      shard: number;
      /** Shard file name. */
      file: string;
      /** Where its bytes came from: "network" (any `fetch`, including `file:`) or "cache". */
      from: "network" | "cache";
    }
    | {
      /** A request failed in a way worth trying again; the loader waits `delayMs` first. */
      type: "retry";
      /** Shard index, or `null` for the manifest. */
      shard: number | null;
      /** The URL that failed. */
      url: string;
      /** The attempt that is about to start (2 for the first retry). */
      attempt: number;
      /** Milliseconds to wait before it. */
      delayMs: number;
      /** Why: "HTTP 503", "timeout", "network error: ...", "hash mismatch", "truncated". */
      reason: string;
    }
    | {
      /** Every shard the load needed is in. */
      type: "done";
    }
  );

/** Receives progress events. Exceptions it throws are ignored. */
export type ProgressCallback = (event: LoadProgressEvent) => void;

function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

/**
 * One line describing a load's progress, e.g.
 * `[##########----------]  50%  5.2/10.4 MB  5/10 shards  1 retry`.
 *
 * @param width Characters of the bar between the brackets.
 */
export function formatProgress(counters: ProgressCounters, width = 24): string {
  const fraction = counters.totalBytes > 0
    ? Math.min(1, counters.loadedBytes / counters.totalBytes)
    : 1;
  const filled = Math.round(fraction * width);
  const bar = "#".repeat(filled) + "-".repeat(width - filled);
  const parts = [
    `[${bar}]`,
    `${String(Math.floor(fraction * 100)).padStart(3)}%`,
    `${megabytes(counters.loadedBytes)}/${megabytes(counters.totalBytes)} MB`,
    `${counters.loadedShards}/${counters.totalShards} shards`,
  ];
  if (counters.cachedShards > 0) parts.push(`${counters.cachedShards} cached`);
  if (counters.retries > 0) {
    parts.push(`${counters.retries} ${counters.retries === 1 ? "retry" : "retries"}`);
  }
  return parts.join("  ");
}

/** Counts a load's progress and reports it; a callback that throws is ignored. */
export class ProgressTracker implements ProgressCounters {
  loadedBytes = 0;
  totalBytes = 0;
  loadedShards = 0;
  totalShards = 0;
  cachedShards = 0;
  retries = 0;
  readonly #partial = new Map<number, number>();
  readonly #verified = { bytes: 0 };
  readonly #callback: ProgressCallback | undefined;

  constructor(callback: ProgressCallback | undefined) {
    this.#callback = callback;
  }

  emit(event: Record<string, unknown> & { type: LoadProgressEvent["type"] }): void {
    if (!this.#callback) return;
    const counters: ProgressCounters = {
      loadedBytes: this.loadedBytes,
      totalBytes: this.totalBytes,
      loadedShards: this.loadedShards,
      totalShards: this.totalShards,
      cachedShards: this.cachedShards,
      retries: this.retries,
    };
    try {
      this.#callback({ ...counters, ...event } as LoadProgressEvent);
    } catch {
      // A broken progress display must not break the load.
    }
  }

  bytes(shard: number, received: number): void {
    this.#partial.set(shard, received);
    this.#sum();
    if (received > 0) this.emit({ type: "bytes", shard });
  }

  shardDone(shard: number, file: string, byteLength: number, from: "network" | "cache"): void {
    this.#partial.delete(shard);
    this.#verified.bytes += byteLength;
    this.loadedShards++;
    if (from === "cache") this.cachedShards++;
    this.#sum();
    this.emit({ type: "shard", shard, file, from });
  }

  #sum(): void {
    let partial = 0;
    for (const n of this.#partial.values()) partial += n;
    this.loadedBytes = this.#verified.bytes + partial;
  }
}
