/**
 * Frames per second through each ingest source type on this machine: every source is fed faster
 * than the model can infer (so the numbers are the end-to-end rate of events, with the drops
 * counted), for `--seconds` each (default 8), with the bundled 0.75 model and the 500x375
 * elephant photo as the frame.
 *
 * `deno run -A bench/ingest_fps.ts [--seconds 8]`
 *
 * @module
 */
import mqtt from "npm:mqtt@5.16.0";
import { parseArgs } from "../src/cli/parse_args.ts";
import { loadMobileNet } from "../mod.ts";
import { runIngest } from "../src/ingest/ingest.ts";
import { createSource } from "../src/ingest/sources/create.ts";
import { StreamSource } from "../src/ingest/sources/stdin.ts";
import { WatchDirSource } from "../src/ingest/sources/watch_dir.ts";
import type { Source } from "../src/ingest/types.ts";
import type { IngestEvent } from "../src/ingest/event.ts";
import { median } from "../src/_util.ts";

const flags = parseArgs(Deno.args, { string: ["seconds"] });
const SECONDS = Number(flags.seconds ?? 8);
const PHOTO = new URL("../tests/fixtures/images/n02504458_African_elephant.JPEG", import.meta.url);
const jpeg = await Deno.readFile(PHOTO);
const model = await loadMobileNet();

async function startCamera(fps: number) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./ingest_camera.ts", import.meta.url).pathname,
      PHOTO.pathname,
      String(fps),
    ],
    stdout: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  return { child, port: Number(value!.split(" ")[0]) };
}

async function measure(
  name: string,
  source: Source,
  feed?: (signal: AbortSignal) => Promise<void>,
) {
  const controller = new AbortController();
  const events: IngestEvent[] = [];
  const run = runIngest({
    model,
    sources: [source],
    sinks: [],
    signal: controller.signal,
    onEvent: (e) => events.push(e),
  });
  const feeding = feed?.(controller.signal);
  await new Promise((resolve) => setTimeout(resolve, 1500)); // warm-up
  const from = events.length;
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  const seconds = (performance.now() - t0) / 1000;
  const window = events.slice(from);
  controller.abort();
  const stats = await run;
  await feeding;
  const s = Object.values(stats.sources).reduce(
    (a, b) => ({ received: a.received + b.received, dropped: a.dropped + b.dropped }),
    { received: 0, dropped: 0 },
  );
  const row = {
    source: name,
    eventsPerSecond: Math.round((window.length / seconds) * 10) / 10,
    framesReceived: s.received,
    dropped: s.dropped,
    inferenceMsMedian: Math.round(median(window.map((e) => e.timings.inferenceMs)) * 10) / 10,
    totalMsMedian: Math.round(median(window.map((e) => e.timings.totalMs)) * 10) / 10,
  };
  console.log(JSON.stringify(row));
  return row;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
  });

// HTTP snapshots, polled back to back.
{
  const cam = await startCamera(30);
  await measure(
    "http snapshot",
    createSource(`http://127.0.0.1:${cam.port}/snapshot.jpg`, { everyMs: 1 }),
  );
  cam.child.kill();
  await cam.child.status;
}
// MJPEG at 30 fps.
{
  const cam = await startCamera(30);
  await measure("mjpeg (30 fps camera)", createSource(`http://127.0.0.1:${cam.port}/stream`));
  cam.child.kill();
  await cam.child.status;
}
// stdin-style byte stream: JPEGs back to back at 30 fps.
{
  let stop = false;
  const readable = new ReadableStream<Uint8Array>({
    async pull(controller) {
      await sleep(33);
      if (stop) controller.close();
      else controller.enqueue(jpeg);
    },
  });
  await measure("stdin (30 fps)", new StreamSource({ readable }), async (signal) => {
    await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    stop = true;
  });
}
// A watched folder: a new file renamed into place every 50 ms.
{
  const dir = await Deno.makeTempDir({ prefix: "ingest_fps_" });
  await measure(
    "watched folder (20 files/s)",
    new WatchDirSource({ dir, settleMs: 20 }),
    async (signal) => {
      for (let i = 0; !signal.aborted; i++) {
        await Deno.writeFile(`${dir}/.tmp`, jpeg);
        await Deno.rename(`${dir}/.tmp`, `${dir}/img${i % 50}.jpg`);
        await sleep(50, signal);
      }
    },
  );
  await Deno.remove(dir, { recursive: true });
}
// MQTT: 30 snapshots a second on one topic (a real Mosquitto, if installed).
{
  const bin = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"].find((p) => {
    try {
      return Deno.statSync(p).isFile;
    } catch {
      return false;
    }
  });
  if (!bin) console.log(JSON.stringify({ source: "mqtt", skipped: "install mosquitto" }));
  else {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    const conf = await Deno.makeTempFile();
    await Deno.writeTextFile(
      conf,
      `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`,
    );
    const broker = new Deno.Command(bin, { args: ["-c", conf], stdout: "null", stderr: "null" })
      .spawn();
    await sleep(300);
    const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
    await measure(
      "mqtt (30 msg/s)",
      createSource(`mqtt://127.0.0.1:${port}/cam/snapshot`),
      async (signal) => {
        while (!signal.aborted) {
          await pub.publishAsync("cam/snapshot", Buffer.from(jpeg), { qos: 0 });
          await sleep(33, signal);
        }
      },
    );
    await pub.endAsync();
    broker.kill();
    await broker.status;
    await Deno.remove(conf);
  }
}
await model.dispose();
