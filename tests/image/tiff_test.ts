/**
 * The TIFF decoder (`src/image/tiff.ts`, `tiff_codecs.ts`): uncompressed, LZW, deflate and
 * PackBits; gray, gray + alpha, RGB and RGBA; strips and tiles; the horizontal predictor; both
 * byte orders; 16-bit samples; the orientation tag; and typed errors for bombs, lying headers,
 * cut-off strips and unsupported layouts. The files come from the test writer `_tiff.ts`,
 * whose output libtiff 4.5 (`tiffcp`, `tiffinfo -D`) reads back without a difference (checked
 * when it was written; the tests do not need libtiff).
 *
 * @module
 */
import { assertEquals, assertRejects } from "../_assert.ts";
import { decodeTiff } from "../../src/image/tiff.ts";
import { lzwDecode, packBitsDecode } from "../../src/image/tiff_codecs.ts";
import { decodeImage } from "../../src/image/decode.ts";
import { ImageDecodeError } from "../../src/errors.ts";
import { encodeTiff, lzwEncode, packBits, type TiffCompression } from "./_tiff.ts";
import { tiffClaiming, tiffDeflateZeros, tiffLzwShort } from "./_hostile.ts";

const BUDGET = { maxPixels: 1 << 24 };

function pattern(count: number, seed: number): Uint8Array {
  let s = seed;
  return new Uint8Array(count).map((_, i) => {
    s = (s * 1103515245 + 12345) >>> 0;
    return i % 5 === 0 ? (s >>> 16) & 255 : (i * 7) & 255; // some noise, some runs
  });
}

Deno.test("TIFF: every compression, channel count, strips/tiles, predictor and byte order", async () => {
  const [w, h] = [75, 53];
  let checked = 0;
  for (const compression of ["none", "lzw", "deflate", "packbits"] as TiffCompression[]) {
    for (const channels of [1, 2, 3, 4] as const) {
      for (const layout of [{}, { rowsPerStrip: 8 }, { tile: 32 }]) {
        const predictor = compression !== "none" && channels !== 2;
        const bigEndian = channels === 3;
        const data = pattern(w * h * channels, channels);
        const bytes = encodeTiff(data.slice(), w, h, channels, {
          compression,
          predictor,
          bigEndian,
          ...layout,
        });
        const { pixels } = await decodeTiff(bytes, BUDGET);
        const what = `${compression}, ${channels} channels, ${JSON.stringify(layout)}`;
        assertEquals([pixels.width, pixels.height], [w, h], what);
        const out = channels === 2 ? 1 : channels; // gray + alpha gives gray
        assertEquals(pixels.channels, out, what);
        for (let p = 0; p < w * h; p += 7) {
          for (let c = 0; c < out; c++) {
            assertEquals(pixels.data[p * out + c], data[p * channels + c], `${what}: ${p}/${c}`);
          }
        }
        checked++;
      }
    }
  }
  assertEquals(checked, 48);
});

Deno.test("TIFF: LZW and PackBits round trips, including table resets", () => {
  const data = pattern(200_000, 3); // long enough for several clear codes
  const out = new Uint8Array(data.length);
  assertEquals(lzwDecode(lzwEncode(data), out), data.length);
  assertEquals(out, data);
  const packed = new Uint8Array(data.length);
  assertEquals(packBitsDecode(packBits(data), packed), data.length);
  assertEquals(packed, data);
  // A bomb stops where the output ends.
  const small = new Uint8Array(10);
  assertEquals(lzwDecode(lzwEncode(new Uint8Array(100_000)), small), 10);
});

