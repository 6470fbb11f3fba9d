/**
 * What a JPEG scan costs to decode (issue 17, finding 3): the measurements behind the work
 * weights of `src/image/jpeg/work.ts`. For libjpeg-turbo (our WASM build, DCT-scaled to 1/8 as
 * for the model) and for the fallback decoder (imagescript's jpeg-decoder, full size), each line
 * times two generated files that differ only in the scans under test, interleaved, and divides
 * the difference (median CPU time of `--runs`) by the blocks those scans visit, the bytes they hold, or the
 * scans themselves. The unit of work, a pixel-equivalent, is the time per pixel of a full-size
 * libjpeg decode of a real 8 MP photo (`bench/fixtures/frame_3840x2160.jpg`); each line also says
 * what it costs in that unit.
 *
 * Real photos in other encodings (4:4:4, grey, progressive scripts of libjpeg, mozjpeg and the
 * most scans an encoder writes) are made with Debian's `cjpeg`, `djpeg` and `jpegtran`
 * (libjpeg-turbo-progs) from a mosaic of `tests/fixtures/images/`, when those are installed, and
 * compared with what the work model counts for them.
 *
 * ```sh
 * deno run -A bench/jpeg_scan_cost.ts [--runs 5] [--only REGEX]
 * ```
 *
 * @module
 */
import { cpuUsage } from "node:process";
import { parseArgs } from "../src/cli/parse_args.ts";
import { TJPF_CMYK, TJPF_RGB, turboDecode } from "../src/image/jpeg/turbo.ts";
import { readJpegInfo } from "../src/image/jpeg/header.ts";
import { scaledSize } from "../src/image/jpeg/decode.ts";
import { decodeJpegWasm } from "../src/image/imagescript_codecs.ts";
import {
  grayFrame,
  repeatedAcScanJpeg,
  repeatedSosCmykJpeg,
  scanBlockCount,
  scanJpeg,
  type ScanSpec,
  validScansJpeg,
} from "../tests/image/_jpeg_scans.ts";
import { markdownTable } from "./_table.ts";

const ROOT = new URL("../", import.meta.url);
const PHOTO = await Deno.readFile(new URL("bench/fixtures/frame_3840x2160.jpg", ROOT));
const PHOTO_PIXELS = 3840 * 2160;

/** A decoder under test: libjpeg at a scale, or the fallback. */
type Decoder = (bytes: Uint8Array) => Promise<unknown>;

function libjpeg(scale: number): Decoder {
  return (bytes) => {
    const info = readJpegInfo(bytes);
    const w = scaledSize(info.width, scale as 1);
    const h = scaledSize(info.height, scale as 1);
    const format = info.components === 4 ? TJPF_CMYK : TJPF_RGB;
    return turboDecode(bytes.subarray(0, info.end), w, h, format).catch(() => undefined);
  };
}
const fallback: Decoder = (bytes) => decodeJpegWasm(bytes).catch(() => undefined);
const DECODERS = { "libjpeg 1/8": libjpeg(0.125), "libjpeg 1/1": libjpeg(1), fallback };

