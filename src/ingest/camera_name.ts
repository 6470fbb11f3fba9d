/**
 * The name a camera goes by when it is not given one, from a frame's source: the Frigate camera
 * of a `frigate/<camera>/...` topic, the host and path of a URL; and its id for MQTT topics and
 * Home Assistant.
 *
 * @module
 */

/**
 * The name of the camera a frame's source stands for: for MQTT, the camera of a Frigate topic
 * (`mqtt://broker:1883/frigate/front_door/person/snapshot` -> `front_door`) or else the topic;
 * for HTTP, the host and path (`http://192.168.1.50:81/stream?fps=3` -> `192.168.1.50:81/stream`);
 * anything else (a folder, "stdin") as it is.
 *
 * @example
 * ```ts
 * import { cameraName } from "./camera_name.ts";
 * cameraName("mqtt://broker:1883/frigate/front_door/person/snapshot"); // "front_door"
 * ```
 */
export function cameraName(source: string): string {
  const mqtt = /^(?:mqtts?|wss?):\/\/[^/]+\/(.+)$/i.exec(source);
  if (mqtt) return /^frigate\/([^/]+)\/./.exec(mqtt[1])?.[1] ?? mqtt[1];
  const http = /^https?:\/\/([^/?#]+)([^?#]*)/i.exec(source);
  if (http) return `${http[1]}${http[2].replace(/\/+$/, "")}`;
  return source;
}

/**
 * A camera's id for MQTT topics and Home Assistant ids: its name lower-cased, runs of other
 * characters than letters and digits as `_`, at most 64 characters (the end kept).
 */
export function cameraId(name: string): string {
  const id = name.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "");
  return id.slice(-64).replace(/^_+/, "") || "camera";
}
