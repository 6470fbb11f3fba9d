/**
 * Reading an MJPEG stream (`multipart/x-mixed-replace`) from an open response: every part
 * becomes a frame handed to the scheduler at once (latest frame wins there, so a slow model
 * never makes a backlog here; the stream is read as fast as the camera sends). A body that is
 * not multipart but a bare run of JPEGs is split with the {@linkcode JpegSplitter}.
 *
 * @module
 */
import { MultipartParser } from "./multipart.ts";
import { JpegSplitter } from "./jpeg_splitter.ts";
import { readChunks } from "./http_io.ts";

/** Options of {@linkcode readMjpeg}. */
export interface MjpegReadOptions {
  /** The multipart boundary; without one the body is split as bare JPEGs. */
  boundary?: string;
  /** Milliseconds a chunk may take before the stream counts as hung. */
  readTimeoutMs: number;
  /** Largest part accepted. */
  maxFrameBytes: number;
  /** Called with each part's body. */
  onFrame: (bytes: Uint8Array) => void;
}

/**
 * Reads frames until the stream ends; resolves then (the caller reconnects).
 *
 * @throws {IngestSourceError} `TIMEOUT` when the camera stops sending mid-stream, `NETWORK`,
 * `PROTOCOL` or `TOO_LARGE`.
 */
export async function readMjpeg(
  body: ReadableStream<Uint8Array>,
  options: MjpegReadOptions,
): Promise<void> {
  if (options.boundary) {
    const parser = new MultipartParser(options.boundary, options.maxFrameBytes);
    for await (const chunk of readChunks(body, options.readTimeoutMs)) {
      for (const part of parser.push(chunk)) {
        if (part.body.length > 0) options.onFrame(part.body);
      }
      if (parser.closed) return;
    }
    return;
  }
  const splitter = new JpegSplitter(options.maxFrameBytes);
  for await (const chunk of readChunks(body, options.readTimeoutMs)) {
    for (const image of splitter.push(chunk)) options.onFrame(image);
  }
}
