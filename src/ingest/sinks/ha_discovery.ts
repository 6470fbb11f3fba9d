/**
 * Home Assistant MQTT discovery: a sensor per camera, as Home Assistant's MQTT sensor schema
 * reads it (`default_entity_id`, not the `object_id` deprecated in 2025.10), on the device of
 * the camera, unavailable when ingest is not running (the availability topic and its last
 * will). The state is the answer: the confirmed state with `confirm`, the head's class (or
 * `unknown`) with a head, the top ImageNet label otherwise; the attributes are the latest event.
 *
 * @module
 */
import { cameraId } from "../camera_name.ts";
import type { IngestEvent } from "../event.ts";

/** What a camera's sensor shows, from its events. */
function answerOf(event: IngestEvent): { name: string; template: string } {
  if (event.state !== undefined) return { name: "State", template: "{{ value_json.state }}" };
  if (event.unknown !== undefined) {
    return {
      name: "Class",
      template: "{{ 'unknown' if value_json.unknown else value_json.predictions[0].label }}",
    };
  }
  return { name: "Label", template: "{{ value_json.predictions[0].label }}" };
}

/**
 * The availability topic of an MQTT output topic: its part before `{camera}` (or the whole
 * topic) followed by `/available`, as Frigate's `frigate/available`:
 * `mobilenet/{camera}/event` -> `mobilenet/available`.
 */
export function availabilityTopic(topic: string): string {
  const at = topic.indexOf("{camera}");
  const base = (at < 0 ? topic : topic.slice(0, at)).replace(/\/+$/, "");
  return `${base || "mobilenet-edge"}/available`;
}

/**
 * The retained discovery message of the sensor of `event`'s camera, whose events are published
 * on `stateTopic`.
 */
export function discoveryMessage(
  prefix: string,
  event: IngestEvent,
  stateTopic: string,
  availability: string,
): { topic: string; payload: string } {
  const id = `mobilenet_edge_${cameraId(event.camera)}`;
  const { name, template } = answerOf(event);
  return {
    topic: `${prefix}/sensor/${id}/config`,
    payload: JSON.stringify({
      name,
      unique_id: id,
      default_entity_id: `sensor.${id}`,
      state_topic: stateTopic,
      value_template: template,
      json_attributes_topic: stateTopic,
      availability_topic: availability,
      payload_available: "online",
      payload_not_available: "offline",
      icon: "mdi:cctv",
      device: {
        identifiers: [id],
        name: event.camera,
        manufacturer: "mobilenet-edge",
        model: "MobileNet v1",
      },
      origin: { name: "mobilenet-edge" },
    }),
  };
}
