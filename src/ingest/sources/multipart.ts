/**
 * An incremental `multipart/x-mixed-replace` parser for MJPEG streams as cameras really write
 * them: parts with `Content-Length` (ESP32-CAM, with `X-Timestamp`) or without (Frigate, found
 * by the next boundary), CRLF or bare LF line ends, and the Home Assistant quirk of declaring
 * `boundary=--frameboundary` while writing `--frameboundary` lines (a boundary line is accepted
 * with any number of leading dashes).
 *
 * @module
 */
import { ByteQueue, QueueSearch } from "./byte_queue.ts";
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
/** The longest boundary RFC 2046 allows (section 5.1.1), in characters. */
export const MAX_BOUNDARY_CHARS = 70;
const enc = new TextEncoder();
const dec = new TextDecoder();
const LF = 0x0a;
const CR = 0x0d;
const DASH = 0x2d;

type State = "preamble" | "headers" | "body";

/** A boundary match at a line start, its tail (`--`, blanks, line end) still being read. */
interface Candidate {
  /** Where the boundary line starts (its leading dashes included). */
  lineStart: number;
  /** Where reading the tail resumes. */
  tail: number;
  /** Whether the tail starts with `--` (the closing boundary), once known. */
  close?: boolean;
}

/** A whole boundary line: where the body before it ends, and where the next part begins. */
interface Delimiter {
  bodyEnd: number;
  next: number;
  close: boolean;
}

/**
 * The boundary's bytes without leading dashes, checked against RFC 2046.
 *
 * @throws {IngestSourceError} `PROTOCOL` for a boundary over 70 characters, or an empty one.
 */
function boundaryBytes(boundary: string): Uint8Array {
  if (boundary.length > MAX_BOUNDARY_CHARS) {
    throw new IngestSourceError(
      "PROTOCOL",
      `MJPEG boundary over ${MAX_BOUNDARY_CHARS} characters (${boundary.length}; RFC 2046 ` +
        `allows 1 to ${MAX_BOUNDARY_CHARS})`,
    );
  }
  const bare = enc.encode(boundary.replace(/^-+/, ""));
  if (bare.length === 0) {
    throw new IngestSourceError("PROTOCOL", `MJPEG boundary ${JSON.stringify(boundary)} is empty`);
  }
  return bare;
}

/**
 * Turns chunks of a multipart body into parts, in time linear in the bytes pushed however they
 * are chunked: the boundary search and the header reader resume where they stopped.
 *
 * @example
 * ```ts
 * import { MultipartParser } from "./multipart.ts";
 * const parser = new MultipartParser("frame");
 * const enc = new TextEncoder();
 * parser.push(enc.encode("--frame\r\nContent-Type: image/jpeg\r\n\r\nJPEG"));
 * const [part] = parser.push(enc.encode("\r\n--frame\r\n"));
 * part.body.length; // 4
 * ```
 *
 * @throws {IngestSourceError} `PROTOCOL` for a boundary over 70 characters (RFC 2046) or an
 * empty one (from the constructor), or oversized headers; `TOO_LARGE` for a part over the
 * size limit.
 */
export class MultipartParser {
  readonly #queue = new ByteQueue();
  readonly #bare: Uint8Array;
  readonly #search: QueueSearch;
  readonly #max: number;
  #state: State = "preamble";
  #headers = new Map<string, string>();
  #length?: number;
  #candidate?: Candidate;
  /** Headers: where the current line starts, and where the newline search resumes. */
  #lineFrom = 0;
  #scanFrom = 0;
  /** The closing boundary (`--boundary--`) was seen. */
  closed = false;

  /** Creates a parser for `boundary` (as declared, with or without leading dashes). */
  constructor(boundary: string, maxPartBytes = MAX_FRAME_BYTES) {
    this.#bare = boundaryBytes(boundary);
    this.#search = new QueueSearch(this.#bare);
    this.#max = maxPartBytes;
  }

  /** Bytes read so far to find boundaries and headers (stays within a few times those pushed). */
  get examined(): number {
    return this.#queue.examined;
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
    const held = this.#queue.length;
    if (held > this.#max + MAX_HEADER_BYTES) {
      throw new IngestSourceError(
        "TOO_LARGE",
        this.#state === "preamble"
          ? `no MJPEG boundary line in ${held} bytes`
          : `MJPEG part over ${this.#max} bytes`,
      );
    }
    return parts;
  }

