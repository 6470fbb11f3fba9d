/**
 * The seed corpus: small, varied, valid (and a few hostile) files of each format, made with the
 * repository's own test generators and fixtures, the same bytes on every run. Mutations start
 * from these.
 *
 * @module
 */
import { constants, deflateRawSync } from "node:zlib";
import jpegJs from "npm:jpeg-js@0.4.4";
import { concatBytes } from "../../src/_util.ts";
import { encodePng } from "../../tests/_png.ts";
import { encodePngSamples, pngChunk, type PngOptions } from "../../tests/image/_png_encode.ts";
import { encodeTiff, type TiffCompression } from "../../tests/image/_tiff.ts";
import { claimingGif, encodeGif } from "../../tests/image/_gif.ts";
import { encodeDcJpeg, withExifOrientation } from "../../tests/image/_jpeg_dc.ts";
import {
  jpegClaiming,
  pngClaiming,
  tiffClaiming,
  tiffDeflateZeros,
  tiffLzwShort,
  zeroRowsPng,
} from "../../tests/image/_hostile.ts";
import { type Format, repeatBytes } from "./mutator.ts";
import { Rng } from "./rng.ts";
import { streamSeeds } from "./formats/stream_seeds.ts";

/** Seeds by format. */
export type Corpus = Partial<Record<Format, Uint8Array[]>>;

const ROOT = new URL("../../", import.meta.url);

/** Samples in `0..max` for `width x height x channels`: gradients plus a little noise. */
function pattern(width: number, height: number, channels: number, max = 255): number[] {
  const rng = new Rng(`pattern ${width}x${height}x${channels}/${max}`);
  const out = new Array<number>(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        const smooth = ((x * 255) / width + (y * 255) / height + c * 85) % 256;
        out[(y * width + x) * channels + c] = Math.round(
          ((smooth + rng.int(24)) % 256) * max / 255,
        );
      }
    }
  }
  return out;
}

const PNG_KINDS: [PngOptions["colorType"], PngOptions["bitDepth"][]][] = [
  [0, [1, 2, 4, 8, 16]],
  [2, [8, 16]],
  [3, [1, 2, 4, 8]],
  [4, [8, 16]],
  [6, [8, 16]],
];
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

async function pngSeeds(): Promise<Uint8Array[]> {
  const seeds: Uint8Array[] = [];
  const sizes = [[5, 3], [24, 17], [64, 48]];
  let i = 0;
  for (const [colorType, depths] of PNG_KINDS) {
    for (const bitDepth of depths) {
      const [w, h] = sizes[i % sizes.length];
      const options: PngOptions = { colorType, bitDepth, interlace: i % 2 === 1 };
      if (colorType === 3) {
        const entries = 1 << bitDepth;
        options.palette = new Uint8Array(pattern(entries, 1, 3));
        if (i % 3 === 0) options.trns = new Uint8Array(pattern(Math.min(entries, 16), 1, 1));
      }
      const max = colorType === 3 ? (1 << bitDepth) - 1 : 2 ** bitDepth - 1;
      seeds.push(encodePngSamples(pattern(w, h, CHANNELS[colorType], max), w, h, options));
      i++;
    }
  }
  seeds.push(await encodePng(new Uint8Array(pattern(40, 30, 4)), 40, 30));
  seeds.push(withPngOrientation(seeds[6], 6));
  seeds.push(pngClaiming(4096, 2048, 2));
  seeds.push(await zeroRowsPng(2048, 1024));
  seeds.push(await zeroRowsPng(300, 200, true));
  return seeds;
}

/** A PNG with an eXIf chunk (orientation) after its IHDR. */
function withPngOrientation(png: Uint8Array, orientation: number): Uint8Array {
  const exif = new Uint8Array([
    0x4d,
    0x4d,
    0,
    42,
    0,
    0,
    0,
    8,
    0,
    1,
    1,
    0x12,
    0,
    3,
    0,
    0,
    0,
    1,
    0,
    orientation,
    0,
    0,
    0,
    0,
    0,
    0,
  ]);
  const ihdrEnd = 8 + 25;
  return concatBytes([png.subarray(0, ihdrEnd), pngChunk("eXIf", exif), png.subarray(ihdrEnd)]);
}

const TIFF_COMPRESSIONS: TiffCompression[] = ["none", "lzw", "deflate", "packbits"];

function tiffSeeds(): Uint8Array[] {
  const seeds: Uint8Array[] = [];
  for (let i = 0; i < 24; i++) {
    const channels = ((i % 4) + 1) as 1 | 2 | 3 | 4;
    const [w, h] = i % 2 ? [37, 23] : [64, 40];
    seeds.push(encodeTiff(new Uint8Array(pattern(w, h, channels)), w, h, channels, {
      compression: TIFF_COMPRESSIONS[(i >> 2) % 4],
      predictor: i % 3 === 0,
      tile: i % 5 === 1 ? 16 : undefined,
      rowsPerStrip: i % 5 === 2 ? 7 : i % 5 === 3 ? 1 : undefined,
      bigEndian: i % 7 === 3,
      orientation: i % 3 === 2 ? (i % 8) + 1 : undefined,
    }));
  }
  // 16-bit gray and RGB: the 8-bit writer with twice the samples per row
  seeds.push(encodeTiff(new Uint8Array(pattern(48, 20, 1)), 48, 20, 1, {
    override: { 256: [24], 258: [16] },
  }));
  seeds.push(encodeTiff(new Uint8Array(pattern(48, 20, 3)), 48, 20, 3, {
    compression: "deflate",
    override: { 256: [24], 258: [16, 16, 16] },
  }));
  const colorMap = pattern(256, 3, 1).map((v) => v * 257);
  seeds.push(encodeTiff(new Uint8Array(pattern(32, 32, 1)), 32, 32, 1, {
    compression: "lzw",
    override: { 262: [3], 320: colorMap },
  }));
  seeds.push(tiffClaiming(4096, 2048), tiffLzwShort(4096, 2048), tiffDeflateZeros(2048, 1024));
  seeds.push(tileBomb(16384));
  return seeds;
}

