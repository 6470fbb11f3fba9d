/**
 * Development tool: compares libjpeg-turbo WebAssembly builds on the camera frames of
 * `bench/fixtures/` decoded DCT-scaled for a 224x224 model input (as `decodeJpeg` does), and
 * checks that every build gives the same pixels as the first one.
 *
 * ```sh
 * deno run --allow-read --allow-env tools/jpeg_wasm/compare.ts embedded /tmp/jpeg_wasm_build/jpeg-turbo.wasm
 * ```
 *
 * Each argument is a `.wasm` file, or `embedded` for the binary in `src/image/jpeg/turbo_wasm.ts`.
 * The call sequence per decode is the one of `turboDecode` in `src/image/jpeg/turbo.ts` (malloc,
 * copy in, tjInitDecompress, tjDecompress2, copy out, tjDestroy, free); the marker parsing of
 * `decodeJpeg` is left out, it is the same for every build.
 *
 * @module
 */
import { chooseScale, readJpegInfo, scaledSize } from "../../src/image/jpeg/mod.ts";
import { JPEG_TURBO_WASM_BASE64 } from "../../src/image/jpeg/turbo_wasm.ts";
import { turboImports } from "../../src/image/jpeg/turbo.ts";

const FRAMES = ["640x480", "1280x720", "1920x1080", "3840x2160"];
const RUNS = Number(Deno.env.get("RUNS") ?? 101);
const WARMUP = 20;

interface Tj {
  memory: WebAssembly.Memory;
  malloc(size: number): number;
  free(pointer: number): void;
  tjInitDecompress(): number;
  tjDestroy(handle: number): number;
  tjDecompress2(...args: number[]): number;
}

async function load(source: string): Promise<{ tj: Tj; size: number }> {
  const bytes = source === "embedded"
    ? Uint8Array.from(atob(JPEG_TURBO_WASM_BASE64.replace(/\s+/g, "")), (c) => c.charCodeAt(0))
    : await Deno.readFile(source);
  const holder: { tj?: Tj } = {};
  const { instance } = await WebAssembly.instantiate(
    bytes,
    turboImports(() => holder.tj!.memory),
  );
  holder.tj = instance.exports as unknown as Tj;
  return { tj: holder.tj, size: bytes.length };
}

function decode(tj: Tj, jpeg: Uint8Array, width: number, height: number): Uint8Array {
  const outSize = width * height * 3;
  const input = tj.malloc(jpeg.length);
  const output = tj.malloc(outSize);
  new Uint8Array(tj.memory.buffer, input, jpeg.length).set(jpeg);
  const handle = tj.tjInitDecompress();
  const status = tj.tjDecompress2(
    handle,
    input,
    jpeg.length,
    output,
    width,
    width * 3,
    height,
    0,
    0,
  );
  if (status !== 0) throw new Error(`tjDecompress2 returned ${status}`);
  const pixels = new Uint8Array(tj.memory.buffer, output, outSize).slice();
  tj.tjDestroy(handle);
  tj.free(output);
  tj.free(input);
  return pixels;
}

function median(values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

const sources = Deno.args.length ? Deno.args : ["embedded"];
const builds = await Promise.all(sources.map(load));
console.log(`| frame -> output | ${sources.join(" | ")} |`);
console.log(`|---|${sources.map(() => "---:").join("|")}|`);
for (const frame of FRAMES) {
  const jpeg = await Deno.readFile(
    new URL(`../../bench/fixtures/frame_${frame}.jpg`, import.meta.url),
  );
  const info = readJpegInfo(jpeg);
  const scale = chooseScale(info.width, info.height, 224, 224);
  const [w, h] = [scaledSize(info.width, scale), scaledSize(info.height, scale)];
  const times: number[][] = builds.map(() => []);
  const reference = decode(builds[0].tj, jpeg, w, h);
  const notes: string[] = [];
  builds.forEach(({ tj }, b) => {
    const pixels = decode(tj, jpeg, w, h);
    let max = 0;
    let sum = 0;
    for (let i = 0; i < pixels.length; i++) {
      const d = Math.abs(pixels[i] - reference[i]);
      sum += d;
      if (d > max) max = d;
    }
    if (b > 0) {
      notes.push(`${sources[b]}: max |diff| ${max}, mean ${(sum / pixels.length).toFixed(4)}`);
    }
    for (let i = 0; i < WARMUP; i++) decode(tj, jpeg, w, h);
  });
  for (let run = 0; run < RUNS; run++) {
    // interleaved, so that both builds see the same machine noise
    builds.forEach(({ tj }, b) => {
      const t0 = performance.now();
      decode(tj, jpeg, w, h);
      times[b].push(performance.now() - t0);
    });
  }
  console.log(
    `| ${frame} -> ${w}x${h} | ${times.map((t) => `${median(t).toFixed(2)} ms`).join(" | ")} |`,
  );
  for (const note of notes) console.error(`  ${frame}: ${note}`);
}
console.log(`| wasm bytes | ${builds.map((b) => b.size).join(" | ")} |`);
