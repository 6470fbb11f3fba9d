/** The zone: a rectangle in fractions of the frame, cut out before the resize. */
import { assertEquals, assertThrows } from "../_assert.ts";
import {
  checkZone,
  minSourceSide,
  preprocessPixels,
  sourceRect,
} from "../../src/image/preprocess.ts";
import type { Pixels } from "../../src/image/pixels.ts";
import { mulberry32 } from "../../src/_util.ts";

function noise(width: number, height: number): Pixels {
  const random = mulberry32(5);
  const data = Uint8Array.from({ length: width * height * 3 }, () => Math.floor(random() * 256));
  return { data, width, height, channels: 3 };
}

function crop(p: Pixels, x: number, y: number, w: number, h: number): Pixels {
  const data = new Uint8Array(w * h * 3);
  for (let row = 0; row < h; row++) {
    const from = ((y + row) * p.width + x) * 3;
    data.set(p.data.subarray(from, from + w * 3), row * w * 3);
  }
  return { data, width: w, height: h, channels: 3 };
}

Deno.test("a zone is the same part of the frame at any resolution, and the mode applies within it", () => {
  const zone = { x: 0.5, y: 0.4, width: 0.3, height: 0.5 };
  assertEquals(sourceRect(640, 480, "stretch", zone), { x: 320, y: 192, width: 192, height: 240 });
  assertEquals(sourceRect(1280, 960, "stretch", zone), { x: 640, y: 384, width: 384, height: 480 });
  // center-crop: the largest centred square of the zone
  assertEquals(sourceRect(640, 480, "center-crop", zone), {
    x: 320,
    y: 216,
    width: 192,
    height: 192,
  });
  // a zone too small for one pixel still gets one
  assertEquals(sourceRect(10, 10, "stretch", { x: 0.99, y: 0, width: 0.01, height: 0.01 }), {
    x: 9,
    y: 0,
    width: 1,
    height: 1,
  });
  // decoders may reduce a frame only as far as the zone still has enough pixels
  assertEquals(minSourceSide(224, "stretch", zone), Math.ceil(224 / 0.3));
});

Deno.test("preprocessing a zone equals preprocessing the same pixels cut out first, bit for bit", () => {
  const frame = noise(96, 54);
  const zone = { x: 0.25, y: 0.5, width: 0.5, height: 0.5 };
  const rect = sourceRect(96, 54, "stretch", zone);
  const zoned = preprocessPixels(frame, 16, "stretch", undefined, 0, zone);
  const cut = preprocessPixels(crop(frame, rect.x, rect.y, rect.width, rect.height), 16, "stretch");
  assertEquals([...zoned], [...cut]);
});

Deno.test("checkZone refuses what is not a rectangle inside the frame", () => {
  assertEquals(checkZone({ x: 0, y: 0, width: 1, height: 1 }), { x: 0, y: 0, width: 1, height: 1 });
  for (
    const bad of [
      { x: 0.5, y: 0.5, width: 0.6, height: 0.1 },
      { x: -0.1, y: 0, width: 0.5, height: 0.5 },
      { x: 0, y: 0, width: 0, height: 0.5 },
      { x: 0, y: 0, width: NaN, height: 0.5 },
      [0, 0, 1, 1],
      null,
    ]
  ) assertThrows(() => checkZone(bad), RangeError);
});
