/**
 * The MQTT source against a real Mosquitto: Frigate's retained snapshot handled once and
 * marked, live snapshots, a broker restart, and two ingest processes splitting a shared
 * subscription (`--group`) so that each of 100 snapshots is inferred exactly once.
 */
import mqtt, { type MqttClient } from "npm:mqtt@5.16.0";
import { assert, assertEquals } from "../../_assert.ts";
import { ingestUntil, top1, withModel } from "../_harness.ts";
import { MOSQUITTO, Mosquitto } from "../_mosquitto.ts";
import { padded, readPhotos } from "../_photos.ts";
import { LineReader } from "../_lines.ts";
import { spawnIngest } from "../_cli.ts";
import { MqttSource } from "../../../src/ingest/sources/mqtt.ts";
import type { IngestEvent } from "../../../src/ingest/event.ts";

const photos = await readPhotos();
const ignore = MOSQUITTO === undefined;

async function publisher(url: string) {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  return client;
}

/**
 * What the first test does as events come: a live snapshot after the retained one, then a
 * broker restart (Frigate publishes its retained snapshot again), then a new camera once
 * subscribed again. Returns the step reached; `pending` collects what it started.
 */
function brokerScript(broker: Mosquitto, state: { pub: MqttClient; pending: Promise<unknown>[] }) {
  let step = 0;
  const publish = (topic: string, bytes: Uint8Array, retain = false) =>
    state.pub.publishAsync(topic, Buffer.from(bytes), { qos: 1, retain });
  return (events: number, lines: string[]): number => {
    if (step === 0 && events === 1) {
      step = 1;
      state.pending.push(publish("frigate/back/person/snapshot", photos[1].bytes));
    } else if (step === 1 && events === 2) {
      step = 2;
      state.pending.push((async () => {
        await Promise.allSettled(state.pending);
        await state.pub.endAsync();
        await broker.restart(); // retained messages are gone (no persistence)...
        state.pub = await publisher(broker.url);
        // ...and Frigate publishes its retained snapshot again: the same image.
        await publish("frigate/front/person/snapshot", photos[0].bytes, true);
        step = 3;
      })());
    } else if (step === 3 && lines.filter((l) => l.includes("subscribed to")).length === 2) {
      step = 4;
      state.pending.push(publish("frigate/side/person/snapshot", photos[2].bytes));
    }
    return step;
  };
}

Deno.test({
  name:
    "MQTT: a retained Frigate snapshot is handled once and marked; live ones follow; a broker restart is survived",
  ignore,
  async fn() {
    const broker = await Mosquitto.start();
    const state = { pub: await publisher(broker.url), pending: [] as Promise<unknown>[] };
    try {
      await state.pub.publishAsync("frigate/front/person/snapshot", Buffer.from(photos[0].bytes), {
        retain: true,
        qos: 1,
      });
      await withModel(async (model) => {
        const script = brokerScript(broker, state);
        const run = await ingestUntil({
          model,
          sources: [
            new MqttSource({
              url: `mqtt://user:topsecret@127.0.0.1:${broker.port}/frigate/+/person/snapshot`,
              backoff: { initialMs: 800, maxMs: 1600 },
            }),
          ],
          timeoutMs: 30_000,
          until: (r) => script(r.events.length, r.lines) === 4 && r.events.length >= 3,
        });
        const lines = run.lines.join("\n");
        assertEquals(
          run.events.map(top1),
          [photos[0].label, photos[1].label, photos[2].label],
          lines,
        );
        assertEquals(run.events.map((e) => e.retained), [true, undefined, undefined]);
        assertEquals(
          run.events.map((e) => e.source),
          ["front", "back", "side"].map((c) =>
            `mqtt://127.0.0.1:${broker.port}/frigate/${c}/person/snapshot`
          ),
        );
        // each Frigate camera by its name, from its topic
        assertEquals(run.events.map((e) => e.camera), ["front", "back", "side"]);
        assert(run.lines.some((l) => l.includes("offline")), lines);
        assert(!lines.includes("topsecret"));
      });
      await Promise.all(state.pending);
    } finally {
      await Promise.allSettled(state.pending);
      await state.pub.endAsync(true);
      await broker.stop();
    }
  },
});

/** 10 rounds of a snapshot from each of 10 cameras, each round once the previous is inferred. */
async function publishRounds(pub: MqttClient, inferred: () => number): Promise<void> {
  for (let round = 0; round < 10; round++) {
    for (let cam = 0; cam < 10; cam++) {
      const n = round * 10 + cam;
      const bytes = padded(photos[cam % photos.length].bytes, n + 1);
      await pub.publishAsync(`cams/cam${cam}/snapshot`, Buffer.from(bytes), { qos: 1 });
    }
    const deadline = Date.now() + 60_000;
    while (inferred() < (round + 1) * 10 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

Deno.test({
  name:
    "MQTT scale-out: two ingest processes on one shared subscription infer 100 snapshots once each",
  ignore,
  async fn() {
    const broker = await Mosquitto.start();
    const workers = [0, 1].map(() =>
      spawnIngest(
        [
          `${broker.url}/cams/+/snapshot`,
          ...["--group", "workers", "--top", "1", "--backoff-min", "100ms"],
        ],
        "piped",
        "null",
      )
    );
    const outs = workers.map((w) => new LineReader(w.stdout));
    const errs = workers.map((w) => new LineReader(w.stderr));
    const pub = await publisher(broker.url);
    const events: IngestEvent[][] = [[], []];
    const pump = outs.map(async (out, i) => {
      for (let line = await out.next(60_000); line !== undefined; line = await out.next(60_000)) {
        events[i].push(JSON.parse(line));
      }
    });
    try {
      // Both subscribed before anything is published.
      for (const err of errs) {
        for (let line = await err.next(); line !== undefined; line = await err.next()) {
          if (line.includes("subscribed to $share/workers/cams/+/snapshot")) break;
        }
      }
      await publishRounds(pub, () => events[0].length + events[1].length);
      await new Promise((resolve) => setTimeout(resolve, 300)); // nothing more may come
      for (const w of workers) w.kill("SIGTERM");
      const codes = await Promise.all(workers.map((w) => w.status));
      await Promise.all(pump);
      assertEquals(codes.map((c) => c.code), [0, 0]);
      const all = [...events[0], ...events[1]];
      assertEquals(all.length, 100);
      const keys = new Set(all.map((e) => `${e.source} ${e.frame.bytes}`));
      assertEquals(keys.size, 100, "no snapshot inferred twice");
      assert(
        events[0].length > 0 && events[1].length > 0,
        `split ${events[0].length}/${events[1].length}`,
      );
      assertEquals(all.reduce((n, e) => n + e.dropped, 0), 0);
      for (const e of all) {
        const cam = Number(/cam(\d+)/.exec(e.source)![1]);
        assertEquals(top1(e), photos[cam % photos.length].label);
      }
      console.log(`split between the two processes: ${events[0].length} + ${events[1].length}`);
    } finally {
      for (const w of workers) {
        try {
          w.kill("SIGKILL");
        } catch { /* exited */ }
        await w.status;
      }
      await Promise.all(errs.map((e) => e.rest()));
      await Promise.all(pump);
      await pub.endAsync(true);
      await broker.stop();
    }
  },
});
