/**
 * The stdin source (`-`): a bare MJPEG byte stream, JPEGs back to back, as
 * `rpicam-vid -t 0 --codec mjpeg -o -` writes it on a Raspberry Pi, split on the JPEG markers.
 * The source ends at end of input.
 *
 * A pipe does not say whether it is a camera or a few files (`cat a.jpg b.jpg | ...`). An input
 * is taken as finite until it has been read for `finiteMs` after its first frame (or its frames
 * pass `HOLD_BYTES`): until then its frames are marked `keep`, so that none is dropped and an
 * input that ends in time has every frame classified, in order. After that it is live: the
 * newest frame wins, as for any camera (logged once). The time counts how long the input kept
 * coming, not how long the model took: a wait between two reads counts at most
 * {@linkcode READ_GAP_MS} (an inference blocks the thread, on a slow board for seconds).
 *
 * @module
 */
import { errorMessage } from "../../_util.ts";
import type { Source, SourceContext } from "../types.ts";
import { JpegSplitter, MAX_FRAME_BYTES } from "./jpeg_splitter.ts";
import { skipLog } from "./_skips.ts";
import { HOLD_BYTES } from "../scheduler.ts";

/** The most a wait between two reads counts towards `finiteMs`, in ms. */
export const READ_GAP_MS = 50;

/** Options of {@linkcode StreamSource}. */
export interface StreamSourceOptions {
  /** The byte stream. @default {Deno.stdin.readable} */
  readable?: ReadableStream<Uint8Array>;
  /** How the source is shown. @default {"stdin"} */
  name?: string;
  /** Largest image accepted. @default {33554432} */
  maxFrameBytes?: number;
  /**
   * How long after its first frame the input may be read and still count as finite (every
   * frame classified, in order); after that it is live (the newest frame wins). @default {1000}
   */
  finiteMs?: number;
}

/** JPEGs read from a byte stream (stdin by default). */
export class StreamSource implements Source {
  /** How the source is shown. */
  readonly name: string;
  readonly #options: StreamSourceOptions;

  /** Creates the source; the stream is opened when it runs. */
  constructor(options: StreamSourceOptions = {}) {
    this.name = options.name ?? "stdin";
    this.#options = options;
  }

  /** Reads until end of input or abort. */
  async run(context: SourceContext): Promise<void> {
    const readable = this.#options.readable ?? Deno.stdin.readable;
    const skips = skipLog(context);
    const splitter = new JpegSplitter(this.#options.maxFrameBytes ?? MAX_FRAME_BYTES, {
      onSkip: skips.onSkip,
    });
    const reader = readable.getReader();
    const cancel = () => reader.cancel().catch(() => {});
    context.signal.addEventListener("abort", cancel, { once: true });
    const finite = this.#finiteness(context);
    try {
      context.status("connection", "open", "reading JPEGs");
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        finite.read();
        for (const bytes of splitter.push(value)) {
          skips.onImage();
          finite.emit(bytes);
        }
      }
      if (splitter.pending > 0 || splitter.brokenImages > 0) {
        context.log({
          time: context.clock.now(),
          level: "warn",
          source: this.name,
          message: `${splitter.brokenImages} broken image(s) skipped, ${splitter.pending} ` +
            `bytes of an unfinished image at end of input`,
        });
      }
      context.status("connection", "ended", "end of input");
    } catch (error) {
      if (!context.signal.aborted) {
        context.status("connection", "error", `read failed: ${errorMessage(error)}`, "warn");
      }
    } finally {
      context.signal.removeEventListener("abort", cancel);
      reader.releaseLock();
    }
  }

  /**
   * Emits frames marked `keep` while the input may still be finite, then as a live camera;
   * `read()` is called at each chunk read, to count the time the input has been read for.
   */
  #finiteness(context: SourceContext): { read(): void; emit(bytes: Uint8Array): void } {
    const finiteMs = this.#options.finiteMs ?? 1000;
    let last: number | undefined;
    let open = 0;
    let kept = 0;
    let live = false;
    return {
      read: () => {
        const now = context.clock.now();
        if (last !== undefined && kept > 0) open += Math.min(now - last, READ_GAP_MS);
        last = now;
      },
      emit: (bytes) => {
        const time = context.clock.now();
        kept += bytes.length;
        if (!live && (open > finiteMs || kept > HOLD_BYTES)) {
          live = true;
          context.log({
            time,
            level: "info",
            source: this.name,
            message: `still open after ${Math.round(open)} ms of reading: a live stream, the ` +
              `newest frame wins (an input that ends sooner has every frame classified)`,
          });
        }
        context.emit({ source: this.name, bytes, time, ...(live ? {} : { keep: true }) });
      },
    };
  }
}
