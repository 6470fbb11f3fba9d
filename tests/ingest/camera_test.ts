import { assertEquals, assertThrows } from "../_assert.ts";
import { toCamera } from "../../src/ingest/camera.ts";
import type { Source } from "../../src/ingest/types.ts";

const source: Source = { name: "cam", run: () => Promise.resolve() };

Deno.test("a source is a camera with no settings; a camera's settings are checked on entry", () => {
  assertEquals(toCamera(source), { source });
  const zone = { x: 0.5, y: 0.4, width: 0.3, height: 0.5 };
  assertEquals(toCamera({ source, name: "porch", zone, confirm: 3 }), {
    source,
    name: "porch",
    zone,
    confirm: 3,
  });
  assertThrows(() => toCamera({ source, name: " " }), RangeError, "blank");
  assertThrows(() => toCamera({ source, confirm: 0 }), RangeError, "confirm");
  assertThrows(() => toCamera({ source, confirm: 1.5 }), RangeError, "confirm");
  assertThrows(() => toCamera({ source, zone: { ...zone, width: 0.9 } }), RangeError, "zone");
});
