/**
 * Development tool: checks that two libjpeg-turbo WebAssembly builds decode identically:
 * same status, same error/exception, same bytes, for every JPEG found under the given
 * folders, at every DCT scale (1, 1/2, 1/4, 1/8), in every TurboJPEG pixel format, with and
 * without TJFLAG_FASTUPSAMPLE, and for fuzzed copies (random bytes overwritten in the
 * entropy-coded data or anywhere; quantisation tables rewritten as large 16-bit values, which
 * drives the inverse DCTs into 32-bit overflow).
 *
 * ```sh
 * deno run --allow-read --allow-env tools/jpeg_wasm/exactness.ts reference.wasm candidate.wasm \
 *   tests/fixtures/images tests/image/jpeg_fixtures bench/fixtures
 * ```
 *
 * A build is a `.wasm` path or `embedded` (the binary in `src/image/jpeg/turbo_wasm.ts`).
 * Exits with status 1 if anything differs. FUZZ (default 40) sets the fuzzed copies per file;
 * DUMP=folder writes each JPEG that decodes differently there (needs --allow-write); PRINT
 * (default 40) limits the differences printed, of each kind.
 *
 * @module
 */
import { JPEG_TURBO_WASM_BASE64 } from "../../src/image/jpeg/turbo_wasm.ts";
import { turboImports } from "../../src/image/jpeg/turbo.ts";

interface Tj {
  memory: WebAssembly.Memory;
  malloc(size: number): number;
  free(pointer: number): void;
  tjInitDecompress(): number;
  tjDestroy(handle: number): number;
  tjDecompressHeader3(...args: number[]): number;
  tjDecompress2(...args: number[]): number;
}

/** Bytes per pixel of TurboJPEG pixel formats 0..11 (RGB, BGR, RGBX, ..., CMYK). */
const PIXEL_SIZE = [3, 3, 4, 4, 4, 4, 1, 4, 4, 4, 4, 4];
const TJFLAG_FASTUPSAMPLE = 256;

class Build {
  module!: WebAssembly.Module;
  tj!: Tj;
  constructor(readonly name: string) {}

  async init() {
    const bytes = this.name === "embedded"
      ? Uint8Array.from(atob(JPEG_TURBO_WASM_BASE64.replace(/\s+/g, "")), (c) => c.charCodeAt(0))
      : await Deno.readFile(this.name);
    this.module = await WebAssembly.compile(bytes);
    await this.fresh();
  }

  async fresh() {
    const holder: { tj?: Tj } = {};
    const instance = await WebAssembly.instantiate(
      this.module,
      turboImports(() => holder.tj!.memory),
    );
    holder.tj = this.tj = instance.exports as unknown as Tj;
  }

  /** Header size, or undefined if the header does not parse. */
  async header(jpeg: Uint8Array): Promise<[number, number] | string> {
    const tj = this.tj;
    try {
      const input = tj.malloc(jpeg.length);
      const out = tj.malloc(16);
      new Uint8Array(tj.memory.buffer, input, jpeg.length).set(jpeg);
      const h = tj.tjInitDecompress();
      const status = tj.tjDecompressHeader3(h, input, jpeg.length, out, out + 4, out + 8, out + 12);
      const view = new DataView(tj.memory.buffer);
      const size: [number, number] = [view.getInt32(out, true), view.getInt32(out + 4, true)];
      tj.tjDestroy(h);
      tj.free(out);
      tj.free(input);
      return status === 0 ? size : `status ${status}`;
    } catch (error) {
      await this.fresh();
      return `threw ${(error as Error).message}`;
    }
  }

  /** Decoded bytes, or a description of the failure. */
  async decode(
    jpeg: Uint8Array,
    width: number,
    height: number,
    format: number,
    flags: number,
  ): Promise<{ status: string; pixels?: Uint8Array }> {
    const tj = this.tj;
    const size = width * height * PIXEL_SIZE[format];
    try {
      const input = tj.malloc(jpeg.length);
      const output = tj.malloc(size + 64);
      new Uint8Array(tj.memory.buffer, input, jpeg.length).set(jpeg);
      new Uint8Array(tj.memory.buffer, output, size + 64).fill(0xa5);
      const h = tj.tjInitDecompress();
      const status = tj.tjDecompress2(
        h,
        input,
        jpeg.length,
        output,
        width,
        0,
        height,
        format,
        flags,
      );
      const all = new Uint8Array(tj.memory.buffer, output, size + 64).slice();
      tj.tjDestroy(h);
      tj.free(output);
      tj.free(input);
      if (all.subarray(size).some((b) => b !== 0xa5)) return { status: "wrote past the output" };
      return { status: `status ${status}`, pixels: all.subarray(0, size) };
    } catch (error) {
      await this.fresh();
      return { status: `threw ${(error as Error).message}` };
    }
  }
}

function* jpegFiles(dir: string): Generator<string> {
  for (const entry of Deno.readDirSync(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* jpegFiles(path);
    else if (/\.(jpe?g)$/i.test(entry.name)) yield path;
  }
}

/** Deterministic pseudo-random numbers (LCG), so that a failure can be reproduced. */
function random(seed: number) {
  let state = seed >>> 0;
  return (n: number) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 8) % n;
  };
}

/** Offset of the first byte after the first SOS header, or -1. */
function scanStart(jpeg: Uint8Array): number {
  let pos = 2;
  while (pos + 4 <= jpeg.length && jpeg[pos] === 0xff) {
    const marker = jpeg[pos + 1];
    const length = (jpeg[pos + 2] << 8) | jpeg[pos + 3];
    if (marker === 0xda) return pos + 2 + length;
    pos += 2 + length;
  }
  return -1;
}

