/**
 * The PNG decoder (`src/image/png.ts`): every colour type and bit depth, palettes with tRNS,
 * Adam7, all row filters, against imagescript's decoder; the row-by-row reduction against a
 * box average of the full decode; and typed errors for truncated, lying, corrupt and too large
 * files.
 *
 * @module
 */
// @ts-types="../../src/image/imagescript_codecs.d.ts"
import imagescriptPng from "npm:imagescript@1.3.1/wasm/node/png.js";
import { assert, assertEquals, assertRejects } from "../_assert.ts";
import { decodePng } from "../../src/image/png.ts";
import { ImageDecodeError } from "../../src/errors.ts";
import { encodePngSamples, type PngOptions } from "./_png_encode.ts";
import { pngClaiming, zeroRowsPng } from "./_hostile.ts";

const BIG = { maxPixels: 1 << 24 };

/** imagescript's RGBA decode, as the reference. */
async function reference(bytes: Uint8Array) {
  const { width, height, framebuffer } = (await imagescriptPng.init()).decode(bytes);
  return { width, height, rgba: framebuffer };
}

/** A deterministic pattern of samples in range for the bit depth. */
function samples(count: number, depth: number, seed: number): Uint16Array {
  const out = new Uint16Array(count);
  let s = seed;
  for (let i = 0; i < count; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = (s >>> 8) % (1 << depth);
  }
  return out;
}

const LAYOUTS: [number, number[]][] = [
  [0, [1, 2, 4, 8, 16]],
  [2, [8, 16]],
  [3, [1, 2, 4, 8]],
  [4, [8, 16]],
  [6, [8, 16]],
];
const SPP: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

Deno.test("PNG: every colour type, bit depth, palette (+tRNS) and Adam7 matches imagescript", async () => {
  let checked = 0;
  for (const [colorType, depths] of LAYOUTS) {
    for (const bitDepth of depths) {
      for (const interlace of [false, true]) {
        const [w, h] = [13, 11];
        const options: PngOptions = {
          colorType: colorType as PngOptions["colorType"],
          bitDepth: bitDepth as PngOptions["bitDepth"],
          interlace,
        };
        if (colorType === 3) {
          options.palette = new Uint8Array(3 * (1 << bitDepth)).map((_, i) => (i * 37) & 255);
          if (bitDepth === 2) options.trns = new Uint8Array([0, 128]);
        }
        const data = samples(w * h * SPP[colorType], bitDepth, colorType * 100 + bitDepth);
        const bytes = encodePngSamples(data, w, h, options);
        const { pixels } = await decodePng(bytes, BIG);
        const ref = await reference(bytes);
        const what = `type ${colorType}, ${bitDepth} bits, interlace ${interlace}`;
        assertEquals([pixels.width, pixels.height], [ref.width, ref.height], what);
        for (let p = 0; p < w * h; p++) {
          const c = pixels.channels;
          const ours = [...pixels.data.subarray(p * c, p * c + c)];
          const theirs = [...ref.rgba.subarray(p * 4, p * 4 + 4)];
          const expected = c === 1 ? [theirs[0]] : theirs.slice(0, c);
          assertEquals(ours, expected, `${what}, pixel ${p}`);
        }
        checked++;
      }
    }
  }
  assertEquals(checked, 30);
});

Deno.test("PNG: large images are box-reduced row by row, no smaller than asked", async () => {
  const [w, h] = [97, 61];
  const data = samples(w * h * 3, 8, 7);
  const bytes = encodePngSamples(data, w, h, { colorType: 2, bitDepth: 8 });
  const { pixels } = await decodePng(bytes, { ...BIG, minWidth: 20, minHeight: 20 });
  // factor floor(61 / 20) = 3: 33 x 21, edge blocks average what they have
  assertEquals([pixels.width, pixels.height, pixels.channels], [33, 21, 3]);
  for (const [x, y] of [[0, 0], [5, 7], [32, 20], [32, 0]]) {
    for (let c = 0; c < 3; c++) {
      let sum = 0, n = 0;
      for (let yy = y * 3; yy < Math.min(h, y * 3 + 3); yy++) {
        for (let xx = x * 3; xx < Math.min(w, x * 3 + 3); xx++) {
          sum += data[(yy * w + xx) * 3 + c];
          n++;
        }
      }
      assertEquals(pixels.data[(y * 33 + x) * 3 + c], Math.round(sum / n), `${x},${y},${c}`);
    }
  }
  const streamed = await decodePng(await zeroRowsPng(4000, 3000), {
    ...BIG,
    minWidth: 224,
    minHeight: 224,
  });
  assertEquals([streamed.pixels.width, streamed.pixels.height], [308, 231]);
});

Deno.test("PNG: truncated, lying, corrupt and too large files get typed errors", async () => {
  const good = encodePngSamples(samples(40 * 30 * 3, 8, 1), 40, 30, { colorType: 2, bitDepth: 8 });
  const cases: [string, Uint8Array, string, number?][] = [
    ["cut inside IDAT", good.subarray(0, good.length - 400), "TRUNCATED"],
    ["cut inside IHDR", good.subarray(0, 20), "TRUNCATED"],
    ["header claims 4000x3000, 1 row of data", pngClaiming(4000, 3000), "TRUNCATED"],
    ["header claims 16000x16000", pngClaiming(16000, 16000), "TOO_LARGE"],
    ["40x30 over a 1000-pixel budget", good, "TOO_LARGE", 1000],
    ["bad signature", good.map((b, i) => (i === 1 ? 0 : b)), "CORRUPT"],
    ["zero width", good.map((b, i) => (i >= 16 && i < 20 ? 0 : b)), "CORRUPT"],
    ["bit depth 3", good.map((b, i) => (i === 24 ? 3 : b)), "CORRUPT"],
  ];
  for (const [name, bytes, code, maxPixels] of cases) {
    const error = await assertRejects(
      () => decodePng(bytes, { maxPixels: maxPixels ?? BIG.maxPixels }),
      ImageDecodeError,
    );
    assertEquals(error.code, code, `${name}: ${error.message}`);
  }
  // A filter type of 9 in the first row: corrupt.
  const raw = encodePngSamples([1, 2, 3, 4], 2, 2, { colorType: 0, bitDepth: 8 });
  const { deflateSync } = await import("node:zlib");
  const { ihdr, pngChunk, pngFile } = await import("./_png_encode.ts");
  const badFilter = pngFile([
    pngChunk("IHDR", ihdr(2, 2, 8, 0)),
    pngChunk("IDAT", new Uint8Array(deflateSync(new Uint8Array([9, 1, 2, 0, 3, 4])))),
    pngChunk("IEND", new Uint8Array(0)),
  ]);
  const error = await assertRejects(() => decodePng(badFilter, BIG), ImageDecodeError);
  assertEquals(error.code, "CORRUPT");
  assert((await decodePng(raw, BIG)).pixels.data.length === 4);
});
