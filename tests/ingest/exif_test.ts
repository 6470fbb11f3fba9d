/**
 * Camera photos carry EXIF orientation. A frame whose pixels are stored sideways with
 * Orientation 6 ("rotate 90° clockwise to display") must be classified like the same photo
 * rotated in its pixels. This depends on the image path honouring EXIF orientation (the
 * untrusted-images work in src/image/); until that is merged, this test fails.
 */
import jpegJs from "npm:jpeg-js@0.4.4";
import { assertEquals } from "../_assert.ts";
import { ingestUntil, top1, withModel } from "./_harness.ts";
import { readPhotos } from "./_photos.ts";
import { withExifOrientation } from "../image/_jpeg_dc.ts";
import { StreamSource } from "../../src/ingest/sources/stdin.ts";

/** Rotates RGBA pixels 90° counter-clockwise (what a sideways-mounted sensor stores). */
function rotateCcw(data: Uint8Array, width: number, height: number): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (y * width + x) * 4;
      const to = ((width - 1 - x) * height + y) * 4; // new size: height x width
      out.set(data.subarray(from, from + 4), to);
    }
  }
  return out;
}

Deno.test("an EXIF-rotated camera frame gives the same top-1 as the same photo rotated in its pixels", async () => {
  // A portrait subject: the photo is upright; the camera stores it rotated, with Orientation 6.
  const photo = (await readPhotos(["n02504458_African_elephant.JPEG"]))[0];
  const upright = jpegJs.decode(photo.bytes, { useTArray: true, formatAsRGBA: true });
  const sideways = rotateCcw(upright.data, upright.width, upright.height);
  const encode = (data: Uint8Array, width: number, height: number) =>
    new Uint8Array(jpegJs.encode({ data, width, height }, 92).data);
  const uprightJpeg = encode(upright.data, upright.width, upright.height);
  const exifJpeg = withExifOrientation(encode(sideways, upright.height, upright.width), 6);
  await withModel(async (model) => {
    const run = await ingestUntil({
      model,
      sources: [
        new StreamSource({ readable: ReadableStream.from([uprightJpeg]), name: "upright" }),
        new StreamSource({ readable: ReadableStream.from([exifJpeg]), name: "exif" }),
      ],
      until: () => false,
    });
    const bySource = Object.fromEntries(run.events.map((e) => [e.source, e]));
    assertEquals(top1(bySource.upright), photo.label);
    assertEquals(
      top1(bySource.exif),
      top1(bySource.upright),
      `EXIF orientation 6: top-1 ${top1(bySource.exif)} from a ${bySource.exif.frame.width}x` +
        `${bySource.exif.frame.height} frame (upright: ${upright.width}x${upright.height})`,
    );
    // The frame as displayed is as wide as the upright photo.
    assertEquals([bySource.exif.frame.width, bySource.exif.frame.height], [
      upright.width,
      upright.height,
    ]);
  });
});