/** The JPEG with every quantisation table rewritten as 16-bit values `q * factor` (max 65535). */
function bigQuantTables(jpeg: Uint8Array, factor: number): Uint8Array {
  const parts: Uint8Array[] = [jpeg.subarray(0, 2)];
  let pos = 2;
  while (pos + 4 <= jpeg.length && jpeg[pos] === 0xff) {
    const marker = jpeg[pos + 1];
    const length = (jpeg[pos + 2] << 8) | jpeg[pos + 3];
    if (marker === 0xda) break;
    if (marker === 0xdb) {
      const tables: number[] = [];
      let p = pos + 4;
      while (p < pos + 2 + length) {
        const pq = jpeg[p] >> 4;
        const tq = jpeg[p] & 15;
        tables.push(0x10 | tq);
        for (let i = 0; i < 64; i++) {
          const q = pq ? (jpeg[p + 1 + 2 * i] << 8) | jpeg[p + 2 + 2 * i] : jpeg[p + 1 + i];
          const big = Math.min(65535, q * factor);
          tables.push(big >> 8, big & 255);
        }
        p += 1 + 64 * (pq ? 2 : 1);
      }
      const segment = new Uint8Array(4 + tables.length);
      segment.set([0xff, 0xdb, (tables.length + 2) >> 8, (tables.length + 2) & 255]);
      segment.set(tables, 4);
      parts.push(segment);
    } else {
      parts.push(jpeg.subarray(pos, pos + 2 + length));
    }
    pos += 2 + length;
  }
  parts.push(jpeg.subarray(pos));
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let o = 0;
  for (const part of parts) {
    out.set(part, o);
    o += part.length;
  }
  return out;
}

const [refName, candName, ...dirs] = Deno.args;
if (!refName || !candName || dirs.length === 0) {
  console.error("usage: exactness.ts reference.wasm|embedded candidate.wasm|embedded folder...");
  Deno.exit(2);
}
const FUZZ = Number(Deno.env.get("FUZZ") ?? 40);
const DUMP = Deno.env.get("DUMP"); // folder to write the JPEGs that decode differently
const PRINT = Number(Deno.env.get("PRINT") ?? 40); // differences printed, of each kind
const ref = new Build(refName);
const cand = new Build(candName);
await ref.init();
await cand.init();

let cases = 0;
let differences = 0;
let statusOnly = 0; // same pixels, but one build reported a warning (status -1) and not the other
let failures = 0;
async function check(label: string, jpeg: Uint8Array, formats: number[], scales: number[]) {
  const [h1, h2] = [await ref.header(jpeg), await cand.header(jpeg)];
  if (typeof h1 === "string" || typeof h2 === "string") {
    cases++;
    if (JSON.stringify(h1) !== JSON.stringify(h2)) {
      differences++;
      console.log(`DIFF ${label}: header ${JSON.stringify(h1)} vs ${JSON.stringify(h2)}`);
    }
    return;
  }
  const [w, h] = h1;
  if (w * h > 40e6) return;
  for (const scale of scales) {
    for (const format of formats) {
      for (const flags of [0, TJFLAG_FASTUPSAMPLE]) {
        const sw = Math.ceil(w / scale);
        const sh = Math.ceil(h / scale);
        const a = await ref.decode(jpeg, sw, sh, format, flags);
        const b = await cand.decode(jpeg, sw, sh, format, flags);
        cases++;
        if (a.status !== "status 0") failures++;
        let same = a.status === b.status && !!a.pixels === !!b.pixels;
        let where = "";
        if (a.pixels && b.pixels) {
          for (let i = 0; i < a.pixels.length; i++) {
            if (a.pixels[i] !== b.pixels[i]) {
              same = false;
              where = ` first differing byte ${i}: ${a.pixels[i]} vs ${b.pixels[i]}`;
              break;
            }
          }
          if (!where && a.status !== b.status) where = " (same pixels)";
        }
        if (!same) {
          differences++;
          if (where === " (same pixels)") statusOnly++;
          if (DUMP) await Deno.writeFile(`${DUMP}/case${differences}.jpg`, jpeg);
          // print the first PRINT of each kind
          if ((where === " (same pixels)" ? statusOnly : differences - statusOnly) <= PRINT) {
            console.log(
              `DIFF ${label} 1/${scale} format ${format} flags ${flags}: ${a.status} vs ${b.status}${where}`,
            );
          }
        }
      }
    }
  }
}

const ALL_FORMATS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
for (const dir of dirs) {
  for (const path of jpegFiles(dir)) {
    const jpeg = await Deno.readFile(path);
    const big = jpeg.length > 300_000;
    await check(path, jpeg, big ? [0, 7, 11] : ALL_FORMATS, [1, 2, 4, 8]);
    for (const factor of [37, 255]) {
      await check(`${path} (16-bit quant x${factor})`, bigQuantTables(jpeg, factor), [0, 7], [
        1,
        2,
        4,
        8,
      ]);
    }
    const start = scanStart(jpeg);
    const rand = random(jpeg.length);
    for (let f = 0; f < (big ? Math.min(FUZZ, 6) : FUZZ); f++) {
      const copy = jpeg.slice();
      const edits = 1 + rand(8);
      for (let e = 0; e < edits; e++) {
        const inScan = start > 0 && rand(4) !== 0;
        const pos = inScan ? start + rand(jpeg.length - start) : rand(jpeg.length);
        copy[pos] = rand(4) === 0 ? 0xff : rand(256);
      }
      await check(`${path} fuzz ${f}`, copy, [0, 7], [1, 2, 4, 8]);
    }
  }
}
console.log(
  `${cases} decodes compared (${failures} of them errors or warnings in the reference): ` +
    `${differences} differences (${statusOnly} of them in the status only, with the same pixels)`,
);
if (differences) Deno.exit(1);
