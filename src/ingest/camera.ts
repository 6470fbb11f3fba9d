/**
 * Cameras: a source with its own settings (a name, a head answering in your classes, a zone,
 * state confirmation, collecting examples). A camera without a name goes by the one
 * `cameraName` derives from each frame's source.
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
   * name `cameraName` derives from each frame's source}
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
