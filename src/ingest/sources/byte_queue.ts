/**
 * A growable byte buffer for stream parsers: append chunks at the end, consume from the front,
 * search; memory is reused (compacted) rather than reallocated per chunk.
 *
 * @module
 */

/** Bytes received and not yet consumed. */
export class ByteQueue {
  #buf: Uint8Array;
  #start = 0;
  #end = 0;

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

  /** Index of `pattern` at or after `from`, or -1. */
  indexOf(pattern: Uint8Array, from = 0): number {
    const view = this.view();
    const first = pattern[0];
    for (let i = view.indexOf(first, from); i >= 0; i = view.indexOf(first, i + 1)) {
      if (i + pattern.length > view.length) return -1;
      let k = 1;
      while (k < pattern.length && view[i + k] === pattern[k]) k++;
      if (k === pattern.length) return i;
    }
    return -1;
  }
}
