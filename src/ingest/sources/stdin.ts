/**
 * The stdin source (`-`): a bare MJPEG byte stream, JPEGs back to back, as
 * `rpicam-vid -t 0 --codec mjpeg -o -` writes it on a Raspberry Pi, split on the JPEG markers.
 * The source ends at end of input.
 *
 * @module
 */
import { errorMessage } from "../../_util.ts";
import type { Source, SourceContext } from "../types.ts";
import { JpegSplitter, MAX_FRAME_BYTES } from "./jpeg_splitter.ts";
import { skipLog } from "./_skips.ts";

/** Options of {@linkcode StreamSource}. */
export interface StreamSourceOptions {
  /** The byte stream. @default {Deno.stdin.readable} */
  readable?: ReadableStream<Uint8Array>;
  /** How the source is shown. @default {"stdin"} */
  name?: string;
  /** Largest image accepted. @default {33554432} */
  maxFrameBytes?: number;
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
    try {
      context.status("connection", "open", "reading JPEGs");
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        for (const bytes of splitter.push(value)) {
          skips.onImage();
          context.emit({ source: this.name, bytes, time: context.clock.now() });
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
}
