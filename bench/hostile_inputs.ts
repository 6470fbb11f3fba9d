/**
 * Hostile inputs against the classify command (issue 8): for each generated file, runs
 * `deno run -A src/cli/classify.ts --json <file>` in a child process and prints a table of wall
 * time, the child's CPU time (user + system) and peak RSS (`VmHWM`), both polled from
 * `/proc/<pid>/` every 5 ms, and the outcome (top-1 label, or the error code). The target:
 * every one under 2 s and 300 MB.
 *
 * ```sh
 * deno run -A --lock=deno.dev.lock bench/hostile_inputs.ts               # this checkout
 * deno run -A --lock=deno.dev.lock bench/hostile_inputs.ts --repo /tmp/base   # another checkout's CLI, same files
 * ```
 *
 * `--only REGEX` runs the cases whose name matches. The files are written to a temporary folder
 * and removed afterwards. Linux only (reads /proc).
 *
 * @module
 */
import jpegJs from "npm:jpeg-js@0.4.4";
import { parseArgs } from "../src/cli/parse_args.ts";
import { upscaledJpeg } from "../tests/image/_jpeg_dc.ts";
import {
  beforeFirstScan,
  emptyComments,
  repeatedAcScanJpeg,
  repeatedSosCmykJpeg,
  validScansJpeg,
  worstCaseFallbackJpeg,
  worstCaseJpeg,
} from "../tests/image/_jpeg_scans.ts";
import { claimingGif, encodeGif } from "../tests/image/_gif.ts";
import {
  jpegClaiming,
  pngClaiming,
  tiffClaiming,
  tiffDeflateZeros,
  tiffLzwShort,
  zeroRowsPng,
} from "../tests/image/_hostile.ts";
import {
  gifFrameOverScreen,
  gifManyBlocks,
  pngSplitIdat,
  tiffManyStrips,
  tiffTileBomb,
  tiffWideTags,
  tiffZeroSamplesClaiming,
  tiffZeroSamplesPredictor,
} from "../tests/image/_raster_hostile.ts";

const ROOT = new URL("../", import.meta.url);

/** One hostile (or reference) file. */
interface Case {
  name: string;
  ext: string;
  make: () => Uint8Array | Promise<Uint8Array>;
}

async function elephantJpeg(width: number, height: number): Promise<Uint8Array> {
  const photo = await Deno.readFile(new URL("samples/african_elephant.jpg", ROOT));
  const rgba = jpegJs.decode(photo, { useTArray: true });
  return upscaledJpeg(
    { data: rgba.data, width: rgba.width, height: rgba.height, channels: 4 },
    width,
    height,
  );
}

