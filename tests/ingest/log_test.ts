import { assertEquals, assertMatch } from "../_assert.ts";
import {
  formatLogRecord,
  type LogRecord,
  redactingLogger,
  StatusBoard,
} from "../../src/ingest/log.ts";
import { Redactor } from "../../src/ingest/redact.ts";

Deno.test("a state is logged once per change, per source and channel", () => {
  const records: LogRecord[] = [];
  const board = new StatusBoard((r) => records.push(r), () => 0);
  for (let i = 0; i < 5; i++) board.set("cam1", "connection", "offline:TIMEOUT", "timeout", "warn");
  board.set("cam2", "connection", "offline:TIMEOUT", "timeout", "warn");
  board.set("cam1", "frames", "bad:TRUNCATED", "truncated", "warn");
  board.set("cam1", "connection", "online", "online");
  board.set("cam1", "connection", "online", "online");
  board.set("cam1", "connection", "offline:TIMEOUT", "timeout", "warn");
  assertEquals(records.map((r) => `${r.source} ${r.message}`), [
    "cam1 timeout",
    "cam2 timeout",
    "cam1 truncated",
    "cam1 online",
    "cam1 timeout",
  ]);
  assertEquals(board.get("cam1", "frames"), "bad:TRUNCATED");
});

Deno.test("the redacting logger masks secrets in sources and messages", () => {
  const redactor = new Redactor();
  redactor.add("hunter2");
  const lines: string[] = [];
  const log = redactingLogger((r) => lines.push(formatLogRecord(r)), redactor);
  log({ time: 0, level: "warn", source: "http://u:hunter2@cam/x", message: "bad hunter2" });
  assertEquals(lines, ["1970-01-01T00:00:00.000Z warn http://cam/x: bad ***"]);
  assertMatch(lines[0], /^1970/);
});