  /** The next whole boundary line, or undefined until more bytes arrive. */
  #delimiter(): Delimiter | undefined {
    for (;;) {
      this.#candidate ??= this.#nextCandidate();
      if (this.#candidate === undefined) return undefined;
      const found = this.#tail(this.#candidate);
      if (found === "more") return undefined;
      this.#candidate = undefined;
      if (found) return found;
    }
  }

  /** The next boundary match at a line start (after any number of dashes), if any yet. */
  #nextCandidate(): Candidate | undefined {
    const q = this.#queue;
    let lineStart = 0;
    // The walk back stops at the previous match at the latest (a boundary's first byte is not
    // a dash), so all walks together read each byte once.
    const atLineStart = (i: number) => {
      let k = i;
      while (k > 0 && q.at(k - 1) === DASH) k--;
      lineStart = k;
      return k === 0 || q.at(k - 1) === LF;
    };
    const i = this.#search.next(q, atLineStart);
    return i < 0 ? undefined : { lineStart, tail: i + this.#bare.length };
  }

  /** Reads a candidate's tail (`--`, blanks, CR, LF): a delimiter, null (not one), or "more". */
  #tail(c: Candidate): Delimiter | null | "more" {
    const q = this.#queue;
    let e = c.tail;
    if (c.close === undefined) {
      if (e >= q.length) return "more";
      if (q.at(e) === DASH) {
        if (e + 1 >= q.length) return "more";
        if (q.at(e + 1) !== DASH) return null;
        e += 2;
      }
      c.close = e > c.tail;
    }
    while (e < q.length && (q.at(e) === 0x20 || q.at(e) === 0x09)) e++;
    c.tail = e;
    if (e < q.length && q.at(e) === CR) e++;
    if (e >= q.length) return "more";
    if (q.at(e) !== LF) return null;
    let bodyEnd = c.lineStart;
    if (bodyEnd > 0 && q.at(bodyEnd - 1) === LF) bodyEnd--;
    if (bodyEnd > 0 && q.at(bodyEnd - 1) === CR) bodyEnd--;
    return { bodyEnd, next: e + 1, close: c.close };
  }

  #preamble(): boolean {
    const found = this.#delimiter();
    if (!found) return false;
    this.#queue.consume(found.next);
    this.closed = found.close;
    this.#next("headers");
    return true;
  }

  #readHeaders(): boolean {
    const q = this.#queue;
    // A part that starts straight with image bytes has no headers.
    if (this.#lineFrom === 0 && q.length >= 2 && q.at(0) === 0xff && q.at(1) === 0xd8) {
      return this.#startBody();
    }
    for (let nl = q.indexOfByte(LF, this.#scanFrom); nl >= 0; nl = q.indexOfByte(LF, nl + 1)) {
      if (nl > MAX_HEADER_BYTES) break;
      const line = dec.decode(q.view(this.#lineFrom, nl)).replace(/\r$/, "");
      this.#lineFrom = this.#scanFrom = nl + 1;
      if (line === "") {
        q.consume(nl + 1);
        return this.#startBody();
      }
      const colon = line.indexOf(":");
      if (colon > 0) {
        this.#headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
    }
    this.#scanFrom = q.length;
    if (q.length > MAX_HEADER_BYTES) {
      throw new IngestSourceError("PROTOCOL", `MJPEG part headers over ${MAX_HEADER_BYTES} bytes`);
    }
    return false;
  }

  #startBody(): boolean {
    const length = Number(this.#headers.get("content-length"));
    this.#length = Number.isInteger(length) && length >= 0 ? length : undefined;
    if (this.#length !== undefined && this.#length > this.#max) {
      throw new IngestSourceError("TOO_LARGE", `MJPEG part of ${this.#length} bytes`);
    }
    this.#state = "body";
    this.#search.reset();
    this.#candidate = undefined;
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
    const found = this.#delimiter();
    if (!found) return false;
    parts.push({ headers: this.#headers, body: q.copy(0, found.bodyEnd) });
    q.consume(found.next);
    this.closed = found.close;
    this.#next("headers");
    return true;
  }

  #next(state: State): void {
    this.#headers = new Map();
    this.#length = undefined;
    this.#search.reset();
    this.#candidate = undefined;
    this.#lineFrom = this.#scanFrom = 0;
    this.#state = state;
  }
}
