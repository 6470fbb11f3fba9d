/**
 * The event written for each inferred frame, one JSON object per line:
 * `{"source", "time", "frame": {"width", "height", "bytes"}, "predictions": [{"index", "label",
 * "probability"}], "timings", "dropped"}`, plus `"embedding"` with `--embed` and
 * `"retained": true` for an MQTT retained snapshot.
 *
 * @module
 */
import type { ClassifyResult, Prediction } from "../mobilenet.ts";
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
  /** The camera (redacted URL, MQTT topic, folder, or "stdin"). */
  source: string;
  /** When the frame arrived, ISO 8601. */
  time: string;
  /** The encoded frame: its pixel size and byte count. */
  frame: { width: number; height: number; bytes: number };
  /** Top-K predictions, most probable first. */
  predictions: Prediction[];
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

/** Builds the event of an inferred frame. */
export function buildEvent(
  frame: Frame,
  result: ClassifyResult,
  extra: { dropped: number; queueMs: number; totalMs: number; embedding?: Float32Array },
): IngestEvent {
  const t = result.timings;
  const event: IngestEvent = {
    source: frame.source,
    time: new Date(frame.time).toISOString(),
    frame: { width: result.width, height: result.height, bytes: frame.bytes.length },
    predictions: result.predictions.map((p) => ({
      index: p.index,
      label: p.label,
      probability: round(p.probability, 6),
    })),
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
