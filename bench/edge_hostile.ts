/**
 * Hostile clients against the real edge server (`sh edge/serve.sh`, as `deno task serve` runs
 * it), loopback only, bounded in time (issue 17). For each decode mode (`MOBILENET_EDGE_DECODE`):
 *
 * - `/healthz` latency at rest (median of 20), and while the hostile image of the edge tests
 *   (`worstCaseJpeg()` of `tests/image/_jpeg_scans.ts`: the costliest JPEG the work budget
 *   still admits, 75 legal progressive scans over 5792x5792) is being classified: `/healthz` polled back to
 *   back until it is answered (max and median), a photo sent meanwhile (its latency), and the
 *   hostile request's own answer;
 * - a photo while two clients send their bodies at 1 byte/s, and while one client has sent 10 of
 *   the 1000 bytes it declared and stalls: the photo's latency (40 s at most), and when and how the
 *   slow clients were answered;
 * - the server's peak RSS (VmHWM) at the end.
 *
 * Run: `deno run -A bench/edge_hostile.ts [--decode worker,inline] [--model 0.75_224]
 * [--threads 1]`. (Run from a checkout of an older commit, with `--no-check`, it measures that
 * server: the "before" of issue 17.)
 *
 * @module
 */
import { median } from "../src/_util.ts";
import { parseArgs } from "../src/cli/parse_args.ts";
import { markdownTable } from "./_table.ts";
import { ELEPHANT } from "../tests/edge/_helpers.ts";
import { worstCaseJpeg } from "../tests/image/_jpeg_scans.ts";
import { RawClient, rawHead } from "../tests/edge/_loopback.ts";
import { procMemory, type ServeProcess, startServe, waitReady } from "../tests/edge/_serve.ts";

const args = parseArgs(Deno.args, { string: ["decode", "model", "threads"] });
const MODES = String(args.decode ?? "worker,inline").split(",");
const MODEL = String(args.model ?? "0.75_224");
const THREADS = String(args.threads ?? "1");
/** The longest a photo is waited for. */
const PHOTO_LIMIT_MS = 40_000;
/** Body timeouts for the run (short, so that the slow clients' answers are seen). */
const BODY_ENV = { MOBILENET_EDGE_BODY_IDLE_MS: "5000", MOBILENET_EDGE_BODY_TIMEOUT_MS: "10000" };

const photo = await Deno.readFile(ELEPHANT);
const hostile = worstCaseJpeg();

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function timed(send: () => Promise<Response>): Promise<{ ms: number; status: string }> {
  const t0 = performance.now();
  try {
    const response = await send();
    const body = await response.json().catch(() => ({}));
    const code = body.error?.code ? ` ${body.error.code}` : "";
    return { ms: performance.now() - t0, status: `${response.status}${code}` };
  } catch (error) {
    return { ms: performance.now() - t0, status: (error as Error).name };
  }
}

function post(url: string, bytes: Uint8Array, limitMs = PHOTO_LIMIT_MS) {
  return timed(() =>
    fetch(`${url}/v1/classify`, {
      method: "POST",
      body: bytes as Uint8Array<ArrayBuffer>,
      headers: { "content-type": "image/jpeg" },
      signal: AbortSignal.timeout(limitMs),
    })
  );
}

const health = (url: string) =>
  timed(() => fetch(`${url}/healthz`, { signal: AbortSignal.timeout(PHOTO_LIMIT_MS) }));

/** `/healthz` polled back to back while the hostile image is classified; a photo meanwhile. */
async function duringHostile(url: string) {
  const answer = post(url, hostile, 300_000);
  let done = false;
  answer.finally(() => done = true);
  const photoDuring = delay(300).then(() => post(url, photo));
  const polls: number[] = [];
  while (!done) polls.push((await health(url)).ms);
  return { polls, photo: await photoDuring, hostile: await answer };
}

/** A photo while `clients` raw clients send their bodies badly; when they are answered. */
async function duringSlow(server: ServeProcess, declared: number, trickle: boolean) {
  const t0 = performance.now();
  const clients = [await RawClient.connect(Number(new URL(server.url).port))];
  if (trickle) clients.push(await RawClient.connect(Number(new URL(server.url).port)));
  const answered: string[] = [];
  for (const client of clients) {
    await client.write(
      rawHead({ "content-length": String(declared) }) + (trickle ? "" : "x".repeat(10)),
    );
    client.response().then(({ status }) =>
      answered.push(`${status || "none"} at ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    );
  }
  let sending = trickle;
  const sender = (async () => {
    for (let i = 0; i < declared && sending; i++) {
      for (const client of clients) sending = (await client.write("x")) && sending;
      await delay(1000);
    }
  })();
  await delay(2000);
  const result = await post(server.url, photo);
  for (let i = 0; i < 150 && answered.length < clients.length; i++) await delay(100);
  sending = false;
  for (const client of clients) client.abort();
  await sender;
  return { photo: result, answered: answered.join(", ") || "not within 15 s" };
}

async function mode(decode: string): Promise<(string | number)[]> {
  const server = await startServe({
    MOBILENET_EDGE_MODEL: MODEL,
    MOBILENET_EDGE_THREADS: THREADS,
    MOBILENET_EDGE_DECODE: decode,
    ...BODY_ENV,
  });
  try {
    await waitReady(server.url);
    await post(server.url, photo); // warm, and the worker is started once the model is in
    for (let i = 0; i < 100; i++) {
      const { decoder } = await (await fetch(`${server.url}/healthz`)).json();
      if (decoder === undefined || decoder === decode) break;
      await delay(100);
    }
    const idle: number[] = [];
    for (let i = 0; i < 20; i++) idle.push((await health(server.url)).ms);
    const hostileRun = await duringHostile(server.url);
    const slow = await duringSlow(server, 100, true);
    const stalled = await duringSlow(server, 1000, false);
    const ms = (r: { ms: number; status: string }) =>
      r.status.startsWith("200") ? r.ms.toFixed(0) : `${r.status} after ${r.ms.toFixed(0)}`;
    return [
      decode,
      median(idle),
      `${Math.max(...hostileRun.polls).toFixed(0)} / ${median(hostileRun.polls).toFixed(0)} ` +
      `(${hostileRun.polls.length})`,
      ms(hostileRun.photo),
      `${hostileRun.hostile.status} in ${hostileRun.hostile.ms.toFixed(0)}`,
      ms(slow.photo),
      slow.answered,
      ms(stalled.photo),
      stalled.answered,
      procMemory(server.pid).hwmMiB,
    ];
  } finally {
    await server.stop();
  }
}

console.log(
  `edge hostile: ${MODEL}, ${THREADS} thread(s), hostile body ${hostile.length} bytes, ` +
    `${BODY_ENV.MOBILENET_EDGE_BODY_IDLE_MS}/${BODY_ENV.MOBILENET_EDGE_BODY_TIMEOUT_MS} ms body ` +
    `idle/total timeouts; all times in ms\n`,
);
const rows = [];
for (const decode of MODES) rows.push(await mode(decode));
console.log(markdownTable([
  "decode",
  "healthz at rest",
  "healthz during hostile: max / p50 (polls)",
  "photo during hostile",
  "hostile answer",
  "photo with 2 bodies at 1 B/s",
  "those 2 answered",
  "photo with a stalled short body",
  "it answered",
  "VmHWM MiB",
], rows));
