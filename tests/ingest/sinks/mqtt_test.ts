/**
 * The MQTT sink on a real Mosquitto: events published per camera (`{camera}` in the topic),
 * retained when asked, and a Home Assistant discovery config per camera.
 */
import mqtt from "npm:mqtt@5.16.0";
import { assertEquals } from "../../_assert.ts";
import { ingestUntil, withModel } from "../_harness.ts";
import { MOSQUITTO, Mosquitto } from "../_mosquitto.ts";
import { concat, readPhotos } from "../_photos.ts";
import { MqttSink } from "../../../src/ingest/sinks/mqtt.ts";
import { StreamSource } from "../../../src/ingest/sources/stdin.ts";
import type { IngestEvent } from "../../../src/ingest/event.ts";

Deno.test({
  name: "MQTT out: events on a per-camera topic, retained, with Home Assistant discovery",
  ignore: MOSQUITTO === undefined,
  async fn() {
    const broker = await Mosquitto.start();
    const sub = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    const got: { topic: string; payload: string; retain: boolean }[] = [];
    sub.on(
      "message",
      (topic, payload, packet) =>
        got.push({ topic, payload: payload.toString(), retain: packet.retain }),
    );
    try {
      await sub.subscribeAsync(["mobilenet/#", "homeassistant/#"], { qos: 1 });
      const photos = (await readPhotos()).slice(0, 1);
      await withModel(async (model) => {
        const stream = ReadableStream.from([concat(...photos.map((p) => p.bytes))]);
        await ingestUntil({
          model,
          sources: [new StreamSource({ readable: stream, name: "garage" })],
          sinks: [
            new MqttSink(`${broker.url}/mobilenet/{camera}/event`, {
              retain: true,
              discoveryPrefix: "homeassistant",
            }),
          ],
          until: () => false, // runs until the stream ends and the sink is flushed
          timeoutMs: 20_000,
        });
      });
      for (let i = 0; i < 50 && got.length < 4; i++) await new Promise((r) => setTimeout(r, 20));
      assertEquals(got.map((m) => m.topic), [
        "mobilenet/available",
        "homeassistant/sensor/mobilenet_edge_garage/config",
        "mobilenet/garage/event",
        "mobilenet/available",
      ]);
      assertEquals(got.map((m) => m.payload).filter((p) => !p.startsWith("{")), [
        "online",
        "offline",
      ]);
      const config = JSON.parse(got[1].payload);
      assertEquals(config.state_topic, "mobilenet/garage/event");
      assertEquals(config.unique_id, "mobilenet_edge_garage");
      const event = JSON.parse(got[2].payload) as IngestEvent;
      assertEquals(event.predictions[0].label, photos[0].label);
      // Retained: a late subscriber still gets the last event.
      const late = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
      const retained = Promise.withResolvers<boolean>();
      late.on("message", (_t, _p, packet) => retained.resolve(packet.retain));
      await late.subscribeAsync("mobilenet/garage/event");
      assertEquals(await retained.promise, true);
      await late.endAsync();
    } finally {
      await sub.endAsync();
      await broker.stop();
    }
  },
});
