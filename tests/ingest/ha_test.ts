/**
 * Home Assistant through the real CLI and a real Mosquitto: `deno task ingest - --head HEAD
 * --confirm 2 --name NAME --mqtt-out ... --ha-discovery homeassistant`. The discovery config
 * passes Home Assistant's sensor schema, its state is the confirmed taught class, and the sensor
 * goes unavailable when ingest dies (the broker publishes the last will) or stops (`offline`).
 */
import mqtt from "npm:mqtt@5.16.0";
import jpegJs from "npm:jpeg-js@0.4.4";
import { assert, assertEquals } from "../_assert.ts";
import { loadMobileNet, teach } from "../../mod.ts";
import { DOORSTEP } from "../../bench/teach_scene.ts";
import { frames } from "../head/_frames.ts";
import { MOSQUITTO, Mosquitto } from "./_mosquitto.ts";
import { concat } from "./_photos.ts";
import { sensorConfigProblems } from "./_ha_schema.ts";
import { spawnIngest } from "./_cli.ts";

/** A generated front-door frame as a JPEG. */
function sceneJpeg(state: "empty" | "package", seed: number): Uint8Array {
  const frame = frames(state, 1, seed)[0];
  const data = new Uint8Array(frame.width * frame.height * 4);
  for (let i = 0; i < frame.width * frame.height; i++) {
    data.set(frame.data.subarray(i * 3, i * 3 + 3), i * 4);
    data[i * 4 + 3] = 255;
  }
  return new Uint8Array(jpegJs.encode({ data, width: frame.width, height: frame.height }, 95).data);
}

/** What Home Assistant renders from a state message, for the templates ingest sends. */
function render(template: string, payload: string): string {
  const value = JSON.parse(payload);
  const templates: Record<string, () => string> = {
    "{{ value_json.state }}": () => value.state,
    "{{ 'unknown' if value_json.unknown else value_json.predictions[0].label }}": () =>
      value.unknown ? "unknown" : value.predictions[0].label,
    "{{ value_json.predictions[0].label }}": () => value.predictions[0].label,
  };
  assert(template in templates, `a template this test does not know: ${template}`);
  return templates[template]();
}

/** Messages seen by a subscriber, and a wait for a condition on them. */
async function subscribe(url: string, topics: string[]) {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  const got: { topic: string; payload: string; retain: boolean }[] = [];
  client.on("message", (topic, payload, packet) => {
    got.push({ topic, payload: payload.toString(), retain: packet.retain });
  });
  await client.subscribeAsync(topics, { qos: 1 });
  const until = async (what: string, ok: () => boolean) => {
    for (let i = 0; i < 500 && !ok(); i++) await new Promise((r) => setTimeout(r, 20));
    assert(
      ok(),
      `${what}; got ${JSON.stringify(got.map((m) => [m.topic, m.payload.slice(0, 40)]))}`,
    );
  };
  return { client, got, until };
}

/** A head taught on generated frames, saved; and two JPEG frames of each state it gets right. */
async function garageHead(dir: string) {
  const model = await loadMobileNet({ model: "0.25_224" });
  try {
    const head = await teach(model, {
      package: frames("package", 4, 100),
      empty: frames("empty", 4, 200),
    }, { zone: DOORSTEP });
    await head.save(`${dir}/garage.json`);
    const pick = async (state: "empty" | "package", seeds: number[]) => {
      const picked = [];
      for (const seed of seeds) {
        const bytes = sceneJpeg(state, seed);
        const r = await model.withHead(head).classifyDetailed(bytes);
        if (!r.unknown && r.predictions[0].label === state) picked.push(bytes);
      }
      assert(picked.length >= 2, `${picked.length} ${state} frames answered right`);
      return picked.slice(0, 2);
    };
    return {
      empty: await pick("empty", [400, 402, 404, 406]),
      pkg: await pick("package", [300, 301, 303, 304]),
    };
  } finally {
    await model.dispose();
  }
}

/** Checks the discovery config against Home Assistant's schema, and its state rendering. */
function checkSensor(got: { topic: string; payload: string }[]) {
  const config = JSON.parse(
    got.find((m) => m.topic === "homeassistant/sensor/mobilenet_edge_garage_door/config")!.payload,
  );
  assertEquals(sensorConfigProblems(config), []);
  assertEquals(config.default_entity_id, "sensor.mobilenet_edge_garage_door");
  assertEquals([config.name, config.device.name], ["State", "Garage door"]);
  assertEquals(config.state_topic, "mobilenet/garage_door/state");
  assertEquals(config.availability_topic, "mobilenet/available");
  const states = got.filter((m) => m.topic === config.state_topic);
  assertEquals(states.map((m) => render(config.value_template, m.payload)), ["empty", "package"]);
  assertEquals(states.map((m) => JSON.parse(m.payload).previous), [null, "empty"]);
}

Deno.test({
  name:
    "Home Assistant: a valid discovery config, the confirmed taught class as state, unavailable when ingest dies or stops",
  ignore: MOSQUITTO === undefined,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ingest_ha_" });
    const broker = await Mosquitto.start();
    const sub = await subscribe(broker.url, ["homeassistant/#", "mobilenet/#"]);
    const topic = (name: string) => sub.got.filter((m) => m.topic === name);
    const states = () => topic("mobilenet/garage_door/state");
    const availability = () => topic("mobilenet/available").map((m) => m.payload);
    try {
      const { empty, pkg } = await garageHead(dir);
      const args = ["-", "--head", `${dir}/garage.json`, "--confirm", "2", "--name", "Garage door"];
      args.push("--mqtt-out", `${broker.url}/mobilenet/{camera}/state`);
      args.push("--ha-discovery", "homeassistant", "--quiet");
      // 1. ingest dies: the broker publishes its last will
      const child = spawnIngest(args, "null");
      const stderr = new Response(child.stderr).text();
      await child.stdin.getWriter().write(concat(...empty, ...pkg));
      await sub.until("two state changes", () => states().length >= 2);
      checkSensor(sub.got);
      assertEquals(availability(), ["online"]);
      child.kill("SIGKILL");
      await child.status;
      await stderr;
      await sub.until("the last will", () => availability().length === 2);
      assertEquals(availability(), ["online", "offline"]);
      // 2. ingest stops: it says offline itself, and prints its summary
      const again = spawnIngest(args, "null");
      const log = new Response(again.stderr).text();
      await again.stdin.getWriter().write(concat(...empty));
      await sub.until("online, and the state again", () => states().length === 3);
      again.kill("SIGTERM");
      assertEquals((await again.status).code, 0);
      await sub.until("offline on stop", () => availability().length === 4);
      assertEquals(availability(), ["online", "offline", "online", "offline"]);
      const text = await log;
      assert(/info {3}stdin: 2 received, 2 inferred, 1 events, 0 dropped/.test(text), text);
    } finally {
      await sub.client.endAsync();
      await broker.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("the schema check refuses what Home Assistant warns about: object_id, an entity named after its device", () => {
  const config = {
    name: "Garage door state",
    unique_id: "x",
    object_id: "x",
    state_topic: "a/b",
    availability_topic: "a/+",
    device: { name: "Garage door" },
  };
  assertEquals(sensorConfigProblems(config), [
    "object_id is not a field Home Assistant reads",
    "object_id is deprecated: use default_entity_id",
    "default_entity_id must be sensor.<object id>, got undefined",
    "availability_topic must be a topic",
    "a device needs identifiers or connections",
    "an entity name must not start with its device's name",
  ]);
});