/** CPU ms (user + system) of this process while `fn` runs: the machine is shared. */
async function cpuMs(fn: () => Promise<unknown>): Promise<number> {
  const start = cpuUsage();
  await fn();
  const used = cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/**
 * Runs the unit (the photo, full size, libjpeg), `a` and `b` interleaved, `runs` times after a
 * warm-up, and keeps the least CPU time of each (the machine is shared: the least disturbed run
 * is the best estimate of the work itself). Returns those, what `b` costs over `a` per `count`
 * in ns, and in pixel-equivalents.
 */
async function measure(
  decodeA: Decoder,
  decode: Decoder,
  a: Uint8Array,
  b: Uint8Array,
  count: number,
  runs: number,
) {
  const unit = DECODERS["libjpeg 1/1"];
  await decodeA(a);
  await decode(b);
  let u = Infinity, ta = Infinity, tb = Infinity;
  for (let i = 0; i < runs; i++) {
    u = Math.min(u, await cpuMs(() => unit(PHOTO)));
    ta = Math.min(ta, await cpuMs(() => decodeA(a)));
    tb = Math.min(tb, await cpuMs(() => decode(b)));
  }
  const ns = ((tb - ta) * 1e6) / count;
  return { unit: (u * 1e6) / PHOTO_PIXELS, a: ta, b: tb, ns, pe: ns / ((u * 1e6) / PHOTO_PIXELS) };
}

const DC: ScanSpec = { components: [0], ss: 0, se: 0, ah: 0, al: 0 };
const ac = (ss: number, se: number, ah: number, al: number, bytes?: number): ScanSpec => ({
  components: [0],
  ss,
  se,
  ah,
  al,
  bytes,
});
/** Refinement scans of `ss..se` from point transform `from` down to `to`. */
const refines = (ss: number, se: number, from: number, to = 0) =>
  Array.from({ length: from - to }, (_, i) => ac(ss, se, from - i, from - i - 1));

/** A flat (all-zero) baseline JPEG of `width x height` with the given sampling. */
function flatBaseline(width: number, height: number, sampling: [number, number][]) {
  const frame = { width, height, sampling, progressive: false };
  const all = sampling.map((_, i) => i);
  return scanJpeg(frame, [{ components: all, ss: 0, se: 63, ah: 0, al: 0 }], {
    adobe: sampling.length === 4,
  });
}

const YCC420: [number, number][] = [[2, 2], [1, 1], [1, 1]];
const grayFrame3840x2160 = () => ({ ...grayFrame(3840), height: 2160 });

/** libjpeg's progressive script for YCbCr (`jpeg_simple_progression`), as `jpegtran -progressive`. */
const LIBJPEG_SCRIPT: ScanSpec[] = [
  { components: [0, 1, 2], ss: 0, se: 0, ah: 0, al: 1 },
  { components: [0], ss: 1, se: 5, ah: 0, al: 2 },
  { components: [2], ss: 1, se: 63, ah: 0, al: 1 },
  { components: [1], ss: 1, se: 63, ah: 0, al: 1 },
  { components: [0], ss: 6, se: 63, ah: 0, al: 2 },
  { components: [0], ss: 1, se: 63, ah: 2, al: 1 },
  { components: [0, 1, 2], ss: 0, se: 0, ah: 1, al: 0 },
  { components: [2], ss: 1, se: 63, ah: 1, al: 0 },
  { components: [1], ss: 1, se: 63, ah: 1, al: 0 },
  { components: [0], ss: 1, se: 63, ah: 1, al: 0 },
];

/** libjpeg's progressive script for grey. */
const LIBJPEG_GREY_SCRIPT: ScanSpec[] = [
  { components: [0], ss: 0, se: 0, ah: 0, al: 1 },
  { components: [0], ss: 1, se: 5, ah: 0, al: 2 },
  { components: [0], ss: 6, se: 63, ah: 0, al: 2 },
  { components: [0], ss: 1, se: 63, ah: 2, al: 1 },
  { components: [0], ss: 0, se: 0, ah: 1, al: 0 },
  { components: [0], ss: 1, se: 63, ah: 1, al: 0 },
];

/** The photo made progressive (and grey) by jpegtran, or `undefined` without jpegtran. */
function progressivePhoto(grey = false): Uint8Array | undefined {
  const file = Deno.makeTempFileSync({ suffix: ".jpg" });
  try {
    Deno.writeFileSync(file, PHOTO);
    const args = [...(grey ? ["-grayscale"] : []), "-progressive", file];
    const out = new Deno.Command("jpegtran", { args }).outputSync();
    return out.success ? out.stdout : undefined;
  } catch {
    return undefined; // not installed
  } finally {
    Deno.removeSync(file);
  }
}

/** One measured difference: what was added, and per what it is divided. */
interface Line {
  name: string;
  decoder: keyof typeof DECODERS;
  /** The decoder of `base`, when not `decoder`. */
  baseDecoder?: keyof typeof DECODERS;
  base: () => Uint8Array;
  /** The file with more work, or `undefined` when it cannot be made here (no jpegtran). */
  more: () => Uint8Array | undefined;
  /** Units added by `more`: [count, unit name]. */
  per: (base: Uint8Array, more: Uint8Array) => [number, string];
}

const S = 2048; // 65,536 blocks: large enough to time, small enough to repeat
const BLOCKS = scanBlockCount(grayFrame(S), [0]);
const visits = (n: number) => (): [number, string] => [n * BLOCKS, "block visit"];
const bytesAdded = (
  a: Uint8Array,
  b: Uint8Array,
): [number, string] => [b.length - a.length, "byte"];

/**
 * What both decoders are measured on, for `decoder`, with `n` repeats (fewer for the slow
 * fallback): the overhead of a scan; a block visit of an empty AC scan (for the fallback one
 * after the last, which redoes the inverse DCT), of one-coefficient and of 1..63 refinements, and
 * of AC scans cut short (libjpeg skips the rest; the fallback decodes zero bits as -1s); a byte
 * of dense refinement data; a byte of a real photo's data.
 */
function sharedLines(decoder: Line["decoder"], n: number): Line[] {
  const prefix = decoder === "fallback" ? "fallback: " : "";
  const cut = ac(1, 63, 0, 1, 64);
  const dense = { dense: true };
  return [
    {
      name: `scan overhead (16x16 grey, +${200 * n} empty AC scans)`,
      base: () => repeatedAcScanJpeg(16, 1),
      more: () => repeatedAcScanJpeg(16, 1 + 200 * n),
      per: () => [200 * n, "scan"],
    },
    {
      name: "empty AC scan 1..63 (end-of-band runs), again and again",
      base: () => repeatedAcScanJpeg(S, 1),
      more: () => repeatedAcScanJpeg(S, 1 + n),
      per: visits(n),
    },
    {
      name: "empty AC refinement, 1-coefficient bands (882 valid scans vs 63)",
      base: () => validScansJpeg(S, 63, 0),
      more: () => validScansJpeg(S, 63, 13),
      per: visits(63 * 13),
    },
    {
      name: "empty AC refinement 1..63 (12 scans, the last component bit left)",
      base: () => scanJpeg(grayFrame(S), [DC, ac(1, 63, 0, 13)]),
      more: () => scanJpeg(grayFrame(S), [DC, ac(1, 63, 0, 13), ...refines(1, 63, 13, 1)]),
      per: visits(12),
    },
    {
      name: "AC first scans 1..63 cut to 64 bytes (the dense table: zero bits are -1s)",
      base: () => scanJpeg(grayFrame(S), [DC, cut], dense),
      more: () => scanJpeg(grayFrame(S), [DC, ...new Array(11).fill(cut)], dense),
      per: visits(10),
    },
    {
      name: "dense AC refinement 1..63 (1 bit a coefficient, 13 scans), per byte",
      base: () => scanJpeg(grayFrame(S), [DC, ac(1, 63, 0, 13)], dense),
      more: () => scanJpeg(grayFrame(S), [DC, ac(1, 63, 0, 13), ...refines(1, 63, 13)], dense),
      per: bytesAdded,
    },
    {
      name: "real data: the 8 MP photo over a flat 4:2:0 baseline, per byte",
      base: () => flatBaseline(3840, 2160, YCC420),
      more: () => PHOTO,
      per: bytesAdded,
    },
  ].map((line) => ({ ...line, name: prefix + line.name, decoder }) as Line);
}

const LINES: Line[] = [
  ...sharedLines("libjpeg 1/8", 100),
  {
    name: "DC refinement (13 scans, 1 bit a block)",
    decoder: "libjpeg 1/8",
    base: () => scanJpeg(grayFrame(S), [{ ...DC, al: 13 }, ac(1, 63, 0, 0)]),
    more: () => scanJpeg(grayFrame(S), [{ ...DC, al: 13 }, ...refines(0, 0, 13), ac(1, 63, 0, 0)]),
    per: visits(13),
  },
  {
    name: "dense AC first scan 1..63 (2 bits a coefficient), per byte",
    decoder: "libjpeg 1/8",
    base: () => scanJpeg(grayFrame(S), [DC, ac(1, 63, 0, 0)]),
    more: () => scanJpeg(grayFrame(S), [DC, ac(1, 63, 0, 0)], { dense: true }),
    per: bytesAdded,
  },
  {
    name: "real data, progressive: the photo by jpegtran over a flat one, per byte",
    decoder: "libjpeg 1/8",
    base: () =>
      scanJpeg({ width: 3840, height: 2160, sampling: YCC420, progressive: true }, LIBJPEG_SCRIPT),
    more: () => progressivePhoto(),
    per: bytesAdded,
  },
  {
    name: "real data, progressive grey: the photo by jpegtran over a flat one, per byte",
    decoder: "libjpeg 1/8",
    base: () => scanJpeg(grayFrame3840x2160(), LIBJPEG_GREY_SCRIPT),
    more: () => progressivePhoto(true),
    per: bytesAdded,
  },
  {
    name: "DC scan and output at 1/8, per block",
    decoder: "libjpeg 1/8",
    base: () => repeatedAcScanJpeg(8, 0),
    more: () => repeatedAcScanJpeg(S, 0),
    per: () => [BLOCKS - 1, "block"],
  },
  {
    name: "full-size output of a progressive grey JPEG, per pixel",
    decoder: "libjpeg 1/1",
    base: () => repeatedAcScanJpeg(8, 1),
    more: () => repeatedAcScanJpeg(S, 1),
    per: () => [S * S - 64, "pixel"],
  },
  ...(["grey", "4:2:0", "4:4:4", "CMYK"] as const).map((kind): Line => {
    const sampling: Record<typeof kind, [number, number][]> = {
      grey: [[1, 1]],
      "4:2:0": YCC420,
      "4:4:4": [[1, 1], [1, 1], [1, 1]],
      CMYK: [[1, 1], [1, 1], [1, 1], [1, 1]],
    };
    const flat = flatBaseline(S, S, sampling[kind]);
    return {
      name: `full-size output over 1/8 of a flat ${kind} baseline, per pixel`,
      decoder: "libjpeg 1/1",
      baseDecoder: "libjpeg 1/8",
      base: () => flat,
      more: () => flat,
      per: () => [S * S, "pixel"],
    };
  }),
  ...sharedLines("fallback", 10),
  {
    name: "fallback: baseline CMYK scan copy, cut (dense -1 blocks)",
    decoder: "fallback",
    base: () => repeatedSosCmykJpeg(64, 8192, 1, 2260),
    more: () => repeatedSosCmykJpeg(64, 8192, 11, 2260),
    per: () => [10 * 4 * 8 * 1024, "block visit"],
  },
  {
    name: "fallback: full-size decode of the 8 MP photo, per pixel",
    decoder: "fallback",
    base: () => repeatedAcScanJpeg(8, 0),
    more: () => PHOTO,
    per: () => [PHOTO_PIXELS, "pixel"],
  },
];

if (import.meta.main) {
  const flags = parseArgs(Deno.args, { string: ["runs", "only"] });
  const runs = Number(flags.runs ?? 5);
  const only = new RegExp(String(flags.only ?? ""), "i");
  const rows: (string | number)[][] = [];
  for (const line of LINES.filter((l) => only.test(l.name))) {
    const base = line.base(), more = line.more();
    if (!more) {
      rows.push([line.name, line.decoder, "", "", "skipped: jpegtran not installed", "", ""]);
      continue;
    }
    const [count, what] = line.per(base, more);
    const decodeBase = DECODERS[line.baseDecoder ?? line.decoder];
    const m = await measure(decodeBase, DECODERS[line.decoder], base, more, count, runs);
    rows.push([
      line.name,
      line.decoder,
      m.a,
      m.b,
      `${m.ns.toFixed(2)} ns / ${what}`,
      m.unit,
      m.pe,
    ]);
  }
  console.log(
    "Least CPU time of each file over the runs; the unit is the CPU time per pixel of a full-size",
    "libjpeg decode of bench/fixtures/frame_3840x2160.jpg, taken in the same runs.\n",
  );
  const headers = ["what", "decoder", "base ms", "with ms", "cost", "unit ns", "pixel-eq."];
  console.log(markdownTable(headers, rows, 2));
}
