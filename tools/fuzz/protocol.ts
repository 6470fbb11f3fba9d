/**
 * The pipe protocol between the fuzzer and its child. The parent writes frames on the child's
 * stdin: one byte of operation, one byte of format, a 32-bit little-endian length, the payload.
 * The child answers with JSON lines on stdout, each after a record-separator prefix so that
 * anything else a library prints is told apart: `ready`, then per input `start` and `done`
 * (with its verdict, CPU and wall time), and `check` (the model's answer).
 *
 * @module
 */
import { concatBytes } from "../../src/_util.ts";
import { type Format, IMAGE_FORMATS, STREAM_FORMATS } from "./mutator.ts";
import type { Verdict } from "./targets.ts";

/** Every target, by the index that frames carry. */
export const ALL_FORMATS: readonly Format[] = [...IMAGE_FORMATS, ...STREAM_FORMATS];

/** Frame operations. */
export const OP = { run: 1, check: 2, quit: 3 } as const;

/** What starts every protocol line on the child's stdout. */
export const LINE_PREFIX = "\x1eFUZZ ";

/** One event from the child. */
export type ChildEvent =
  | { ev: "ready"; pid: number }
  | { ev: "start"; id: number }
  | { ev: "done"; id: number; verdict: Verdict; cpuMs: number; wallMs: number }
  | { ev: "check"; answer: string };

/** A frame for the child. */
export function encodeFrame(op: number, format: Format, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(6 + payload.length);
  frame[0] = op;
  frame[1] = ALL_FORMATS.indexOf(format);
  new DataView(frame.buffer).setUint32(2, payload.length, true);
  frame.set(payload, 6);
  return frame;
}

/** Reads frames from a byte stream (the child's stdin). */
export class FrameReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #chunks: Uint8Array[] = [];
  #length = 0;

  /** Reads from `stream`. */
  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  /** Reads until `count` bytes are buffered; false at the end of the stream. */
  async #fill(count: number): Promise<boolean> {
    while (this.#length < count) {
      const { value, done } = await this.#reader.read();
      if (done) return false;
      this.#chunks.push(value);
      this.#length += value.length;
    }
    return true;
  }

  /** Takes `count` buffered bytes (in one copy). */
  #take(count: number): Uint8Array {
    const all = this.#chunks.length === 1 ? this.#chunks[0] : concatBytes(this.#chunks);
    this.#chunks = all.length > count ? [all.subarray(count)] : [];
    this.#length -= count;
    return all.subarray(0, count);
  }

  /** The next frame, or `undefined` at the end of the stream. */
  async next(): Promise<{ op: number; format: Format; payload: Uint8Array } | undefined> {
    if (!await this.#fill(6)) return undefined;
    const head = this.#take(6);
    const length = new DataView(head.buffer, head.byteOffset).getUint32(2, true);
    if (!await this.#fill(length)) return undefined;
    return { op: head[0], format: ALL_FORMATS[head[1]], payload: this.#take(length).slice() };
  }
}