Deno.test("TIFF: orientation tag, 16-bit samples, reduction while decoding", async () => {
  const data = pattern(4 * 2 * 3, 9);
  const bytes = encodeTiff(data, 4, 2, 3, { orientation: 6 });
  const upright = await decodeImage(bytes, { maxPixels: 100 });
  assertEquals([upright.width, upright.height], [2, 4]); // turned a quarter
  assertEquals([...upright.data.subarray(0, 3)], [...data.subarray(12, 15)]); // bottom-left first
  const stored = await decodeImage(bytes, { orientation: "ignore" });
  assertEquals([stored.width, stored.height], [4, 2]);
  // 16-bit: the high byte is used, in either byte order.
  const wide = new Uint8Array([0x12, 0xab, 0x34, 0xcd, 0x56, 0xef, 0x78, 0x01]); // LE samples
  const le = encodeTiff(wide, 4, 2, 1, { override: { 256: [2], 258: [16] } }); // 8 bytes, 2x2
  const { pixels } = await decodeTiff(le, BUDGET);
  assertEquals([...pixels.data], [0xab, 0xcd, 0xef, 0x01]);
  const reduced = await decodeTiff(tiffDeflateZeros(1000, 800), {
    ...BUDGET,
    minWidth: 224,
    minHeight: 224,
  });
  assertEquals([reduced.pixels.width, reduced.pixels.height], [334, 267]);
});

Deno.test("TIFF: lying headers, bombs, cut-off strips and odd layouts get typed errors", async () => {
  const good = encodeTiff(pattern(40 * 30 * 3, 1), 40, 30, 3, { rowsPerStrip: 10 });
  const cases: [string, Uint8Array, string, number?][] = [
    ["header claims 65535x65535", tiffClaiming(65535, 65535), "TOO_LARGE"],
    ["header claims 3000x3000 on 2x2 data", tiffClaiming(3000, 3000), "TRUNCATED"],
    ["LZW header claims 4000x3000 on 4x4 data", tiffLzwShort(4000, 3000), "TRUNCATED"],
    ["40x30 over a 1000-pixel budget", good, "TOO_LARGE", 1000],
    ["last strip cut off", good.subarray(0, good.length - 3000), "TRUNCATED"],
    ["IFD offset past the end", good.map((b, i) => (i === 7 ? 0x7f : b)), "TRUNCATED"],
    [
      "JPEG compression",
      encodeTiff(pattern(48, 2), 4, 4, 3, { override: { 259: [7] } }),
      "UNSUPPORTED_FORMAT",
    ],
    [
      "planar layout",
      encodeTiff(pattern(48, 2), 4, 4, 3, { override: { 284: [2] } }),
      "UNSUPPORTED_FORMAT",
    ],
    ["CMYK", encodeTiff(pattern(64, 2), 4, 4, 4, { override: { 262: [5] } }), "UNSUPPORTED_FORMAT"],
    [
      "1-bit",
      encodeTiff(pattern(16, 2), 4, 4, 1, { override: { 258: [1] } }),
      "UNSUPPORTED_FORMAT",
    ],
    ["no width", encodeTiff(pattern(16, 2), 4, 4, 1, { override: { 256: [0] } }), "CORRUPT"],
    ["corrupt LZW", corruptLzw(), "CORRUPT"],
  ];
  for (const [name, bytes, code, maxPixels] of cases) {
    const error = await assertRejects(
      () => decodeTiff(bytes, { maxPixels: maxPixels ?? BUDGET.maxPixels }),
      ImageDecodeError,
    );
    assertEquals(error.code, code, `${name}: ${error.message}`);
  }
});

/** An LZW strip whose second code points far past the table. */
function corruptLzw(): Uint8Array {
  // 9-bit codes: 256 (clear), 65, 500 (not in the table), 257
  const codes = [256, 65, 500, 257];
  const bits = codes.map((c) => c.toString(2).padStart(9, "0")).join("").padEnd(40, "0");
  const strip = new Uint8Array(5).map((_, i) => parseInt(bits.slice(i * 8, i * 8 + 8), 2));
  const tiff = encodeTiff(new Uint8Array(9), 3, 3, 1, { compression: "lzw" });
  // Replace the strip (at offset 8) with ours; it is shorter, the count says so.
  const out = tiff.slice();
  out.set(strip, 8);
  return encodeTiffWithStrip(out, strip.length);
}

/** Sets the strip byte count of a one-strip TIFF written by `_tiff.ts` (LONG entries). */
function encodeTiffWithStrip(tiff: Uint8Array, count: number): Uint8Array {
  const view = new DataView(tiff.buffer);
  const ifd = view.getUint32(4, true);
  const entries = view.getUint16(ifd, true);
  for (let k = 0; k < entries; k++) {
    const e = ifd + 2 + 12 * k;
    if (view.getUint16(e, true) === 279) view.setUint32(e + 8, count, true);
  }
  return tiff;
}
