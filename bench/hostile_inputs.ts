/**
 * Hostile inputs against the classify command (issue 8): for each generated file, runs
 * `deno run -A src/cli/classify.ts --json <file>` in a child process and prints a table of wall
 * time, the child's peak RSS (`VmHWM` from `/proc/<pid>/status`, polled every 5 ms) and the
 * outcome (top-1 label, or the error code). The target: every one under 2 s and 300 MB.
 *
 * ```sh
 * deno run -A bench/hostile_inputs.ts               # this checkout
 * deno run -A bench/hostile_inputs.ts --repo /tmp/base   # another checkout's CLI, same files
 * ```
 *
 * The files are written to a temporary folder and removed afterwards. Linux only (reads /proc).
 *
 * @module
 */
import jpegJs from "npm:jpeg-js@0.4.4";
import { parseArgs } from "../src/cli/parse_args.ts";
import { upscaledJpeg } from "../tests/image/_jpeg_dc.ts";
import { claimingGif } from "../tests/image/_gif.ts";
import {
  jpegClaiming,
  pngClaiming,
  tiffClaiming,
  tiffDeflateZeros,
  tiffLzwShort,
  zeroRowsPng,
} from "../tests/image/_hostile.ts";

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
    name: "PNG 4000x3000 zero rows (12 MP, legit)",
    ext: "png",
    make: () => zeroRowsPng(4000, 3000),
  },
  { name: "GIF 65535x65535, 35 bytes", ext: "gif", make: () => claimingGif(65535, 65535) },
  { name: "GIF 4000x4000, 35 bytes", ext: "gif", make: () => claimingGif(4000, 4000) },
  { name: "TIFF 65535x65535 header, 2x2 data", ext: "tif", make: () => tiffClaiming(65535, 65535) },
  { name: "TIFF LZW 4000x3000 header, 4x4 data", ext: "tif", make: () => tiffLzwShort(4000, 3000) },
  {
    name: "TIFF deflate 4000x3000 zeros (legit)",
    ext: "tif",
    make: () => tiffDeflateZeros(4000, 3000),
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

/** What one child run shows. */
interface Outcome {
  ms: number;
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
  let peak = 0;
  const poll = setInterval(() => (peak = Math.max(peak, vmHwm(child.pid))), 5);
  const killer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const output = await child.output();
  const ms = performance.now() - start;
  clearInterval(poll);
  clearTimeout(killer);
  const text = new TextDecoder().decode(output.stdout).trim();
  let result = output.signal ? `killed (${output.signal}) after ${timeoutMs} ms` : "";
  try {
    const json = JSON.parse(text.split("\n").at(-1) ?? "");
    result = json.error
      ? `${json.error.name} ${json.error.code ?? ""}`.trim()
      : `${json.predictions[0].label} ${json.predictions[0].probability.toFixed(3)}`;
  } catch {
    result ||= `no JSON: ${new TextDecoder().decode(output.stderr).trim().slice(0, 80)}`;
  }
  return { ms, peakRss: peak, exit: output.code, result };
}

if (import.meta.main) {
  const flags = parseArgs(Deno.args, { string: ["repo", "timeout"] });
  const repo = String(flags.repo ?? new URL(".", ROOT).pathname);
  const timeoutMs = Number(flags.timeout ?? 60_000);
  const dir = await Deno.makeTempDir({ prefix: "hostile_" });
  try {
    console.log(`classify CLI of ${repo}\n`);
    console.log("| file | bytes | time | peak RSS | exit | outcome |");
    console.log("| --- | ---: | ---: | ---: | ---: | --- |");
    for (const c of CASES) {
      const bytes = await c.make();
      const file = `${dir}/${c.name.replace(/[^a-z0-9]+/gi, "_")}.${c.ext}`;
      await Deno.writeFile(file, bytes);
      const o = await runCli(repo, file, timeoutMs);
      console.log(
        `| ${c.name} | ${bytes.length} | ${(o.ms / 1000).toFixed(2)} s | ${
          (o.peakRss / 2 ** 20).toFixed(0)
        } MB | ${o.exit} | ${o.result} |`,
      );
      await Deno.remove(file);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