const CASES: Case[] = [
  {
    name: "sample photo 500x375 (reference)",
    ext: "jpg",
    make: () => Deno.readFile(new URL("samples/african_elephant.jpg", ROOT)),
  },
  {
    name: "JPEG SOF 20000x20000, no scan data",
    ext: "jpg",
    make: () => jpegClaiming(20000, 20000),
  },
  {
    name: "JPEG SOF 16384x16384, no scan data",
    ext: "jpg",
    make: () => jpegClaiming(16384, 16384),
  },
  {
    name: "progressive JPEG cut in half",
    ext: "jpg",
    make: async () => {
      const bytes = await Deno.readFile(
        new URL("tests/image/jpeg_fixtures/jpeg_progressive.jpg", ROOT),
      );
      return bytes.subarray(0, bytes.length >> 1);
    },
  },
  {
    name: "JPEG 12000x9000 (108 MP, legit, DC-only elephant)",
    ext: "jpg",
    make: () => elephantJpeg(12000, 9000),
  },
  { name: "PNG 16000x16000 zero rows", ext: "png", make: () => zeroRowsPng(16000, 16000) },
  { name: "PNG 10000x10000 zero rows", ext: "png", make: () => zeroRowsPng(10000, 10000) },
  {
    name: "PNG 8000x6250 header (50 MP), 1 row of data",
    ext: "png",
    make: () => pngClaiming(8000, 6250),
  },
  {
    name: "PNG 3840x2160 zero rows (4K, legit)",
    ext: "png",
    make: () => zeroRowsPng(3840, 2160),
  },
  { name: "GIF 65535x65535, 35 bytes", ext: "gif", make: () => claimingGif(65535, 65535) },
  { name: "GIF 2000x2000, 35 bytes", ext: "gif", make: () => claimingGif(2000, 2000) },
  { name: "TIFF 65535x65535 header, 2x2 data", ext: "tif", make: () => tiffClaiming(65535, 65535) },
  { name: "TIFF LZW 3000x2000 header, 4x4 data", ext: "tif", make: () => tiffLzwShort(3000, 2000) },
  {
    name: "TIFF deflate 3840x2160 zeros (4K, legit)",
    ext: "tif",
    make: () => tiffDeflateZeros(3840, 2160),
  },
  // Issue 17, finding 3: progressive scan bombs and a baseline file of repeated scans.
  {
    name: "JPEG 5792x5792 grey progressive, 1 AC scan x 20,000 (issue 17)",
    ext: "jpg",
    make: () => repeatedAcScanJpeg(5792, 20000),
  },
  {
    name: "JPEG 5792x5792 grey progressive, 882 valid AC scans (issue 17)",
    ext: "jpg",
    make: () => validScansJpeg(5792),
  },
  {
    name: "JPEG 2896x2896 grey progressive, 1 AC scan x 5,000 (issue 17)",
    ext: "jpg",
    make: () => repeatedAcScanJpeg(2896, 5000),
  },
  {
    name: "JPEG 64x65535 CMYK baseline, 3,001 SOS copies (issue 17)",
    ext: "jpg",
    make: () => repeatedSosCmykJpeg(64, 65535, 3001, 2260),
  },
  {
    name: "JPEG worst case the work budget admits: 5792x5792 grey, legal scans (issue 17)",
    ext: "jpg",
    make: () => worstCaseJpeg(),
  },
  {
    name: "JPEG worst case for the fallback: 2896x2896, stray byte, cut scans (issue 17)",
    ext: "jpg",
    make: () => worstCaseFallbackJpeg(),
  },
  {
    name: "JPEG with 8 MB of fill bytes before its scan (issue 17)",
    ext: "jpg",
    make: () => beforeFirstScan(repeatedAcScanJpeg(64, 2), new Uint8Array(8 << 20).fill(0xff)),
  },
  {
    name: "JPEG with 2,000,000 empty COM segments, 8 MB (issue 17)",
    ext: "jpg",
    make: () => beforeFirstScan(repeatedAcScanJpeg(64, 2), emptyComments(2_000_000)),
  },
  // At the default budget (4096 x 2048): the full-size decodes that remain.
  {
    name: "PNG 4096x2048 Adam7 zero rows (full-size decode)",
    ext: "png",
    make: () => zeroRowsPng(4096, 2048, true),
  },
  {
    name: "GIF 4096x2048 (full-size decode)",
    ext: "gif",
    make: () => encodeGif(new Uint8Array(4096 * 2048 * 3).fill(90), 4096, 2048),
  },
  {
    name: "JPEG 4096x2048 via the fallback (stray bytes)",
    ext: "jpg",
    make: async () => {
      const jpeg = await elephantJpeg(4096, 2048);
      const sos = jpeg.findIndex((b, i) => b === 0xff && jpeg[i + 1] === 0xda);
      const out = new Uint8Array(jpeg.length + 3);
      out.set(jpeg.subarray(0, sos));
      out.set([1, 2, 3], sos);
      out.set(jpeg.subarray(sos), sos + 3);
      return out;
    },
  },
  // Issue 17, the fuzzing findings in the TIFF, PNG and GIF decoders (numbered as in the issue).
  {
    name: "17.1 TIFF SamplesPerPixel=0 + predictor (122 bytes)",
    ext: "tif",
    make: tiffZeroSamplesPredictor,
  },
  {
    name: "17.2 TIFF 1 MB, 1000 BYTE tags spanning the file",
    ext: "tif",
    make: () => tiffWideTags(1 << 20, 1000),
  },
  {
    name: "17.2 TIFF 10 MB, 20 BYTE tags spanning the file",
    ext: "tif",
    make: () => tiffWideTags(10 << 20, 20),
  },
  {
    name: "17.4 TIFF 2x2, one 16384x16384 deflate tile",
    ext: "tif",
    make: () => tiffTileBomb(16384),
  },
  {
    name: "17.4 TIFF 2x2, one 16384x16384 RGBA16 deflate tile",
    ext: "tif",
    make: () => tiffTileBomb(16384, true),
  },
  {
    name: "17.8 TIFF 4,194,304 deflate strips (BYTE offsets)",
    ext: "tif",
    make: () => tiffManyStrips(4_194_304),
  },
  {
    name: "17.8 PNG 1024x768 gray in 1-byte IDAT chunks",
    ext: "png",
    make: () => pngSplitIdat(1024, 768, 1),
  },
  {
    name: "17.8 PNG 800k empty IDAT chunks",
    ext: "png",
    make: () => pngSplitIdat(64, 64, 1 << 16, 800_000),
  },
  {
    name: "17.9 TIFF 4096x2048 SamplesPerPixel=0, no data (110 bytes)",
    ext: "tif",
    make: tiffZeroSamplesClaiming,
  },
  { name: "17.10 PNG 1x8388608", ext: "png", make: () => zeroRowsPng(1, 8_388_608) },
  { name: "17.10 PNG 8388608x1", ext: "png", make: () => zeroRowsPng(8_388_608, 1) },
  {
    name: "17.x GIF 64x64 after 5M 1-byte sub-blocks",
    ext: "gif",
    make: () => gifManyBlocks(64, 64, 0, 5_000_000),
  },
  {
    name: "17.x GIF 64x64 after 600k extension blocks",
    ext: "gif",
    make: () => gifManyBlocks(64, 64, 600_000, 0),
  },
  {
    name: "17.x GIF 2x2 screen, 4096x2048 first frame",
    ext: "gif",
    make: () => gifFrameOverScreen(4096, 2048, 2),
  },
];

