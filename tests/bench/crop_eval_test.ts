/** The statistics and the 16:9 framing of bench/crop_eval.ts, against values worked by hand. */
import { assertAllClose, assertEquals } from "../_assert.ts";
import { frame16x9, mcnemarExact, wilson } from "../../bench/crop_eval.ts";

Deno.test("wilson gives the 95% score interval", () => {
  assertAllClose(wilson(36, 41), [0.74456, 0.94677], 1e-5, "36/41");
  // 0 of 10: [0, 0.2775], the textbook example; 10 of 10 mirrors it.
  assertAllClose(wilson(0, 10), [0, 0.27753], 1e-5, "0/10");
  assertAllClose(wilson(10, 10), [0.72247, 1], 1e-5, "10/10");
});

Deno.test("mcnemarExact is the two-sided binomial test on the discordant pairs", () => {
  assertEquals(mcnemarExact(0, 0), 1);
  assertEquals(mcnemarExact(3, 3), 1);
  assertEquals(mcnemarExact(5, 0), 0.0625); // 2 * (1/2)^5
  assertAllClose([mcnemarExact(10, 2)], [0.03857421875], 1e-12, "2 * 79 / 4096");
  assertAllClose([mcnemarExact(9, 22)], [0.029449373483657837], 1e-12, "9 vs 22");
  assertAllClose([mcnemarExact(100, 130)], [0.055613577781392386], 1e-9, "large n");
  assertEquals(mcnemarExact(2, 10), mcnemarExact(10, 2));
});

Deno.test("frame16x9 cuts the largest centred 16:9 rectangle", () => {
  // 8x6 RGB where each pixel holds its own (x, y, 0): a 4:3 photo gives an 8x5 band (8 * 9/16 =
  // 4.5, rounded to 5 rows) from row 0; a 20x9 panorama gives its centred 16x9.
  const photo = (w: number, h: number) => {
    const data = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set([x, y, 0], (y * w + x) * 3);
    return { data, width: w, height: h, channels: 3 as const };
  };
  const band = frame16x9(photo(8, 6));
  assertEquals([band.width, band.height], [8, 5]);
  assertEquals([...band.data.subarray(0, 3)], [0, 0, 0]);
  assertEquals([...band.data.subarray(-3)], [7, 4, 0]);
  const wide = frame16x9(photo(20, 9));
  assertEquals([wide.width, wide.height], [16, 9]);
  assertEquals([...wide.data.subarray(0, 3)], [2, 0, 0]);
  assertEquals([...wide.data.subarray(-3)], [17, 8, 0]);
});
