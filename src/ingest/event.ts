/**
 * The event written for each inferred frame, one JSON object per line:
 * `{"source", "camera", "time", "frame": {"width", "height", "bytes"}, "predictions": [{"index",
 * "label", "probability"}], "timings", "dropped"}`, plus `"file"` for a watched folder,
 * `"unknown"` and `"imagenet"` with a head, `"state"` and `"previous"` with `--confirm` (then an
 * event is written only when the state changes), `"embedding"` with `--embed` and
 * `"retained": true` for an MQTT retained snapshot.
 *
 * @module
 */
import type { ClassifyResult, Prediction } from "../mobilenet.ts";
import type { StateChange } from "../head/confirm.ts";
import type { Frame } from "./types.ts";

/** Where the time of one frame went, in milliseconds. */
export interface EventTimings {
  /** From the frame's arrival to the start of its inference (time spent waiting). */
  queueMs: number;
  /** Decoding. */
  decodeMs: number;
  /** Resizing and scaling. */
  preprocessMs: number;
  /** The network. */
  inferenceMs: number;
  /** Decode + preprocess + inference (+ embedding with `--embed`). */
  totalMs: number;
}

/** One inferred frame. */
export interface IngestEvent {
  /** Where the frame came from (redacted URL, broker and MQTT topic, folder, or "stdin"). */
  source: string;
  /**
   * The camera's name: its `name` if given, else the Frigate camera of a `frigate/<camera>/...`
   * topic, the host and path of a URL, the topic, the folder, or "stdin".
   */
  camera: string;
  /** The file the frame was read from, for a watched folder (its name in the folder). */
  file?: string;
  /** When the frame arrived, ISO 8601. */
  time: string;
  /** The encoded frame: its pixel size and byte count. */
  frame: { width: number; height: number; bytes: number };
  /** Top-K predictions, most probable first: the head's classes when the camera has a head. */
  predictions: Prediction[];
  /** With a head: whether the top probability is under the head's threshold. */
  unknown?: boolean;
  /** With a head: the top-K ImageNet predictions of the same run. */
  imagenet?: Prediction[];
  /** With `confirm`: the state just confirmed (N identical answers in a row). */
  state?: string;
  /** With `confirm`: the state before it, `null` for the first one confirmed. */
  previous?: string | null;
  /** Where the time went. */
  timings: EventTimings;
  /** Frames of this source dropped (replaced by newer ones) since its previous event. */
  dropped: number;
  /** The pooled features, with `--embed`. */
  embedding?: number[];
  /** An MQTT retained message delivered at subscribe time. */
  retained?: true;
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** What an event adds to the frame and its result. */
export interface EventExtra {
  /** The camera's name. */
  camera: string;
  /** Frames of the source dropped since its previous event. */
  dropped: number;
  /** Time the frame waited, in ms. */
  queueMs: number;
  /** Decode + preprocess + inference (+ embedding), in ms. */
  totalMs: number;
  /** The pooled features, with `embed`. */
  embedding?: Float32Array;
  /** The state change this event reports, with `confirm`. */
  change?: StateChange;
}

const predictionsJson = (predictions: Prediction[]): Prediction[] =>
  predictions.map((p) => ({
    index: p.index,
    label: p.label,
    probability: round(p.probability, 6),
  }));

/** Builds the event of an inferred frame. */
export function buildEvent(frame: Frame, result: ClassifyResult, extra: EventExtra): IngestEvent {
  const t = result.timings;
  const event: IngestEvent = {
    source: frame.source,
    camera: extra.camera,
    ...(frame.file === undefined ? {} : { file: frame.file }),
    time: new Date(frame.time).toISOString(),
    frame: { width: result.width, height: result.height, bytes: frame.bytes.length },
    predictions: predictionsJson(result.predictions),
    ...(result.unknown === undefined ? {} : {
      unknown: result.unknown,
      imagenet: predictionsJson(result.imagenet ?? []),
    }),
    ...(extra.change ? { state: extra.change.state, previous: extra.change.previous ?? null } : {}),
    timings: {
      queueMs: round(extra.queueMs, 2),
      decodeMs: round(t.decodeMs, 2),
      preprocessMs: round(t.preprocessMs, 2),
      inferenceMs: round(t.inferenceMs, 2),
      totalMs: round(extra.totalMs, 2),
    },
    dropped: extra.dropped,
  };
  if (extra.embedding) event.embedding = Array.from(extra.embedding, (v) => round(v, 6));
  if (frame.retained) event.retained = true;
  return event;
}
