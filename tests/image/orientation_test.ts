/**
 * EXIF orientation on pixels (`src/image/orientation.ts`): all 8 values against transforms
 * written out by hand, and the reading of the tag from a JPEG's APP1 segment.
 *
 * @module
 */
import { assertEquals, assertThrows } from "../_assert.ts";
import { checkOrientationMode, orientPixels } from "../../src/image/orientation.ts";
import { readJpegInfo } from "../../src/image/jpeg/mod.ts";
import { encodeDcJpeg, withExifOrientation } from "./_jpeg_dc.ts";

// A 3x2 gray image:  a b c
//                    d e f
const IMAGE = {
  data: new Uint8Array([1, 2, 3, 4, 5, 6]),
  width: 3,
  height: 2,
  channels: 1 as const,
};

/** What a viewer shows for each orientation, row by row. */
const SHOWN: Record<number, number[][]> = {
  1: [[1, 2, 3], [4, 5, 6]],
  2: [[3, 2, 1], [6, 5, 4]], // mirrored
  3: [[6, 5, 4], [3, 2, 1]], // turned 180 degrees
  4: [[4, 5, 6], [1, 2, 3]], // flipped vertically
  5: [[1, 4], [2, 5], [3, 6]], // transposed
  6: [[4, 1], [5, 2], [6, 3]], // turned 90 degrees clockwise
  7: [[6, 3], [5, 2], [4, 1]], // transversed
  8: [[3, 6], [2, 5], [1, 4]], // turned 90 degrees counter-clockwise
};

Deno.test("orientPixels gives what a viewer shows for all 8 orientations", () => {
  for (let o = 1; o <= 8; o++) {
    const out = orientPixels(IMAGE, o);
    const rows = SHOWN[o];
    assertEquals([out.width, out.height], [rows[0].length, rows.length], `orientation ${o}`);
    assertEquals([...out.data], rows.flat(), `orientation ${o}`);
  }
  // RGB keeps its channels together.
  const rgb = {
    data: new Uint8Array([1, 1, 1, 2, 2, 2]),
    width: 2,
    height: 1,
    channels: 3 as const,
  };
  assertEquals([...orientPixels(rgb, 6).data], [1, 1, 1, 2, 2, 2]);
  assertEquals([...orientPixels(rgb, 2).data], [2, 2, 2, 1, 1, 1]);
  assertEquals(orientPixels(IMAGE, 0), IMAGE); // invalid values leave the pixels alone
  assertThrows(() => checkOrientationMode("auto"), RangeError);
});

Deno.test("the orientation tag is read from the JPEG's APP1 Exif segment", () => {
  const jpeg = encodeDcJpeg(16, 8, () => [10, 20, 30]);
  assertEquals(readJpegInfo(jpeg).orientation, 1);
  for (let o = 1; o <= 8; o++) {
    assertEquals(readJpegInfo(withExifOrientation(jpeg, o)).orientation, o);
  }
  assertEquals(readJpegInfo(withExifOrientation(jpeg, 9)).orientation, 1); // invalid: upright
});
