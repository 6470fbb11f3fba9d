/**
 * The pixel budget (`src/image/budget.ts`) and its use by `decodeImage` for every format.
 *
 * @module
 */
import { assertEquals, assertRejects, assertThrows } from "../_assert.ts";
import { checkBudget, checkMaxPixels, DEFAULT_MAX_PIXELS } from "../../src/image/budget.ts";
import { decodeImage } from "../../src/image/decode.ts";
import { ImageDecodeError } from "../../src/errors.ts";
import { DEFAULT_MAX_PIXELS as EXPORTED } from "../../mod.ts";
import { encodeDcJpeg } from "./_jpeg_dc.ts";
import { encodePngPixels } from "./_png_encode.ts";
import { encodeTiff } from "./_tiff.ts";
import { encodeGif } from "./_gif.ts";

Deno.test("maxPixels: default, validation and the TOO_LARGE message", () => {
  assertEquals(DEFAULT_MAX_PIXELS, 4096 * 2048);
  assertEquals(EXPORTED, DEFAULT_MAX_PIXELS);
  assertEquals(checkMaxPixels(undefined), DEFAULT_MAX_PIXELS);
  assertEquals(checkMaxPixels(Infinity), Infinity);
  for (const bad of [0, -1, 1.5, NaN, "10"]) assertThrows(() => checkMaxPixels(bad), RangeError);
  checkBudget("PNG", 100, 100, 10_000);
  const error = assertThrows(() => checkBudget("PNG", 101, 100, 10_000), ImageDecodeError);
  assertEquals(error.code, "TOO_LARGE");
  assertEquals(error.message.includes("101x100"), true);
});

Deno.test("every format checks the budget; a JPEG counts its DCT-reduced size", async () => {
  const [w, h] = [64, 48]; // 3072 pixels
  const rgb = new Uint8Array(w * h * 3).fill(100);
  const files: [string, Uint8Array][] = [
    ["PNG", encodePngPixels(rgb, w, h, 3)],
    ["TIFF", encodeTiff(rgb, w, h, 3, { compression: "lzw" })],
    ["GIF", encodeGif(rgb, w, h)],
    ["JPEG", encodeDcJpeg(w, h, () => [100, 100, 100])],
  ];
  for (const [name, bytes] of files) {
    const error = await assertRejects(
      () => decodeImage(bytes, { maxPixels: 3000 }),
      ImageDecodeError,
    );
    assertEquals(error.code, "TOO_LARGE", name);
    const pixels = await decodeImage(bytes, { maxPixels: 3072 });
    assertEquals([pixels.width, pixels.height], [w, h], name);
  }
  // Asked for at least 8x6, the JPEG is decoded at 1/8: its 8x6 = 48 pixels fit a budget of 48
  // although the full 64x48 does not. (With orientation on, the larger minimum applies to both
  // sides, as a quarter turn swaps them.)
  const jpeg = files[3][1];
  const options = { maxPixels: 48, minWidth: 8, minHeight: 6, orientation: "ignore" } as const;
  const small = await decodeImage(jpeg, options);
  assertEquals([small.width, small.height], [8, 6]);
});
