/**
 * The camera parsers against the hostile streams of issue 17 (findings 6, 7 and 10): for each
 * input, the CPU time (user + system) per MB, the frames that came out, the child's peak RSS and
 * the outcome (or the log lines, for the inputs read through the HTTP source). Each case runs in
 * its own child process, stopped after `--limit` seconds of CPU (default 60; reported as
 * "> N s").
 *
 * ```sh
 * deno run -A --lock=deno.dev.lock bench/camera_parsers.ts                          # this checkout
 * deno run -A --lock=deno.dev.lock bench/camera_parsers.ts --repo /tmp/base-cam     # another checkout too, interleaved
 * ```
 *
 * `--only REGEX` runs the cases whose name matches; `--runs N` (default 1) takes the median CPU
 * time of N runs. Linux only (reads /proc for the peak RSS).
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "../src/cli/parse_args.ts";
import { median } from "../src/_util.ts";
import { markdownTable } from "./_table.ts";
import {
  chunked,
  chunkedBody,
  fillRun,
  longHeaderParts,
  sameLetterMultipart,
} from "../tests/ingest/_hostile_streams.ts";
import { concat } from "../tests/ingest/_photos.ts";

const ROOT = new URL("../", import.meta.url);
const MB = 1024 * 1024;
const KB = 1024;

/** What one run of a case measured. */
interface Outcome {
  mb: number;
  cpuMs: number;
  frames: number;
  peakRssMb: number;
  outcome: string;
  log?: string[];
}

// deno-lint-ignore no-explicit-any
type Modules = Record<string, any>;

/** Feeds `bytes` in chunks of `size` to `push`, counting what comes out. */
function feed(make: () => { push(c: Uint8Array): unknown[] }, bytes: Uint8Array, size: number) {
  let frames = 0;
  try {
    const parser = make();
    for (const chunk of chunked(bytes, size)) frames += parser.push(chunk).length;
    return { frames, outcome: "consumed, no error" };
  } catch (error) {
    const e = error as Error & { code?: string };
    return { frames, outcome: `${e.name} ${e.code ?? ""}: ${e.message}` };
  }
}

/** Reads one response of `contentType` through the HTTP source (a fake fetch, no network). */
async function viaHttp(m: Modules, contentType: string, bytes: Uint8Array, size: number) {
  const controller = new AbortController();
  let requests = 0;
  const fetch = () => {
    if (requests++ > 0) {
      controller.abort();
      return Promise.reject(new Error("done"));
    }
    const headers = { "content-type": contentType };
    return Promise.resolve(new Response(chunkedBody(bytes, size), { headers }));
  };
  const source = new m.http.HttpSource({ url: new URL("http://camera.invalid/cam"), fetch });
  const log: string[] = [];
  const states = new Map<string, string>();
  let frames = 0;
  await source.run({
    signal: controller.signal,
    emit: () => frames++,
    status: (channel: string, state: string, message: string) => {
      if (states.get(channel) !== state) log.push(message); // logged once per change
      states.set(channel, state);
      if (state.startsWith("offline")) controller.abort();
    },
    log: (record: { message: string }) => log.push(record.message),
    clock: {
      now: () => Date.now(),
      sleep: () => Promise.resolve(),
      random: () => 0.5,
    },
  });
  return { frames, outcome: `${frames} frame(s)`, log };
}

const photo = await Deno.readFile(new URL("samples/african_elephant.jpg", ROOT));
const enc = new TextEncoder();
const esp32Part = concat(
  enc.encode(`\r\n--frame\r\nContent-Type: image/jpeg\r\nContent-Length: ${photo.length}\r\n\r\n`),
  photo,
);

type Result = { frames: number; outcome: string; log?: string[] };

/**
 * Each case: the finding, its input's size in MB, and `prepare`, which builds the input (not
 * timed) and returns the run to time against a checkout's modules.
 */
const CASES: Record<
  string,
  { finding: string; mb: number; prepare: (m: Modules) => () => Result | Promise<Result> }
> = {
  "10 KB boundary over 'a' x 2 MB, 64 KB chunks": {
    finding: "6",
    mb: 2,
    prepare: (m) => {
      const { boundary, bytes } = sameLetterMultipart(10 * KB, 2 * MB);
      return () => feed(() => new m.multipart.MultipartParser(boundary), bytes, 64 * KB);
    },
  },
  "10 KB boundary over 'a' x 30 MB, 64 KB chunks": {
    finding: "6",
    mb: 30,
    prepare: (m) => {
      const { boundary, bytes } = sameLetterMultipart(10 * KB, 30 * MB);
      return () => feed(() => new m.multipart.MultipartParser(boundary), bytes, 64 * KB);
    },
  },
  "70-char boundary over 'a' x 30 MB, 64 KB chunks": {
    finding: "6",
    mb: 30,
    prepare: (m) => {
      const { boundary, bytes } = sameLetterMultipart(70, 30 * MB);
      return () => feed(() => new m.multipart.MultipartParser(boundary), bytes, 64 * KB);
    },
  },
  "FF D8 + 32 MB of FF, 64 KB chunks": {
    finding: "7",
    mb: 32,
    prepare: (m) => {
      const bytes = fillRun(32 * MB - 16);
      return () => feed(() => new m.splitter.JpegSplitter(), bytes, 64 * KB);
    },
  },
  "FF D8 + 16 MB of FF, 4 KB chunks": {
    finding: "7",
    mb: 16,
    prepare: (m) => {
      const bytes = fillRun(16 * MB);
      return () => feed(() => new m.splitter.JpegSplitter(), bytes, 4 * KB);
    },
  },
  "FF D8 + 16 MB of FF, 4 KB chunks, no fill cap": {
    finding: "7",
    mb: 16,
    prepare: (m) => {
      const bytes = fillRun(16 * MB);
      const options = { maxFillBytes: 32 * MB }; // ignored by a splitter without the cap
      return () => feed(() => new m.splitter.JpegSplitter(32 * MB, options), bytes, 4 * KB);
    },
  },
  "multipart parts with 16 KB headers, 1-byte chunks (x4)": {
    finding: "header reader",
    mb: 0,
    prepare: (m) => {
      const bytes = longHeaderParts(photo, 4, 16000);
      return () => feed(() => new m.multipart.MultipartParser("frame"), bytes, 1);
    },
  },
  "multipart/x-mixed-replace, no boundary, 40 MB of parts": {
    finding: "10",
    mb: 40,
    prepare: (m) => {
      const bytes = concat(...Array(Math.ceil(40 * MB / esp32Part.length)).fill(esp32Part));
      return () => viaHttp(m, "multipart/x-mixed-replace", bytes, 64 * KB);
    },
  },
  "video/x-motion-jpeg, 8 MB of JPEGs back to back": {
    finding: "10",
    mb: 8,
    prepare: (m) => {
      const bytes = concat(...Array(Math.ceil(8 * MB / photo.length)).fill(photo));
      return () => viaHttp(m, "video/x-motion-jpeg", bytes, 64 * KB);
    },
  },
  "text/html login page (200)": {
    finding: "21.7",
    mb: 0,
    prepare: (m) => {
      const bytes = enc.encode("<html><body>Login</body></html>");
      return () => viaHttp(m, "text/html", bytes, 64 * KB);
    },
  },
};

