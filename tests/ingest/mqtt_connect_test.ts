import { assertEquals, assertThrows } from "../_assert.ts";
import { parseMqttUrl, sharedFilter } from "../../src/ingest/mqtt_connect.ts";

Deno.test("MQTT addresses: the topic filter is taken literally, wildcards and all", () => {
  assertEquals(parseMqttUrl("mqtt://broker:1883/frigate/#"), {
    broker: "mqtt://broker:1883",
    topic: "frigate/#",
    username: undefined,
    password: undefined,
  });
  assertEquals(parseMqttUrl("mqtt://u%40x:p%3Aw@10.0.0.2:1883/frigate/+/person/snapshot"), {
    broker: "mqtt://10.0.0.2:1883",
    topic: "frigate/+/person/snapshot",
    username: "u@x",
    password: "p:w",
  });
  assertEquals(parseMqttUrl("MQTTS://b/a").broker, "mqtts://b");
  assertThrows(() => parseMqttUrl("mqtt://broker:1883"), TypeError, "mqtt://");
  assertThrows(() => parseMqttUrl("mqtt://broker:1883/"), TypeError, "no topic");
  assertThrows(() => parseMqttUrl("http://broker/x"), TypeError);
});

Deno.test("--group makes a shared subscription", () => {
  assertEquals(
    sharedFilter("frigate/+/person/snapshot", "edge"),
    "$share/edge/frigate/+/person/snapshot",
  );
  assertEquals(sharedFilter("a/#", undefined), "a/#");
  assertThrows(() => sharedFilter("a", "x/y"), TypeError, "--group");
  assertThrows(() => sharedFilter("a", "#"), TypeError);
});
