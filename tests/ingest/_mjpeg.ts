/**
 * MJPEG parts as the three camera kinds write them, for the parser and stream tests.
 *
 * @module
 */
import { concat } from "./_photos.ts";

const enc = new TextEncoder();

/** The three ways cameras write MJPEG parts. */
export function mjpegPart(
  style: "esp32" | "frigate" | "homeassistant",
  jpeg: Uint8Array,
  i: number,
) {
  if (style === "esp32") {
    return concat(
      enc.encode(
        `\r\n--123456789000000000000987654321\r\nContent-Type: image/jpeg\r\n` +
          `Content-Length: ${jpeg.length}\r\nX-Timestamp: ${i}.${100000 + i}\r\n\r\n`,
      ),
      jpeg,
    );
  }
  if (style === "frigate") {
    return concat(
      enc.encode(`--frame\r\nContent-Type: image/jpeg\r\n\r\n`),
      jpeg,
      enc.encode("\r\n"),
    );
  }
  return concat(
    enc.encode(
      `--frameboundary\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`,
    ),
    jpeg,
    enc.encode("\r\n"),
  );
}

/** The Content-Type each style declares. */
export const MJPEG_TYPES = {
  esp32: "multipart/x-mixed-replace;boundary=123456789000000000000987654321",
  frigate: "multipart/x-mixed-replace; boundary=frame",
  homeassistant: "multipart/x-mixed-replace;boundary=--frameboundary",
} as const;
