/**
 * Reading an MJPEG stream (`multipart/x-mixed-replace`) from an open response: every part
 * becomes a frame handed to the scheduler at once (latest frame wins there, so a slow model
 * never makes a backlog here; the stream is read as fast as the camera sends). A body that is
 * not multipart but a bare run of JPEGs (`video/x-motion-jpeg`), or a multipart type declared
 * without its boundary, is split on the JPEG markers with the {@linkcode JpegSplitter}.
 *
 * @module
 */
import { multipartBoundary, MultipartParser } from "./multipart.ts";
import { JpegSplitter } from "./jpeg_splitter.ts";
import { readChunks } from "./http_io.ts";

/** How a stream's frames are delimited. */
export interface MjpegFraming {
  /**
   * `multipart`: parts between boundary lines; `bare`: JPEGs back to back; `no boundary`: a
   * multipart type that does not say its boundary (split on the JPEG markers, as `bare`).
   */
  kind: "multipart" | "bare" | "no boundary";
  /** The boundary, for `multipart`. */
  boundary?: string;
}

const BARE_MJPEG = /^\s*(?:video\/(?:x-motion-jpeg|x-mjpeg|mjpeg)|image\/x-mjpeg)\s*(?:;|$)/i;

/**
 * How a response's Content-Type says its frames are delimited, or undefined for anything that
 * is not a stream (a snapshot).
 *
 * @example
 * ```ts
 * import { mjpegFraming } from "./mjpeg.ts";
 * mjpegFraming("multipart/x-mixed-replace;boundary=frame"); // {kind: "multipart", boundary: …}
 * mjpegFraming("multipart/x-mixed-replace"); // {kind: "no boundary"}
 * mjpegFraming("video/x-motion-jpeg"); // {kind: "bare"}
 * mjpegFraming("image/jpeg"); // undefined
 * ```
 */
export function mjpegFraming(contentType: string | null): MjpegFraming | undefined {
  const type = contentType ?? "";
  if (BARE_MJPEG.test(type)) return { kind: "bare" };
  if (!/^\s*multipart\//i.test(type)) return undefined;
  const boundary = multipartBoundary(type);
  return boundary === undefined ? { kind: "no boundary" } : { kind: "multipart", boundary };
}

/** Options of {@linkcode readMjpeg}. */
export interface MjpegReadOptions {
  /** The multipart boundary; without one the body is split as bare JPEGs. */
  boundary?: string;
  /** Told what the JPEG splitter skipped (bare streams only; see {@linkcode JpegSplitter}). */
  onSkip?: (skip: { reason: string; bytes: number; message: string }) => void;
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
 * `PROTOCOL` (a boundary over 70 characters, oversized part headers) or `TOO_LARGE`.
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
  const splitter = new JpegSplitter(options.maxFrameBytes, { onSkip: options.onSkip });
  for await (const chunk of readChunks(body, options.readTimeoutMs)) {
    for (const image of splitter.push(chunk)) options.onFrame(image);
  }
}