/** The child's VmHWM in bytes, or 0 when it cannot be read (gone, or not Linux). */
function vmHwm(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * The child's CPU time (user + system) in ms from `/proc/<pid>/stat` (clock ticks of 10 ms), or 0
 * when it cannot be read: on a shared machine, wall time says little.
 */
function cpuTime(pid: number): number {
  try {
    const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** What one child run shows. */
interface Outcome {
  ms: number;
  cpuMs: number;
  peakRss: number;
  exit: number;
  result: string;
}

async function runCli(repo: string, file: string, timeoutMs: number): Promise<Outcome> {
  const start = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "src/cli/classify.ts", "--json", file],
    cwd: repo,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let cpu = 0;
  const cpuPoll = setInterval(() => (cpu = Math.max(cpu, cpuTime(child.pid))), 5);
  let peak = 0;
  const poll = setInterval(() => (peak = Math.max(peak, vmHwm(child.pid))), 5);
  let timedOut = false;
  const killer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, timeoutMs);
  const output = await child.output();
  const ms = performance.now() - start;
  clearInterval(cpuPoll);
  clearInterval(poll);
  clearTimeout(killer);
  const text = new TextDecoder().decode(output.stdout).trim();
  let result = timedOut
    ? `killed after ${timeoutMs} ms (timeout)`
    : output.signal
    ? `died (${output.signal})`
    : "";
  try {
    const json = JSON.parse(text.split("\n").at(-1) ?? "");
    result = json.error
      ? `${json.error.name} ${json.error.code ?? ""}`.trim()
      : `${json.predictions[0].label} ${json.predictions[0].probability.toFixed(3)} ` +
        `(decode ${json.timings.decodeMs.toFixed(0)} ms)`;
  } catch {
    result ||= `no JSON: ${new TextDecoder().decode(output.stderr).trim().slice(0, 80)}`;
  }
  return { ms, cpuMs: cpu, peakRss: peak, exit: output.code, result };
}

if (import.meta.main) {
  const flags = parseArgs(Deno.args, { string: ["repo", "timeout", "only"] });
  const only = new RegExp(String(flags.only ?? ""), "i");
  const repo = String(flags.repo ?? new URL(".", ROOT).pathname);
  const timeoutMs = Number(flags.timeout ?? 60_000);
  const dir = await Deno.makeTempDir({ prefix: "hostile_" });
  try {
    console.log(`classify CLI of ${repo}\n`);
    console.log("| file | bytes | time | CPU | peak RSS | exit | outcome |");
    console.log("| --- | ---: | ---: | ---: | ---: | ---: | --- |");
    for (const c of CASES.filter((c) => only.test(c.name))) {
      const bytes = await c.make();
      const file = `${dir}/${c.name.replace(/[^a-z0-9]+/gi, "_")}.${c.ext}`;
      await Deno.writeFile(file, bytes);
      const o = await runCli(repo, file, timeoutMs);
      console.log(
        `| ${c.name} | ${bytes.length} | ${(o.ms / 1000).toFixed(2)} s | ${
          (o.cpuMs / 1000).toFixed(2)
        } s | ${(o.peakRss / 2 ** 20).toFixed(0)} MB | ${o.exit} | ${o.result} |`,
      );
      await Deno.remove(file);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
