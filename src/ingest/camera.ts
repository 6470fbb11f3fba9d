/**
 * Cameras: a source with its own settings (a name, a head answering in your classes, a zone,
 * state confirmation, collecting examples), and the name a frame's camera goes by when it is not
 * given: the Frigate camera of a `frigate/<camera>/...` topic, the host and path of a URL.
 *
 * @module
 */
import type { Head } from "../head/head.ts";
import { checkZone, type Zone } from "../image/preprocess.ts";
import type { CollectOptions } from "./collect.ts";
import type { Source } from "./types.ts";

/** What a camera may set for itself (every setting optional). */
export interface CameraOptions {
  /**
   * The camera's name in events (`"camera"`), MQTT topics and Home Assistant. @default {the
   * name {@linkcode cameraName} derives from each frame's source}
   */
  name?: string;
  /** A head: events answer in its classes, with `unknown` (see `Head`). */
  head?: Head;
  /** Classify only this part of each frame. @default {the head's zone, if any} */
  zone?: Zone;
  /**
   * Write an event only when the answer changes, and only after this many identical answers in
   * a row (`"state"`, `"previous"`). An `unknown` answer is not a state: it neither confirms
   * a change nor interrupts a run.
   */
  confirm?: number;
  /** Save the most distinct frames into a folder, to be labelled and taught from. */
  collect?: CollectOptions;
}

/** A source with its own settings. */
export interface Camera extends CameraOptions {
  /** Where the frames come from. */
  source: Source;
}

/** A source, or a source with its own settings. */
export type CameraInput = Source | Camera;

/** The camera form of a {@linkcode CameraInput}, its settings checked. @throws {RangeError} */
export function toCamera(input: CameraInput): Camera {
  const camera: Camera = "source" in input ? { ...input } : { source: input };
  if (camera.name !== undefined && !/\S/.test(camera.name)) {
    throw new RangeError(`a camera name must not be blank, got ${JSON.stringify(camera.name)}`);
  }
  if (camera.zone !== undefined) camera.zone = checkZone(camera.zone);
  if (camera.confirm !== undefined && !(Number.isInteger(camera.confirm) && camera.confirm >= 1)) {
    throw new RangeError(`confirm must be a positive integer, got ${camera.confirm}`);
  }
  return camera;
}

/**
 * The name of the camera a frame's source stands for: for MQTT, the camera of a Frigate topic
 * (`mqtt://broker:1883/frigate/front_door/person/snapshot` -> `front_door`) or else the topic;
 * for HTTP, the host and path (`http://192.168.1.50:81/stream?fps=3` -> `192.168.1.50:81/stream`);
 * anything else (a folder, "stdin") as it is.
 *
 * @example
 * ```ts
 * import { cameraName } from "./camera.ts";
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
