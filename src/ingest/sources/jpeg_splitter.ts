/**
 * Splits a bare byte stream of JPEGs written back to back (`rpicam-vid --codec mjpeg -o -`, a
 * multipart body without lengths) into whole images by following the JPEG marker structure:
 * segments are skipped by their length (so an EXIF thumbnail's own end marker does not end the
 * image), entropy-coded data is scanned for the next real marker, and bytes between images are
 * skipped.
 *
 * @module
 */
import { ByteQueue } from "./byte_queue.ts";

/** The default largest image accepted: 32 MiB. */
export const MAX_FRAME_BYTES = 32 * 1024 * 1024;

type State = "seek" | "markers" | "entropy";

/**
 * Incremental JPEG splitter: `push` chunks, get back the complete images they finish.
 *
 * @example
 * ```ts
 * import { JpegSplitter } from "./jpeg_splitter.ts";
 * const splitter = new JpegSplitter();
 * const images = splitter.push(new Uint8Array([0xff, 0xd8, 0xff, 0xd9, 0xff, 0xd8]));
 * images.length; // 1 (the second image is not complete yet)
 * ```
 */
export class JpegSplitter {
  readonly #queue = new ByteQueue();
  readonly #max: number;
  #state: State = "seek";
  #pos = 0;
  /** Bytes skipped outside images, and images dropped as broken or too large. */
  skippedBytes = 0;
  /** Images abandoned: a new start marker before the end, or over the size limit. */
  brokenImages = 0;

  /** Creates a splitter that abandons images larger than `maxBytes`. */
  constructor(maxBytes = MAX_FRAME_BYTES) {
    this.#max = maxBytes;
  }

  /** Bytes held for an image not complete yet. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Adds bytes; returns the images they complete, in order. */
  push(chunk: Uint8Array): Uint8Array[] {
    this.#queue.push(chunk);
    const out: Uint8Array[] = [];
    for (;;) {
      const image = this.#step();
      if (image === undefined) break;
      if (image !== null) out.push(image);
    }
    if (this.#state !== "seek" && this.#queue.length > this.#max) this.#abandon(this.#queue.length);
    return out;
  }

  #abandon(upTo: number): void {
    this.brokenImages++;
    this.skippedBytes += upTo;
    this.#queue.consume(upTo);
    this.#state = "seek";
    this.#pos = 0;
  }

  /** One parsing step: an image, null (progress, no image), or undefined (need more bytes). */
  #step(): Uint8Array | null | undefined {
    const q = this.#queue;
    if (this.#state === "seek") {
      const at = q.indexOf(SOI);
      if (at < 0) {
        const keep = q.length > 0 && q.at(q.length - 1) === 0xff ? 1 : 0;
        this.skippedBytes += q.length - keep;
        q.consume(q.length - keep);
        return undefined;
      }
      this.skippedBytes += at;
      q.consume(at);
      this.#state = "markers";
      this.#pos = 2;
      return null;
    }
    return this.#state === "markers" ? this.#marker() : this.#entropy();
  }

  #marker(): Uint8Array | null | undefined {
    const q = this.#queue;
    let p = this.#pos;
    while (p < q.length && q.at(p) === 0xff && p + 1 < q.length && q.at(p + 1) === 0xff) p++;
    if (p + 1 >= q.length) return undefined;
    if (q.at(p) !== 0xff) {
      this.#abandon(p); // not a marker where one must be: corrupt, resynchronise
      return null;
    }
    const m = q.at(p + 1);
    if (m === 0xd9) {
      if (p + 2 > this.#max) {
        this.#abandon(p + 2);
        return null;
      }
      const image = q.copy(0, p + 2);
      q.consume(p + 2);
      this.#state = "seek";
      this.#pos = 0;
      return image;
    }
    if (m === 0xd8) {
      this.#abandon(p); // a new image began before this one ended
      return null;
    }
    if ((m >= 0xd0 && m <= 0xd7) || m === 0x01) {
      this.#pos = p + 2;
      return null;
    }
    if (p + 3 >= q.length) return undefined;
    const length = (q.at(p + 2) << 8) | q.at(p + 3);
    if (length < 2) {
      this.#abandon(p + 2);
      return null;
    }
    this.#pos = p + 2 + length;
    if (m === 0xda) this.#state = "entropy";
    return null;
  }

  #entropy(): Uint8Array | null | undefined {
    const q = this.#queue;
    const view = q.view();
    let p = this.#pos;
    for (;;) {
      p = view.indexOf(0xff, p);
      if (p < 0 || p + 1 >= view.length) {
        this.#pos = p < 0 ? view.length : p;
        return undefined;
      }
      const next = view[p + 1];
      if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) p += 2;
      else if (next === 0xff) p += 1;
      else break;
    }
    this.#pos = p;
    this.#state = "markers";
    return null;
  }
}

const SOI = new Uint8Array([0xff, 0xd8]);
