/**
 * An incremental `multipart/x-mixed-replace` parser for MJPEG streams as cameras really write
 * them: parts with `Content-Length` (ESP32-CAM, with `X-Timestamp`) or without (Frigate, found
 * by the next boundary), CRLF or bare LF line ends, and the Home Assistant quirk of declaring
 * `boundary=--frameboundary` while writing `--frameboundary` lines (a boundary line is accepted
 * with any number of leading dashes).
 *
 * @module
 */
import { ByteQueue } from "./byte_queue.ts";
import { MAX_FRAME_BYTES } from "./jpeg_splitter.ts";
import { IngestSourceError } from "../errors.ts";

/** One part of the stream. */
export interface Part {
  /** Header names lower-cased. */
  headers: Map<string, string>;
  /** The part's body. */
  body: Uint8Array;
}

/** The boundary parameter of a multipart content type, or undefined. */
export function multipartBoundary(contentType: string | null): string | undefined {
  if (!contentType || !/^\s*multipart\//i.test(contentType)) return undefined;
  const match = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match ? (match[1] ?? match[2]) : undefined;
}

const MAX_HEADER_BYTES = 16 * 1024;
const enc = new TextEncoder();
const dec = new TextDecoder();

type State = "preamble" | "headers" | "body";

/**
 * Turns chunks of a multipart body into parts.
 *
 * @throws {IngestSourceError} `PROTOCOL` for oversized headers, `TOO_LARGE` for a part over the
 * size limit.
 */
export class MultipartParser {
  readonly #queue = new ByteQueue();
  readonly #bare: Uint8Array;
  readonly #max: number;
  #state: State = "preamble";
  #headers = new Map<string, string>();
  #length?: number;
  #searchFrom = 0;
  /** The closing boundary (`--boundary--`) was seen. */
  closed = false;

  /** Creates a parser for `boundary` (as declared, with or without leading dashes). */
  constructor(boundary: string, maxPartBytes = MAX_FRAME_BYTES) {
    this.#bare = enc.encode(boundary.replace(/^-+/, ""));
    if (this.#bare.length === 0) throw new TypeError("empty multipart boundary");
    this.#max = maxPartBytes;
  }

  /** Adds bytes; returns the parts they complete. */
  push(chunk: Uint8Array): Part[] {
    this.#queue.push(chunk);
    const parts: Part[] = [];
    while (!this.closed) {
      const progressed = this.#state === "preamble"
        ? this.#preamble()
        : this.#state === "headers"
        ? this.#readHeaders()
        : this.#body(parts);
      if (!progressed) break;
    }
    if (this.#queue.length > this.#max + MAX_HEADER_BYTES) {
      throw new IngestSourceError("TOO_LARGE", `MJPEG part over ${this.#max} bytes`);
    }
    return parts;
  }

  /**
   * Finds the next boundary line at or after `from`: where the body before it ends (the line
   * break before the dashes excluded) and where the next part's headers begin.
   */
  #delimiter(from: number): { bodyEnd: number; next: number; close: boolean } | undefined {
    const q = this.#queue;
    for (let i = q.indexOf(this.#bare, from); i >= 0; i = q.indexOf(this.#bare, i + 1)) {
      let k = i;
      while (k > 0 && q.at(k - 1) === 0x2d) k--;
      if (k > 0 && q.at(k - 1) !== 0x0a) continue; // not at a line start: data, not a boundary
      let e = i + this.#bare.length;
      const close = e + 1 < q.length && q.at(e) === 0x2d && q.at(e + 1) === 0x2d;
      if (close) e += 2;
      while (e < q.length && (q.at(e) === 0x20 || q.at(e) === 0x09)) e++;
      if (e >= q.length) return undefined;
      if (q.at(e) === 0x0d) e++;
      if (e >= q.length) return undefined;
      if (q.at(e) !== 0x0a) continue;
      let bodyEnd = k;
      if (bodyEnd > 0 && q.at(bodyEnd - 1) === 0x0a) bodyEnd--;
      if (bodyEnd > 0 && q.at(bodyEnd - 1) === 0x0d) bodyEnd--;
      return { bodyEnd, next: e + 1, close };
    }
    return undefined;
  }

  #preamble(): boolean {
    const found = this.#delimiter(this.#searchFrom);
    if (!found) {
      this.#searchFrom = Math.max(0, this.#queue.length - this.#bare.length - 8);
      return false;
    }
    this.#queue.consume(found.next);
    this.#searchFrom = 0;
    this.closed = found.close;
    this.#state = "headers";
    return true;
  }

  #readHeaders(): boolean {
    const q = this.#queue;
    // A part that starts straight with image bytes has no headers.
    if (q.length >= 2 && q.at(0) === 0xff && q.at(1) === 0xd8) return this.#startBody();
    let pos = 0;
    for (;;) {
      const view = q.view();
      const nl = view.indexOf(0x0a, pos);
      if (nl < 0) {
        if (q.length > MAX_HEADER_BYTES) {
          throw new IngestSourceError("PROTOCOL", "MJPEG part headers too long");
        }
        this.#headers.clear();
        return false;
      }
      const line = dec.decode(view.subarray(pos, nl)).replace(/\r$/, "");
      pos = nl + 1;
      if (line === "") break;
      const colon = line.indexOf(":");
      if (colon > 0) {
        this.#headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
    }
    q.consume(pos);
    return this.#startBody();
  }

  #startBody(): boolean {
    const length = Number(this.#headers.get("content-length"));
    this.#length = Number.isInteger(length) && length >= 0 ? length : undefined;
    if (this.#length !== undefined && this.#length > this.#max) {
      throw new IngestSourceError("TOO_LARGE", `MJPEG part of ${this.#length} bytes`);
    }
    this.#state = "body";
    this.#searchFrom = 0;
    return true;
  }

  #body(parts: Part[]): boolean {
    const q = this.#queue;
    if (this.#length !== undefined) {
      if (q.length < this.#length) return false;
      parts.push({ headers: this.#headers, body: q.copy(0, this.#length) });
      q.consume(this.#length);
      this.#next("preamble");
      return true;
    }
    const found = this.#delimiter(this.#searchFrom);
    if (!found) {
      this.#searchFrom = Math.max(0, q.length - this.#bare.length - 8);
      return false;
    }
    parts.push({ headers: this.#headers, body: q.copy(0, found.bodyEnd) });
    q.consume(found.next);
    this.closed = found.close;
    this.#next("headers");
    return true;
  }

  #next(state: State): void {
    this.#headers = new Map();
    this.#length = undefined;
    this.#searchFrom = 0;
    this.#state = state;
  }
}
