/**
 * Home Assistant MQTT discovery: a sensor per camera whose state is the top label and whose
 * attributes are the latest event.
 *
 * @module
 */

/** A camera's id for topics and entity ids: the source lower-cased, non-alphanumerics as `_`. */
export function cameraId(source: string): string {
  const id = source.replace(/^[a-z]+:\/\//i, "").toLowerCase().replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
  return id.slice(-64) || "camera";
}

/** The retained discovery message of one camera's sensor. */
export function discoveryMessage(
  prefix: string,
  id: string,
  source: string,
  stateTopic: string,
): { topic: string; payload: string } {
  return {
    topic: `${prefix}/sensor/mobilenet_edge_${id}/config`,
    payload: JSON.stringify({
      name: `MobileNet ${source}`,
      unique_id: `mobilenet_edge_${id}`,
      object_id: `mobilenet_edge_${id}`,
      state_topic: stateTopic,
      value_template: "{{ value_json.predictions[0].label }}",
      json_attributes_topic: stateTopic,
      icon: "mdi:cctv",
      device: {
        identifiers: [`mobilenet_edge_${id}`],
        name: `MobileNet edge ${id}`,
        manufacturer: "mobilenet-edge",
      },
    }),
  };
}
