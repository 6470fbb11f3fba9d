import { assertEquals } from "../_assert.ts";
import { buildEvent } from "../../src/ingest/event.ts";

Deno.test("events have exactly the issue's shape, rounded; embedding and retained only when there", () => {
  const frame = {
    source: "cam",
    bytes: new Uint8Array(1234),
    time: Date.UTC(2026, 0, 2, 3, 4, 5, 6),
  };
  const result = {
    predictions: [{ index: 386, label: "African elephant", probability: 0.702431234 }],
    timings: { decodeMs: 1.23456, preprocessMs: 0.5, inferenceMs: 13.456, totalMs: 15.2 },
    width: 1920,
    height: 1080,
  };
  const event = buildEvent(frame, result, {
    camera: "cam",
    dropped: 3,
    queueMs: 2.345,
    totalMs: 15.999,
  });
  assertEquals(event, {
    source: "cam",
    camera: "cam",
    time: "2026-01-02T03:04:05.006Z",
    frame: { width: 1920, height: 1080, bytes: 1234 },
    predictions: [{ index: 386, label: "African elephant", probability: 0.702431 }],
    timings: { queueMs: 2.35, decodeMs: 1.23, preprocessMs: 0.5, inferenceMs: 13.46, totalMs: 16 },
    dropped: 3,
  });
  const more = buildEvent({ ...frame, retained: true }, result, {
    camera: "cam",
    dropped: 0,
    queueMs: 0,
    totalMs: 0,
    embedding: new Float32Array([0.1234567, 2]),
  });
  assertEquals(more.embedding, [0.123457, 2]);
  assertEquals(more.retained, true);
  assertEquals(Object.keys(more).slice(-2), ["embedding", "retained"]);
});

Deno.test("events of a head carry unknown and the ImageNet answer; with confirm, state and previous; a folder's, the file", () => {
  const frame = { source: "/srv/cam", bytes: new Uint8Array(10), time: 0, file: "img7.jpg" };
  const result = {
    predictions: [
      { index: 1, label: "open", probability: 0.912345678 },
      { index: 0, label: "closed", probability: 0.087654322 },
    ],
    unknown: false,
    imagenet: [{ index: 799, label: "sliding door", probability: 0.41 }],
    timings: { decodeMs: 1, preprocessMs: 1, inferenceMs: 1, totalMs: 3 },
    width: 64,
    height: 48,
  };
  const extra = { camera: "garage", dropped: 0, queueMs: 0, totalMs: 3 };
  const event = buildEvent(frame, result, {
    ...extra,
    change: { state: "open", previous: undefined },
  });
  assertEquals(Object.keys(event), [
    "source",
    "camera",
    "file",
    "time",
    "frame",
    "predictions",
    "unknown",
    "imagenet",
    "state",
    "previous",
    "timings",
    "dropped",
  ]);
  assertEquals([event.file, event.camera, event.unknown], ["img7.jpg", "garage", false]);
  assertEquals(event.predictions[0], { index: 1, label: "open", probability: 0.912346 });
  assertEquals(event.imagenet, [{ index: 799, label: "sliding door", probability: 0.41 }]);
  assertEquals([event.state, event.previous], ["open", null]);
  const next = buildEvent(frame, result, {
    ...extra,
    change: { state: "closed", previous: "open" },
  });
  assertEquals([next.state, next.previous], ["closed", "open"]);
});
