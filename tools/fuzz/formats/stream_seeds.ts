/**
 * Seeds for the camera stream targets, made from small JPEG seeds: `multipart/x-mixed-replace`
 * bodies (an `mjpeg` input is the boundary, a line feed, then the body) with and without
 * Content-Length, CRLF or bare LF, Home Assistant's extra dashes and headerless parts; and bare
 * runs of JPEGs (`jpeg-stream`) with bytes between them and an EXIF thumbnail inside one.
 *
 * @module
 */
import { concatBytes } from "../../../src/_util.ts";
import type { Format } from "../mutator.ts";

const enc = new TextEncoder();

/** An `mjpeg` input: the boundary line, then the body. */
export function mjpegInput(boundary: string, body: Uint8Array): Uint8Array {
  return concatBytes([enc.encode(`${boundary}\n`), body]);
}

function multipart(
  boundary: string,
  frames: Uint8Array[],
  options: { crlf: boolean; length: boolean; headers: boolean; close: boolean },
): Uint8Array {
  const nl = options.crlf ? "\r\n" : "\n";
  const parts: Uint8Array[] = [];
  for (const frame of frames) {
    const head = options.headers
      ? `Content-Type: image/jpeg${nl}${
        options.length ? `Content-Length: ${frame.length}${nl}` : ""
      }${nl}`
      : "";
    parts.push(enc.encode(`--${boundary}${nl}${head}`), frame, enc.encode(nl));
  }
  if (options.close) parts.push(enc.encode(`--${boundary}--${nl}`));
  return concatBytes(parts);
}

/** A copy of `jpeg` with `thumbnail` inside an APP1 segment after the SOI. */
function withThumbnail(jpeg: Uint8Array, thumbnail: Uint8Array): Uint8Array {
  const length = thumbnail.length + 8;
  const app1 = concatBytes([
    new Uint8Array([0xff, 0xe1, length >> 8, length & 255]),
    enc.encode("Exif\0\0"),
    thumbnail,
  ]);
  return concatBytes([jpeg.subarray(0, 2), app1, jpeg.subarray(2)]);
}

/** The seeds of a stream target, from JPEG seeds (the first few, small ones are used). */
export function streamSeeds(format: Format, jpegs: readonly Uint8Array[]): Uint8Array[] {
  const small = jpegs.filter((j) => j.length < 4096).slice(0, 3);
  const [a, b, c] = [small[0], small[1] ?? small[0], small[2] ?? small[0]];
  if (format === "mjpeg") {
    return [
      mjpegInput(
        "frame",
        multipart("frame", [a, b], { crlf: true, length: true, headers: true, close: false }),
      ),
      mjpegInput(
        "--frameboundary",
        multipart("--frameboundary", [b, c], {
          crlf: false,
          length: false,
          headers: true,
          close: true,
        }),
      ),
      mjpegInput(
        "123456789000000000000987654321",
        multipart("123456789000000000000987654321", [a, c], {
          crlf: true,
          length: false,
          headers: false,
          close: false,
        }),
      ),
      mjpegInput(
        "x",
        multipart("x", [c, a, b], { crlf: true, length: true, headers: true, close: true }),
      ),
    ];
  }
  return [
    concatBytes([a, b, c]),
    concatBytes([enc.encode("garbage"), a.subarray(0, a.length >> 1), b, new Uint8Array(64), c]),
    concatBytes([withThumbnail(b, a), c]),
  ];
}
