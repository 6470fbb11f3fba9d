import { assertEquals } from "../_assert.ts";
import { emptyStats, summaryLines } from "../../src/ingest/stats.ts";

Deno.test("the stop summary: a line per source, why a source gave no frame, what was discarded", () => {
  const lines = summaryLines({
    sources: {
      stdin: { ...emptyStats(), received: 4, inferred: 3, events: 1, dropped: 1 },
      "http://cam/snap.jpg": { ...emptyStats(), status: "offline: HTTP 401 Unauthorized" },
    },
    discarded: 2,
  });
  assertEquals(lines, [
    "stdin: 4 received, 3 inferred, 1 events, 1 dropped, 0 unchanged, 0 bad",
    "http://cam/snap.jpg: no frame (offline: HTTP 401 Unauthorized)",
    "2 frame(s) waiting were discarded",
  ]);
});
