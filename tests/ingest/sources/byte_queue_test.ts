import { assertEquals } from "../../_assert.ts";
import { ByteQueue } from "../../../src/ingest/sources/byte_queue.ts";

Deno.test("the byte queue appends, consumes, searches and reuses its memory", () => {
  const q = new ByteQueue(8);
  q.push(new Uint8Array([1, 2, 3, 4, 5]));
  q.consume(3);
  q.push(new Uint8Array([6, 7, 8, 9, 10, 11])); // compacts, then grows
  assertEquals([...q.view()], [4, 5, 6, 7, 8, 9, 10, 11]);
  assertEquals(q.indexOf(new Uint8Array([8, 9])), 4);
  assertEquals(q.indexOf(new Uint8Array([8, 9]), 5), -1);
  assertEquals(q.indexOf(new Uint8Array([11, 12])), -1); // a prefix at the end is not a match
  assertEquals(q.at(0), 4);
  const copy = q.copy(1, 3);
  q.consume(8);
  assertEquals([...copy], [5, 6]);
  assertEquals(q.length, 0);
});
