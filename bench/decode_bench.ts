/**
 * JPEG decode speed for camera-sized frames (640x480, 1280x720, 1920x1080, 3840x2160, quality 85,
 * 4:2:0, in `bench/fixtures/`): `decodeJpeg` of `src/image/jpeg/` DCT-scaled for a 224x224 model
 * input (the baseline of each group) and at full size, against imagescript's WASM JPEG codec
 * (Rust jpeg-decoder; full size, its own DCT scaling rule, and scaled to the same size as ours),
 * @jsquash/jpeg (mozjpeg) and jpeg-js full decodes. (imagescript's `Image.decode` is not here:
 * its main entry loads a native addon that needs --allow-ffi; its JPEG decoding is this codec.)
 *
 * ```sh
 * deno bench --allow-read --allow-env --lock=deno.dev.lock bench/decode_bench.ts
 * ```
 *
 * @module
 */
import imagescriptJpeg from "npm:imagescript@1.3.1/wasm/node/jpeg.js";
import jpegJs from "npm:jpeg-js@0.4.4";
import jsquashDecode from "npm:@jsquash/jpeg@1.6.0/decode.js";
import {
  chooseScale,
  decodeJpeg,
  preloadJpegDecoder,
  readJpegInfo,
  scaledSize,
} from "../src/image/jpeg/mod.ts";

/** The part of imagescript's JPEG codec module used here (the package ships no types for it). */
interface ImagescriptJpegCodec {
  init(): Promise<{
    decode(bytes: Uint8Array, width?: number, height?: number): { width: number; height: number };
  }>;
}

const FRAMES = ["640x480", "1280x720", "1920x1080", "3840x2160"] as const;
const MODEL_INPUT = { minWidth: 224, minHeight: 224 };

await preloadJpegDecoder();
const imagescript = await (imagescriptJpeg as unknown as ImagescriptJpegCodec).init();

for (const size of FRAMES) {
  const bytes = await Deno.readFile(new URL(`./fixtures/frame_${size}.jpg`, import.meta.url));
  const pixels = Number(size.split("x")[0]) * Number(size.split("x")[1]);
  // the slow pure-JS decoders get fewer runs on big frames so the whole bench stays short
  const slow = pixels > 1e6 ? { n: 10, warmup: 2 } : {};
  const group = size;
  const info = readJpegInfo(bytes);
  const scale = chooseScale(info.width, info.height, 224, 224);
  const [ourWidth, ourHeight] = [scaledSize(info.width, scale), scaledSize(info.height, scale)];

  Deno.bench({
    name: `${size} decodeJpeg scaled for 224x224 (${ourWidth}x${ourHeight})`,
    group,
    baseline: true,
    fn: async () => {
      await decodeJpeg(bytes, MODEL_INPUT);
    },
  });
  Deno.bench({
    name: `${size} decodeJpeg full size`,
    group,
    fn: async () => {
      await decodeJpeg(bytes);
    },
  });
  Deno.bench({
    name: `${size} @jsquash/jpeg full size`,
    group,
    fn: async () => {
      await jsquashDecode(bytes.slice().buffer);
    },
  });
  Deno.bench({
    name: `${size} imagescript codec scaled to ${ourWidth}x${ourHeight}`,
    group,
    fn: () => {
      imagescript.decode(bytes, ourWidth, ourHeight);
    },
  });
  const own = imagescript.decode(bytes, 224, 224);
  Deno.bench({
    name: `${size} imagescript codec min 224 (gives ${own.width}x${own.height})`,
    group,
    fn: () => {
      imagescript.decode(bytes, 224, 224);
    },
  });
  Deno.bench({
    name: `${size} imagescript codec full size`,
    group,
    fn: () => {
      imagescript.decode(bytes);
    },
  });
  Deno.bench({
    name: `${size} jpeg-js full size`,
    group,
    ...slow,
    fn: () => {
      jpegJs.decode(bytes, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 2048 });
    },
  });
}