/** The peak RSS of this process, from /proc (MB). */
async function peakRssMb(): Promise<number> {
  const status = await Deno.readTextFile("/proc/self/status");
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

async function child(name: string, repo: string): Promise<void> {
  const base = new URL(`${repo.replace(/\/$/, "")}/src/ingest/sources/`, "file:///");
  const m: Modules = {
    multipart: await import(new URL("multipart.ts", base).href),
    splitter: await import(new URL("jpeg_splitter.ts", base).href),
    http: await import(new URL("http_snapshot.ts", base).href),
  };
  const c = CASES[name];
  const run = c.prepare(m);
  const before = process.cpuUsage();
  const result = await run();
  const used = process.cpuUsage(before);
  const out: Outcome = {
    mb: c.mb,
    cpuMs: (used.user + used.system) / 1000,
    peakRssMb: await peakRssMb(),
    ...result,
  };
  console.log(JSON.stringify(out));
}

/**
 * Runs one case against `repo` in a child whose CPU time is capped at `limitS` seconds
 * (`ulimit -t`: the cap holds however busy the machine is); undefined when it ran over.
 */
async function runChild(name: string, repo: string, limitS: number) {
  const self = new URL(import.meta.url).pathname;
  const proc = new Deno.Command("sh", {
    args: [
      "-c",
      `ulimit -t ${limitS} && exec "$0" run -A --lock="$4" "$1" --child "$2" --repo "$3"`,
      Deno.execPath(),
      self,
      name,
      repo,
      new URL("../deno.dev.lock", import.meta.url).pathname,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const { stdout, stderr, success, signal } = await proc.output();
  if (signal === "SIGXCPU" || signal === "SIGKILL") return undefined;
  if (!success) {
    const err = new TextDecoder().decode(stderr).trim().split("\n").at(-1) ?? "";
    return err ? { error: err } : undefined;
  }
  return JSON.parse(new TextDecoder().decode(stdout).trim().split("\n").at(-1)!) as Outcome;
}

const args = parseArgs(Deno.args, { string: ["child", "repo", "only", "runs", "limit"] });
if (args.child) {
  await child(String(args.child), String(args.repo));
} else {
  const here = new URL(".", ROOT).pathname;
  const repos = args.repo ? [["before", String(args.repo)], ["after", here]] : [["here", here]];
  const runs = Number(args.runs ?? 1);
  const limit = Number(args.limit ?? 60);
  const only = new RegExp(String(args.only ?? ""));
  const rows: (string | number)[][] = [];
  const logs: string[] = [];
  for (const name of Object.keys(CASES).filter((n) => only.test(n))) {
    for (const [label, repo] of repos) {
      const results: Outcome[] = [];
      let shown = "";
      for (let r = 0; r < runs && !shown; r++) {
        const result = await runChild(name, repo, limit);
        if (result === undefined) shown = `> ${limit} s (stopped)`;
        else if ("error" in result) shown = `failed: ${result.error}`;
        else results.push(result);
      }
      const last = results.at(-1);
      const cpu = results.length ? median(results.map((x) => x.cpuMs)) : NaN;
      const mb = CASES[name].mb;
      rows.push([
        name,
        CASES[name].finding,
        label,
        shown ? shown : `${(cpu / 1000).toFixed(2)} s`,
        shown || !mb ? "" : `${(cpu / mb).toFixed(1)} ms`,
        last ? String(last.frames) : "",
        last ? last.peakRssMb.toFixed(0) : "",
        last ? (last.log ? "(log below)" : last.outcome.slice(0, 90)) : "",
      ]);
      if (last?.log) logs.push(`${name}, ${label}:\n  ${last.log.join("\n  ")}`);
      console.error(`${name} (${label}): ${rows.at(-1)!.slice(3).join(" | ")}`);
    }
  }
  console.log(
    markdownTable(
      ["input", "finding", "checkout", "CPU", "CPU per MB", "frames", "peak RSS MB", "outcome"],
      rows,
    ),
  );
  console.log(`\nLog lines of the inputs read through the HTTP source:\n${logs.join("\n")}`);
}
