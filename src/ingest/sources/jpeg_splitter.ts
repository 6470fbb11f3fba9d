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
/** The default longest run of FF fill bytes before a marker: 64 KiB (encoders write a few). */
export const MAX_FILL_BYTES = 64 * 1024;
/** Bytes skipped with no image start before that is reported (once per such run). */
const NO_IMAGE_REPORT_BYTES = 1024 * 1024;

type State = "seek" | "markers" | "entropy";

/** Why bytes were skipped: an abandoned image, or a long run with no image start. */
type SkipReason = "FILL" | "RESTART" | "CORRUPT" | "TOO_LARGE" | "NO_IMAGE";

/**
 * Incremental JPEG splitter: `push` chunks, get back the complete images they finish. The work
 * is linear in the bytes pushed however they are chunked: each scan resumes where it stopped
 * (a run of FF fill bytes is read once, not again at every push), and a fill run longer than
 * `maxFillBytes` abandons the image.
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
  readonly #maxFill: number;
  readonly #onSkip?: (skip: { reason: SkipReason; bytes: number; message: string }) => void;
  #state: State = "seek";
  #pos = 0;
  /** FF fill bytes passed over before the marker at `#pos`. */
  #fill = 0;
  /** Bytes skipped since the last image start, and whether that run was reported. */
  #sinceImage = 0;
  #reported = false;
  /** Bytes skipped outside images, and images dropped as broken or too large. */
  skippedBytes = 0;
  /**
   * Images abandoned: a new start marker before the end, a corrupt marker structure, too long a
   * fill run, or over the size limit.
   */
  brokenImages = 0;

  /**
   * Creates a splitter that abandons images larger than `maxBytes`.
   *
   * @param maxBytes The largest image. @default {33554432}
   * @param options `maxFillBytes`: the longest run of FF fill bytes before a marker (default
   * 65536); `onSkip`: told of each abandoned image and of each run of 1 MiB with no image
   * start (`reason`, bytes skipped, a message for the log).
   * @throws {RangeError} for a size that is not a positive integer.
   */
  constructor(
    maxBytes: number = MAX_FRAME_BYTES,
    options: {
      maxFillBytes?: number;
      onSkip?: (skip: {
        reason: "FILL" | "RESTART" | "CORRUPT" | "TOO_LARGE" | "NO_IMAGE";
        bytes: number;
        message: string;
      }) => void;
    } = {},
  ) {
    this.#max = maxBytes;
    this.#maxFill = options.maxFillBytes ?? MAX_FILL_BYTES;
    for (const [name, value] of [["maxBytes", this.#max], ["maxFillBytes", this.#maxFill]]) {
      if (!(Number.isInteger(value) && (value as number) > 0)) {
        throw new RangeError(`${name} must be a positive integer, got ${value}`);
      }
    }
    this.#onSkip = options.onSkip;
  }

  /** Bytes held for an image not complete yet. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Bytes read so far to find the images (stays within a few times those pushed). */
  get examined(): number {
    return this.#queue.examined;
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
    if (this.#state !== "seek" && this.#queue.length > this.#max) {
      this.#abandon(this.#queue.length, "TOO_LARGE", `an image over ${this.#max} bytes`);
    }
    return out;
  }

  #abandon(upTo: number, reason: SkipReason, message: string): void {
    this.brokenImages++;
    this.skippedBytes += upTo;
    this.#queue.consume(upTo);
    this.#state = "seek";
    this.#pos = 0;
    this.#fill = 0;
    this.#onSkip?.({ reason, bytes: upTo, message });
  }

  /** Skips bytes outside any image; reports a long run of them once. */
  #skip(count: number): void {
    this.skippedBytes += count;
    this.#queue.consume(count);
    this.#sinceImage += count;
    if (!this.#reported && this.#sinceImage >= NO_IMAGE_REPORT_BYTES) {
      this.#reported = true;
      const bytes = this.#sinceImage;
      this.#onSkip?.({ reason: "NO_IMAGE", bytes, message: `${bytes} bytes without a JPEG start` });
    }
  }

  /** One parsing step: an image, null (progress, no image), or undefined (need more bytes). */
  #step(): Uint8Array | null | undefined {
    const q = this.#queue;
    if (this.#state === "seek") {
      const at = q.indexOf(SOI);
      if (at < 0) {
        this.#skip(q.length > 0 && q.at(q.length - 1) === 0xff ? q.length - 1 : q.length);
        return undefined;
      }
      this.#skip(at);
      this.#sinceImage = 0;
      this.#reported = false;
      this.#state = "markers";
      this.#pos = 2;
      return null;
    }
    return this.#state === "markers" ? this.#marker() : this.#entropy();
  }

  /** At `#pos` a marker must follow (after any FF fill bytes). */
  #marker(): Uint8Array | null | undefined {
    const q = this.#queue;
    let p = this.#pos;
    if (p >= q.length) return undefined;
    if (q.at(p) !== 0xff) {
      this.#abandon(p, "CORRUPT", "no marker where one must be"); // resynchronise
      return null;
    }
    const stop = p + this.#maxFill - this.#fill; // one byte past the cap at most
    while (p <= stop && p + 1 < q.length && q.at(p + 1) === 0xff) p++;
    this.#fill += p - this.#pos;
    this.#pos = p; // the fill run is read once: the next push resumes at its end
    if (this.#fill > this.#maxFill) {
      this.#abandon(p, "FILL", `a run of over ${this.#maxFill} FF fill bytes`);
      return null;
    }
    if (p + 1 >= q.length) return undefined;
    this.#fill = 0;
    const m = q.at(p + 1);
    if (m === 0xd9) {
      if (p + 2 > this.#max) {
        this.#abandon(p + 2, "TOO_LARGE", `an image over ${this.#max} bytes`);
        return null;
      }
      const image = q.copy(0, p + 2);
      q.consume(p + 2);
      this.#state = "seek";
      this.#pos = 0;
      return image;
    }
    if (m === 0xd8) {
      this.#abandon(p, "RESTART", "a new image started before this one ended");
      return null;
    }
    if ((m >= 0xd0 && m <= 0xd7) || m === 0x01) {
      this.#pos = p + 2;
      return null;
    }
    if (p + 3 >= q.length) return undefined;
    const length = (q.at(p + 2) << 8) | q.at(p + 3);
    if (length < 2) {
      this.#abandon(p + 2, "CORRUPT", `a segment length of ${length}`);
      return null;
    }
    this.#pos = p + 2 + length;
    if (m === 0xda) this.#state = "entropy";
    return null;
  }

  /** Entropy-coded data: find the next real marker (not stuffing, a restart or fill). */
  #entropy(): Uint8Array | null | undefined {
    const q = this.#queue;
    let p = this.#pos;
    for (;;) {
      p = q.indexOfByte(0xff, p);
      if (p < 0 || p + 1 >= q.length) {
        this.#pos = p < 0 ? q.length : p;
        if (p < 0) this.#fill = 0;
        return undefined;
      }
      const next = q.at(p + 1);
      if (next === 0xff) {
        p += 1;
        if (++this.#fill > this.#maxFill) {
          this.#abandon(p, "FILL", `a run of over ${this.#maxFill} FF fill bytes`);
          return null;
        }
        continue;
      }
      this.#fill = 0;
      if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) p += 2;
      else break;
    }
    this.#pos = p;
    this.#state = "markers";
    return null;
  }
}

const SOI = new Uint8Array([0xff, 0xd8]);
