/**
 * What a source logs about the bytes its `JpegSplitter` skipped (an abandoned image,
 * a long run with no image start): one line per change of reason, through `context.status`,
 * and one when whole images come again. Shared by the HTTP (bare MJPEG) and stdin sources.
 *
 * @module
 */
import type { SourceContext } from "../types.ts";

/** What a splitter reports (see `JpegSplitter`'s `onSkip`). */
export interface Skip {
  reason: string;
  bytes: number;
  message: string;
}

/** Callbacks that log a splitter's skips on the source's "stream" channel. */
export function skipLog(context: SourceContext): { onSkip(skip: Skip): void; onImage(): void } {
  let skipping = false;
  return {
    onSkip({ reason, bytes, message }) {
      skipping = true;
      context.status("stream", `skipped:${reason}`, `skipped ${bytes} bytes: ${message}`, "warn");
    },
    onImage() {
      if (!skipping) return;
      skipping = false;
      context.status("stream", "ok", "whole images again");
    },
  };
}
