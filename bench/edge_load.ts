/**
 * Load test of the edge endpoint, loopback only, bounded in count and time. For each model
 * variant it starts the real server as `deno task serve` does (`sh edge/serve.sh`, its
 * least-privilege flags) and measures:
 *
 * - cold start: process spawn to the first 200 of `POST /v1/classify` (the request is sent as
 *   soon as the port accepts connections, and waits for the weights), and the CPU time the
 *   server used until then;
 * - 200 classifications of a 500x375 JPEG at concurrency 1, 4 and 16: p50/p99 latency,
 *   throughput, statuses (anything but 200 and a designed 503 counts as a failure);
 * - CPU ms per request (utime + stime of `/proc/<pid>/stat`, over the concurrency-1 run);
 * - server RSS after each run (`VmRSS`) and the peak (`VmHWM`), and RSS after each further
 *   round of the same load, to show it is flat.
 *
 * Run: `deno run -A bench/edge_load.ts [--models 0.25_224,0.75_224] [--threads auto|1]
 * [--requests 200] [--concurrency 1,4,16] [--rounds 3] [--limit-s 300] [--server-env K=V,...]`
 *
 * `--server-env` adds variables to the server's environment, e.g. the process settings that keep
 * its memory flat (issue 18): `--server-env MALLOC_ARENA_MAX=1,MALLOC_MMAP_THRESHOLD_=65536,
 * MALLOC_TRIM_THRESHOLD_=131072,DENO_V8_FLAGS=--max-semi-space-size=1`.
 *
 * @module
 */
import { parseArgs } from "../src/cli/parse_args.ts";
import { procMemory as status, startServe } from "../tests/edge/_serve.ts";

const args = parseArgs(Deno.args, {
  string: ["models", "threads", "requests", "concurrency", "limit-s", "rounds", "server-env"],
});
const MODELS = String(args.models ?? "0.25_224,0.75_224").split(",");
const THREADS = args.threads === undefined ? undefined : String(args.threads);
/** Variables added to the server's environment (`--server-env K=V,K2=V2`). */
const SERVER_ENV: Record<string, string> = Object.fromEntries(
  String(args["server-env"] ?? "").split(",").filter((kv) => kv.includes("=")).map((kv) => {
    const at = kv.indexOf("=");
    return [kv.slice(0, at), kv.slice(at + 1)];
  }),
);
const REQUESTS = Number(args.requests ?? 200);
const LEVELS = String(args.concurrency ?? "1,4,16").split(",").map(Number);
const LIMIT_MS = Number(args["limit-s"] ?? 300) * 1000;
/** Rounds of the whole load (the first is reported in the table; RSS after each). */
const ROUNDS = Number(args.rounds ?? 3);
/** Linux clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on every mainstream kernel). */
const CLOCK_TICKS = 100;

const photo = await Deno.readFile(
  new URL("../tests/fixtures/images/n02504458_African_elephant.JPEG", import.meta.url),
);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