/**
 * A zlib stream of `count` zeros (a multiple of 1 MiB), made cheaply: the deflate of 1 MiB of
 * zeros ending in a full flush (so every copy of it decodes alike) repeated, then an empty
 * final block and the Adler-32 (for zeros: a = 1, b = count mod 65521).
 */
export function zlibZeros(count: number): Uint8Array {
  if (count % (1 << 20) !== 0) throw new RangeError("count must be a multiple of 1 MiB");
  const piece = new Uint8Array(
    deflateRawSync(new Uint8Array(1 << 20), { level: 9, finishFlush: constants.Z_FULL_FLUSH }),
  );
  const b = count % 65521;
  return concatBytes([
    new Uint8Array([0x78, 0xda]),
    repeatBytes(piece, count / (1 << 20)),
    new Uint8Array([0x03, 0x00, b >> 8, b & 255, 0, 1]),
  ]);
}

/** Issue 17's tile bomb: a 2x2 gray TIFF with one `side x side` deflate tile of zeros. */
export function tileBomb(side: number): Uint8Array {
  const data = zlibZeros(side * side);
  const head = encodeTiff(new Uint8Array(4), 2, 2, 1, {
    tile: 16,
    compression: "deflate",
    override: { 322: [side], 323: [side], 325: [data.length] },
  });
  // the writer put a 16x16 tile after the header: point the tile offset at the bomb instead
  const out = concatBytes([head, data]);
  const view = new DataView(out.buffer);
  const ifd = view.getUint32(4, true);
  for (let k = 0, n = view.getUint16(ifd, true); k < n; k++) {
    const e = ifd + 2 + 12 * k;
    if (view.getUint16(e, true) === 324) view.setUint32(e + 8, head.length, true);
  }
  return out;
}

function gifSeeds(): Uint8Array[] {
  const seeds = [[2, 2], [17, 9], [64, 48], [160, 120]].map(([w, h]) =>
    encodeGif(new Uint8Array(pattern(w, h, 3)), w, h)
  );
  const interlaced = seeds[2].slice();
  interlaced[13 + 768 + 9] |= 0x40;
  const twoFrames = concatBytes([
    seeds[1].subarray(0, seeds[1].length - 1),
    seeds[1].subarray(13 + 768),
  ]);
  seeds.push(interlaced, twoFrames, claimingGif(4096, 2048), claimingGif(3, 3));
  return seeds;
}

const JPEG_FIXTURES = [
  "tests/image/jpeg_fixtures/jpeg_422_restart.jpg",
  "tests/image/jpeg_fixtures/jpeg_444.jpg",
  "tests/image/jpeg_fixtures/jpeg_arithmetic.jpg",
  "tests/image/jpeg_fixtures/jpeg_baseline_420.jpg",
  "tests/image/jpeg_fixtures/jpeg_cmyk.jpg",
  "tests/image/jpeg_fixtures/jpeg_gray.jpg",
  "tests/image/jpeg_fixtures/jpeg_odd_progressive.jpg",
  "tests/image/jpeg_fixtures/jpeg_orientation6.jpg",
  "tests/image/jpeg_fixtures/jpeg_progressive.jpg",
  "tests/fixtures/images/n03825788_nipple.JPEG",
  "tests/fixtures/images/n02095889_Sealyham_terrier.JPEG",
  "tests/fixtures/images/n03485407_hand-held_computer.JPEG",
];

let jpegMemo: Promise<Uint8Array[]> | undefined;

function jpegSeeds(): Promise<Uint8Array[]> {
  return jpegMemo ??= makeJpegSeeds();
}

async function makeJpegSeeds(): Promise<Uint8Array[]> {
  const seeds: Uint8Array[] = [];
  for (const [w, h] of [[16, 16], [64, 48], [250, 180]]) {
    const colours = pattern(Math.ceil(w / 8), Math.ceil(h / 8), 3);
    const bw = Math.ceil(w / 8);
    seeds.push(encodeDcJpeg(w, h, (bx, by) => {
      const at = (by * bw + bx) * 3;
      return [colours[at], colours[at + 1], colours[at + 2]];
    }));
  }
  seeds.push(withExifOrientation(seeds[1], 6), withExifOrientation(seeds[2], 3));
  for (const [w, h, quality] of [[32, 32, 50], [96, 64, 90], [300, 200, 75]]) {
    const data = new Uint8Array(pattern(w, h, 4));
    seeds.push(new Uint8Array(jpegJs.encode({ data, width: w, height: h }, quality).data));
  }
  for (const path of JPEG_FIXTURES) seeds.push(await Deno.readFile(new URL(path, ROOT)));
  seeds.push(jpegClaiming(5792, 5792));
  return seeds;
}

/**
 * Builds the seeds of `formats`: the same bytes on every run (the generators are deterministic
 * and the fixtures are in the repository).
 */
export async function buildCorpus(formats: readonly Format[]): Promise<Corpus> {
  const corpus: Corpus = {};
  for (const format of formats) {
    corpus[format] = format === "png"
      ? await pngSeeds()
      : format === "tiff"
      ? tiffSeeds()
      : format === "gif"
      ? gifSeeds()
      : format === "jpeg"
      ? await jpegSeeds()
      : streamSeeds(format, await jpegSeeds());
  }
  return corpus;
}
