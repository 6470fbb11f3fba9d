/**
 * A growable byte buffer for stream parsers: append chunks at the end, consume from the front,
 * search; memory is reused (compacted) rather than reallocated per chunk. Every search here is
 * linear: a {@linkcode QueueSearch} resumes where it stopped and never reads a byte twice, so
 * a parser stays linear however its input is chunked. `examined` counts the bytes the searches
 * and `at` read, the measure of a parser's work that the tests hold to a small multiple of the
 * bytes pushed.
 *
 * @module
 */

/** Bytes received and not yet consumed. */
export class ByteQueue {
  #buf: Uint8Array;
  #start = 0;
  #end = 0;
  /** Bytes read by `at`, `indexOf`, `indexOfByte` and searches since creation (parsing work). */
  examined = 0;

  /** Creates an empty queue with room for `capacity` bytes to begin with. */
  constructor(capacity = 64 * 1024) {
    this.#buf = new Uint8Array(capacity);
  }

  /** Bytes held. */
  get length(): number {
    return this.#end - this.#start;
  }

  /** Appends a chunk. */
  push(chunk: Uint8Array): void {
    if (this.#end + chunk.length > this.#buf.length) {
      const held = this.length;
      if (held + chunk.length > this.#buf.length) {
        const grown = new Uint8Array(Math.max(held + chunk.length, this.#buf.length * 2));
        grown.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = grown;
      } else {
        this.#buf.copyWithin(0, this.#start, this.#end);
      }
      this.#start = 0;
      this.#end = held;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /** The byte at `index` (from the front). */
  at(index: number): number {
    this.examined++;
    return this.#buf[this.#start + index];
  }

  /** A view of bytes `[from, to)` (valid until the next push). */
  view(from = 0, to = this.length): Uint8Array {
    return this.#buf.subarray(this.#start + from, this.#start + to);
  }

  /** A copy of bytes `[from, to)`. */
  copy(from: number, to: number): Uint8Array {
    return this.view(from, to).slice();
  }

  /** Drops `count` bytes from the front. */
  consume(count: number): void {
    this.#start = Math.min(this.#end, this.#start + count);
    if (this.#start === this.#end) this.#start = this.#end = 0;
  }

  /** Index of the byte `value` at or after `from`, or -1. */
  indexOfByte(value: number, from = 0): number {
    const found = this.view().indexOf(value, from);
    this.examined += (found < 0 ? this.length : found + 1) - Math.min(from, this.length);
    return found;
  }

  /** Index of `pattern` at or after `from`, or -1 (linear: see {@linkcode QueueSearch}). */
  indexOf(pattern: Uint8Array, from = 0): number {
    const search = new QueueSearch(pattern);
    search.reset(from);
    return search.next(this);
  }
}

/**
 * An incremental Knuth-Morris-Pratt search for one pattern in a {@linkcode ByteQueue}: each
 * call resumes where the last one stopped (also after more bytes were pushed), so a whole stream
 * costs at most two comparisons per byte, whatever the pattern (`aaaa` over a run of `a`) and
 * however the bytes arrive. Runs of bytes that cannot start a match are skipped natively.
 *
 * @example
 * ```ts
 * import { ByteQueue, QueueSearch } from "./byte_queue.ts";
 * const queue = new ByteQueue();
 * const search = new QueueSearch(new TextEncoder().encode("--frame"));
 * queue.push(new TextEncoder().encode("xx--fr"));
 * search.next(queue); // -1: not yet
 * queue.push(new TextEncoder().encode("ame\r\n"));
 * search.next(queue); // 2
 * ```
 */
export class QueueSearch {
  readonly #pattern: Uint8Array;
  readonly #fail: Int32Array;
  #pos = 0;
  #matched = 0;

  /** Prepares the search (the pattern must not be empty). */
  constructor(pattern: Uint8Array) {
    if (pattern.length === 0) throw new RangeError("empty search pattern");
    this.#pattern = pattern;
    this.#fail = failureTable(pattern);
  }

  /** Starts over at `from` (after the queue's front was consumed, indices moved). */
  reset(from = 0): void {
    this.#pos = from;
    this.#matched = 0;
  }

  /**
   * The start of the next match that `accept` takes (each match is offered once, in order), or
   * -1 when the bytes held contain no further one yet.
   */
  next(queue: ByteQueue, accept?: (start: number) => boolean): number {
    const view = queue.view();
    const p = this.#pattern;
    const fail = this.#fail;
    let i = this.#pos;
    let j = this.#matched;
    let work = 0;
    let found = -1;
    while (i < view.length) {
      if (j === 0) {
        const at = view.indexOf(p[0], i);
        work += (at < 0 ? view.length : at + 1) - i;
        if (at < 0) i = view.length;
        else (i = at + 1), (j = 1);
      } else {
        const b = view[i++];
        work++;
        while (j > 0 && b !== p[j]) j = fail[j - 1], work++;
        if (b === p[j]) j++;
      }
      if (j === p.length) {
        j = fail[j - 1];
        if (accept === undefined || accept(i - p.length)) {
          found = i - p.length;
          break;
        }
      }
    }
    queue.examined += work;
    this.#pos = i;
    this.#matched = j;
    return found;
  }
}

/** `fail[k]`: the longest proper prefix of `pattern[0..k]` that is also its suffix. */
function failureTable(pattern: Uint8Array): Int32Array {
  const fail = new Int32Array(pattern.length);
  for (let k = 1, j = 0; k < pattern.length; k++) {
    while (j > 0 && pattern[k] !== pattern[j]) j = fail[j - 1];
    if (pattern[k] === pattern[j]) j++;
    fail[k] = j;
  }
  return fail;
}