function cpuMs(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 of the line (utime, stime) are 11 and 12 after the command name.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

async function classify(url: string): Promise<{ status: number; ms: number; code?: string }> {
  const t0 = performance.now();
  const response = await fetch(`${url}/v1/classify`, {
    method: "POST",
    body: photo,
    headers: { "content-type": "image/jpeg" },
  });
  const body = await response.json();
  return { status: response.status, ms: performance.now() - t0, code: body.error?.code };
}

interface Run {
  concurrency: number;
  done: number;
  ok: number;
  overloaded: number;
  failed: number;
  p50: number;
  p99: number;
  rps: number;
  cpuPerRequest: number;
  rssMiB: number;
}

async function load(url: string, pid: number, concurrency: number, deadline: number): Promise<Run> {
  let next = 0;
  const latencies: number[] = [];
  const counts = { ok: 0, overloaded: 0, failed: 0 };
  const cpu0 = cpuMs(pid);
  const t0 = performance.now();
  const worker = async () => {
    while (next < REQUESTS && performance.now() < deadline) {
      next++;
      const r = await classify(url).catch(() => ({ status: 0, ms: 0, code: "NETWORK" }));
      if (r.status === 200) (counts.ok++, latencies.push(r.ms));
      else if (r.status === 503 && r.code === "OVERLOADED") counts.overloaded++;
      else (counts.failed++, console.error(`failed: ${r.status} ${r.code}`));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  const done = counts.ok + counts.overloaded + counts.failed;
  return {
    concurrency,
    done,
    ...counts,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    rps: counts.ok / seconds,
    cpuPerRequest: (cpuMs(pid) - cpu0) / done,
    rssMiB: status(pid).rssMiB,
  };
}

/** The server's JS heap used and external memory, from /healthz. */
async function heap(url: string): Promise<string> {
  const { memory } = await (await fetch(`${url}/healthz`)).json();
  return `${memory.heapUsedMiB.toFixed(1)}/${memory.externalMiB.toFixed(1)}`;
}

async function coldStart(env: Record<string, string>) {
  const server = await startServe(env);
  let first = await classify(server.url);
  for (let i = 0; first.status !== 200 && i < 20; i++) first = await classify(server.url);
  if (first.status !== 200) throw new Error(`no 200 at start: ${first.status} ${first.code}`);
  return { server, coldMs: performance.now() - server.spawnedAt, coldCpuMs: cpuMs(server.pid) };
}

async function variant(model: string): Promise<void> {
  const env: Record<string, string> = { ...SERVER_ENV, MOBILENET_EDGE_MODEL: model };
  if (THREADS) env.MOBILENET_EDGE_THREADS = THREADS;
  const deadline = performance.now() + LIMIT_MS;
  const { server, coldMs, coldCpuMs } = await coldStart(env);
  try {
    const health = await (await fetch(`${server.url}/healthz`)).json();
    const afterStart = status(server.pid).rssMiB;
    const runs: Run[] = [];
    for (const c of LEVELS) runs.push(await load(server.url, server.pid, c, deadline));
    const rounds = [status(server.pid).rssMiB];
    const heaps = [await heap(server.url)];
    for (let round = 1; round < ROUNDS; round++) {
      for (const c of LEVELS) runs.push(await load(server.url, server.pid, c, deadline));
      rounds.push(status(server.pid).rssMiB);
      heaps.push(await heap(server.url));
    }
    const { hwmMiB } = status(server.pid);
    console.log(
      `\n### ${model} (${health.backend.binary}, ${health.backend.threads} thread(s))\n\n` +
        `cold start (spawn to first 200): ${coldMs.toFixed(0)} ms, ${coldCpuMs.toFixed(0)} ms ` +
        `of CPU; RSS after start ` +
        `${afterStart.toFixed(1)} MiB, after each round of the load ` +
        `${rounds.map((r) => r.toFixed(1)).join(" -> ")} MiB (JS heap used/external ` +
        `${heaps.join(" -> ")} MiB); peak (VmHWM) ${hwmMiB.toFixed(1)} MiB\n`,
    );
    console.log(
      "| concurrency | requests | 200 | 503 | failed | p50 ms | p99 ms | req/s | CPU ms/req | RSS MiB |",
    );
    console.log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const r of runs.slice(0, LEVELS.length)) {
      console.log(
        `| ${r.concurrency} | ${r.done} | ${r.ok} | ${r.overloaded} | ${r.failed} | ` +
          `${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.rps.toFixed(1)} | ` +
          `${r.cpuPerRequest.toFixed(1)} | ${r.rssMiB.toFixed(1)} |`,
      );
    }
    const failed = runs.reduce((n, r) => n + r.failed, 0);
    if (failed > 0) {
      console.error(`${failed} requests failed other than by a designed 503`);
      Deno.exitCode = 1;
    }
  } finally {
    await server.stop();
  }
}

console.log(
  `edge load: ${REQUESTS} requests per level, concurrency ${LEVELS.join("/")}, threads ` +
    `${THREADS ?? "default (auto)"}, loopback, at most ${LIMIT_MS / 1000} s per model` +
    (Object.keys(SERVER_ENV).length ? `; server env ${JSON.stringify(SERVER_ENV)}` : ""),
);
for (const model of MODELS) await variant(model);
