import { assert, assertEquals } from "../../_assert.ts";
import { ByteQueue, QueueSearch } from "../../../src/ingest/sources/byte_queue.ts";

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

/** Every start of `pattern` in `text` (overlapping ones too), the slow obvious way. */
function naiveMatches(text: Uint8Array, pattern: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i + pattern.length <= text.length; i++) {
    if (pattern.every((b, k) => text[i + k] === b)) out.push(i);
  }
  return out;
}

Deno.test("the incremental search finds every match, overlapping ones too, however the bytes arrive", () => {
  let seed = 11;
  const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  for (let round = 0; round < 200; round++) {
    // A two-letter alphabet makes partial matches and overlaps common.
    const text = Uint8Array.from({ length: 1 + random(300) }, () => 97 + random(2));
    const pattern = Uint8Array.from({ length: 1 + random(6) }, () => 97 + random(2));
    const queue = new ByteQueue(4);
    const search = new QueueSearch(pattern);
    const found: number[] = [];
    for (let at = 0; at < text.length;) {
      const n = 1 + random(20);
      queue.push(text.subarray(at, at + n));
      at += n;
      for (let i = search.next(queue); i >= 0; i = search.next(queue)) found.push(i);
    }
    assertEquals(found, naiveMatches(text, pattern), `${text} / ${pattern}`);
    // `accept` skips matches without losing the later ones; indexOf agrees.
    const odd = new QueueSearch(pattern);
    const accepted: number[] = [];
    for (
      let i = odd.next(queue, (s) => s % 2 === 1);
      i >= 0;
      i = odd.next(queue, (s) => s % 2 === 1)
    ) {
      accepted.push(i);
    }
    assertEquals(accepted, found.filter((i) => i % 2 === 1));
    assertEquals(queue.indexOf(pattern, 5), found.find((i) => i >= 5) ?? -1);
  }
});

Deno.test("searching stays linear: a 10 KB pattern over the same letter, in 1 KB chunks", () => {
  // Finding 6 of issue 17: the old search compared the whole pattern at every position
  // (length x pattern: 1.3 G comparisons here). Work is counted, not timed.
  const pattern = new Uint8Array(10 * 1024).fill(0x61);
  const text = new Uint8Array(128 * 1024).fill(0x61);
  text[text.length - 1] = 0x62;
  const queue = new ByteQueue();
  const search = new QueueSearch(pattern);
  let matches = 0;
  for (let at = 0; at < text.length; at += 1024) {
    queue.push(text.subarray(at, at + 1024));
    while (search.next(queue, () => false) >= 0) matches++; // every match refused, as data
  }
  assertEquals(matches, 0);
  assert(queue.examined <= 3 * text.length, `${queue.examined} bytes examined for ${text.length}`);
  const before = queue.examined;
  assertEquals(queue.indexOf(pattern), 0);
  assertEquals(queue.indexOf(pattern, 1), 1);
  assertEquals(queue.indexOf(new Uint8Array([...pattern, 0x62])), text.length - pattern.length - 1);
  assert(queue.examined - before <= 3 * text.length, `${queue.examined - before} for indexOf`);
});
