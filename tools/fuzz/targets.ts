/**
 * What the fuzzer runs each input through, and how it judges the result. The image formats go
 * through the library's `decodeImage` exactly as `classify` calls it (minWidth and minHeight
 * 224, the default pixel budget, EXIF orientation); the camera stream targets push the bytes
 * through `MultipartParser` or `JpegSplitter` in 4 KB chunks, as a socket would deliver them.
 *
 * A typed error with a known code, or a sane result, is fine. Anything else (another error, a
 * typed error with an unknown code, a picture whose size and data disagree) is a finding.
 *
 * @module
 */
import { decodeImage } from "../../src/image/decode.ts";
import { ImageDecodeError, type ImageDecodeErrorCode } from "../../src/errors.ts";
import { DEFAULT_MAX_PIXELS } from "../../src/image/budget.ts";
import { MIN_IMAGE_SIDE, type Pixels } from "../../src/image/pixels.ts";
import { MultipartParser } from "../../src/ingest/sources/multipart.ts";
import { JpegSplitter } from "../../src/ingest/sources/jpeg_splitter.ts";
import { type IngestErrorCode, IngestSourceError } from "../../src/ingest/errors.ts";
import type { Format } from "./mutator.ts";
import { splitMjpeg } from "./formats/stream.ts";

/** How one input fared in the child. */
export interface Verdict {
  /** decoded (a sane result), typed (a typed error with a known code), error or insane. */
  outcome: "decoded" | "typed" | "error" | "insane";
  /** The typed error's code. */
  code?: string;
  /** What went wrong (errors: name, message and the top of the stack), or what was decoded. */
  detail?: string;
}

/** A fuzz target: runs one input. */
export interface Target {
  run(bytes: Uint8Array): Promise<Verdict>;
}

// Records, so that adding a code to the union without adding it here fails the type check.
const IMAGE_CODES: Record<ImageDecodeErrorCode, true> = {
  EMPTY: true,
  UNSUPPORTED_FORMAT: true,
  TRUNCATED: true,
  CORRUPT: true,
  TOO_SMALL: true,
  TOO_LARGE: true,
  TOO_COMPLEX: true,
};
const INGEST_CODES: Record<IngestErrorCode, true> = {
  HTTP_STATUS: true,
  TIMEOUT: true,
  NETWORK: true,
  PROTOCOL: true,
  TOO_LARGE: true,
  AUTH: true,
  ENDED: true,
  CONTENT_TYPE: true,
};

/** An error as a finding: its name, message and the first frames of its stack. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return `non-Error thrown: ${String(error).slice(0, 200)}`;
  const frames = (error.stack ?? "").split("\n").filter((l) => l.trim().startsWith("at "));
  return [`${error.name}: ${error.message.slice(0, 300)}`, ...frames.slice(0, 4)].join("\n");
}

/** Judges a decoded picture: sides at least 2, within the budget, data of the right length. */
export function judgePixels(p: Pixels): Verdict {
  const detail = `${p.width}x${p.height}x${p.channels}`;
  const sane = Number.isInteger(p.width) && Number.isInteger(p.height) &&
    p.width >= MIN_IMAGE_SIDE && p.height >= MIN_IMAGE_SIDE &&
    p.width * p.height <= DEFAULT_MAX_PIXELS && [1, 3, 4].includes(p.channels) &&
    p.data instanceof Uint8Array && p.data.length === p.width * p.height * p.channels;
  return sane ? { outcome: "decoded", detail } : {
    outcome: "insane",
    detail: `${detail} with ${p.data?.length} bytes of data`,
  };
}

function judgeError(error: unknown, typed: (e: unknown) => string | undefined): Verdict {
  const code = typed(error);
  return code ? { outcome: "typed", code } : { outcome: "error", detail: describeError(error) };
}

const imageCode = (e: unknown) =>
  e instanceof ImageDecodeError && Object.hasOwn(IMAGE_CODES, e.code) ? e.code : undefined;
const ingestCode = (e: unknown) =>
  e instanceof IngestSourceError && Object.hasOwn(INGEST_CODES, e.code) ? e.code : undefined;

/** The image target: `decodeImage` with classify's options. */
const imageTarget: Target = {
  async run(bytes) {
    try {
      return judgePixels(await decodeImage(bytes, { minWidth: 224, minHeight: 224 }));
    } catch (error) {
      return judgeError(error, imageCode);
    }
  },
};

/** The bytes in chunks of 4 KB. */
function* chunks(bytes: Uint8Array): Generator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += 4096) yield bytes.subarray(at, at + 4096);
}

/** `mjpeg`: the boundary line, then the body through a MultipartParser. */
const mjpegTarget: Target = {
  run(bytes) {
    const { boundary, body } = splitMjpeg(bytes);
    // The source takes its boundary from the Content-Type; an empty one never reaches the parser.
    if (boundary.replace(/^-+/, "") === "") {
      return Promise.resolve({ outcome: "typed", code: "NO_BOUNDARY" });
    }
    try {
      const parser = new MultipartParser(boundary);
      let parts = 0;
      for (const chunk of chunks(body)) parts += parser.push(chunk).length;
      return Promise.resolve({ outcome: "decoded", detail: `${parts} parts` });
    } catch (error) {
      return Promise.resolve(judgeError(error, ingestCode));
    }
  },
};

/** `jpeg-stream`: the bytes through a JpegSplitter. */
const jpegStreamTarget: Target = {
  run(bytes) {
    try {
      const splitter = new JpegSplitter();
      let images = 0;
      for (const chunk of chunks(bytes)) images += splitter.push(chunk).length;
      return Promise.resolve({ outcome: "decoded", detail: `${images} images` });
    } catch (error) {
      return Promise.resolve(judgeError(error, ingestCode));
    }
  },
};

/** The target of `format`. */
export function createTarget(format: Format): Target {
  return format === "mjpeg"
    ? mjpegTarget
    : format === "jpeg-stream"
    ? jpegStreamTarget
    : imageTarget;
}
