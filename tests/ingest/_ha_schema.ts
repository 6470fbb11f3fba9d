/**
 * Home Assistant's MQTT discovery schema for a sensor, as Home Assistant documents it
 * (https://www.home-assistant.io/integrations/sensor.mqtt/ and the MQTT discovery page) and
 * validates it (home-assistant/core: `components/mqtt/sensor.py`'s platform schema over
 * `components/mqtt/schemas.py`'s common entity schema, 2025.10 and later): the fields it knows,
 * the required ones, `default_entity_id` (`<domain>.<object id>`) instead of the deprecated
 * `object_id`, a device with an identifier, an origin with a name, topics that can be
 * published to, and Home Assistant's naming rules for an entity on a device.
 *
 * @module
 */

/** Fields of an MQTT sensor: the sensor's own, then those of every MQTT entity. */
const SENSOR_FIELDS = [
  ...["state_topic", "value_template", "qos", "encoding", "device_class", "expire_after"],
  ...["force_update", "last_reset_value_template", "name", "options"],
  ...["suggested_display_precision", "state_class", "unit_of_measurement"],
  ...["availability", "availability_mode", "availability_template", "availability_topic"],
  ...["payload_available", "payload_not_available", "device", "entity_picture", "origin"],
  ...["enabled_by_default", "entity_category", "icon", "json_attributes_topic"],
  ...["json_attributes_template", "default_entity_id", "message_expiry_interval"],
  ...["unique_id", "visible_by_default"],
];

const DEVICE_FIELDS = [
  ...["identifiers", "connections", "manufacturer", "model", "model_id", "name"],
  ...["hw_version", "serial_number", "sw_version", "via_device", "suggested_area"],
  "configuration_url",
];

const ORIGIN_FIELDS = ["name", "sw_version", "support_url"];

/** An entity id as Home Assistant's `valid_entity_id` accepts it. */
const ENTITY_ID = /^(?!.+__)(?!_)[\da-z_]+(?<!_)\.(?!_)[\da-z_]+(?<!_)$/;

/** A topic one can publish to: not empty, no wildcard, no NUL. */
function publishable(topic: unknown): boolean {
  return typeof topic === "string" && topic.length > 0 && !/[+#\0]/.test(topic);
}

/** What is wrong with a sensor's discovery config (nothing: an empty list). */
export function sensorConfigProblems(config: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const extra = (fields: string[], value: Record<string, unknown>, where: string) => {
    for (const key of Object.keys(value)) {
      if (!fields.includes(key)) {
        problems.push(`${where}${key} is not a field Home Assistant reads`);
      }
    }
  };
  extra(SENSOR_FIELDS, config, "");
  if (!publishable(config.state_topic)) problems.push("state_topic is required, without wildcards");
  if ("object_id" in config) problems.push("object_id is deprecated: use default_entity_id");
  const entityId = config.default_entity_id;
  if (
    typeof entityId !== "string" || !ENTITY_ID.test(entityId) || !entityId.startsWith("sensor.")
  ) {
    problems.push(`default_entity_id must be sensor.<object id>, got ${entityId}`);
  }
  if (typeof config.unique_id !== "string") problems.push("unique_id is needed for a device");
  if ("availability_topic" in config && "availability" in config) {
    problems.push("availability_topic and availability are exclusive");
  }
  if ("availability_topic" in config && !publishable(config.availability_topic)) {
    problems.push("availability_topic must be a topic");
  }
  if (typeof config.icon === "string" && !/^[\w-]+:[\w-]+$/.test(config.icon)) {
    problems.push(`icon ${config.icon} is not prefix:name`);
  }
  const device = config.device as Record<string, unknown> | undefined;
  if (device) {
    extra(DEVICE_FIELDS, device, "device.");
    const ids = device.identifiers as unknown[] | undefined;
    if (!ids?.length && !(device.connections as unknown[] | undefined)?.length) {
      problems.push("a device needs identifiers or connections");
    }
    const name = config.name;
    if (
      typeof name === "string" && typeof device.name === "string" && name.startsWith(device.name)
    ) {
      problems.push("an entity name must not start with its device's name");
    }
  }
  const origin = config.origin as Record<string, unknown> | undefined;
  if (origin) {
    extra(ORIGIN_FIELDS, origin, "origin.");
    if (typeof origin.name !== "string") problems.push("origin.name is required");
  }
  return problems;
}
