/**
 * `HeapBlock` on a fake allocator: kept while long enough, grown (the old block freed) when not,
 * on a cache line, freed once, and a typed failure when the heap is full.
 */
import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { HeapBlock, LINE_BYTES } from "../../src/backend/pointwise/heap_block.ts";

/** A bump allocator at 8-byte steps (as dlmalloc's alignment) that records its calls. */
function fakeHeap(limit = 1 << 20) {
  let top = 8;
  const live = new Map<number, number>();
  const calls: string[] = [];
  return {
    live,
    calls,
    _malloc(bytes: number): number {
      calls.push(`malloc ${bytes}`);
      if (top + bytes > limit) return 0;
      const pointer = top;
      top = Math.ceil((top + bytes + 8) / 8) * 8;
      live.set(pointer, bytes);
      return pointer;
    },
    _free(pointer: number): void {
      calls.push(`free ${pointer}`);
      if (!live.delete(pointer)) throw new Error(`double or foreign free of ${pointer}`);
    },
  };
}

Deno.test("HeapBlock: kept while long enough, grown when not, on a cache line", () => {
  const heap = fakeHeap();
  const block = new HeapBlock(heap, "the middles");
  assertEquals(block.bytes, 0);
  const a = block.at(1000);
  assertEquals(a % LINE_BYTES, 0, "on a cache line");
  assertEquals(block.bytes, 1000);
  const [pointer, bytes] = [...heap.live][0];
  assert(a >= pointer && a + 1000 <= pointer + bytes, "inside what was allocated");
  assertEquals(block.at(400), a, "a smaller call gets the same block");
  assertEquals(block.at(1000), a, "so does one as long");
  assertEquals(heap.calls.length, 1, "allocated once");
  const b = block.at(5000);
  assertEquals(b % LINE_BYTES, 0);
  assertEquals(heap.calls.slice(1), [`free ${pointer}`, `malloc ${5000 + LINE_BYTES}`]);
  assertEquals(heap.live.size, 1, "the old block is freed");
  block.free();
  block.free();
  assertEquals(heap.live.size, 0, "freed once");
  assertEquals(block.bytes, 0);
  block.at(10);
  assertEquals(heap.live.size, 1, "usable again after free");
});

Deno.test("HeapBlock: a full heap is a clear error, and the block stays empty", () => {
  const heap = fakeHeap(4096);
  const block = new HeapBlock(heap, "the middles");
  block.at(1000);
  assertThrows(() => block.at(8192), Error, "cannot allocate 8192 bytes for the middles");
  assertEquals(block.bytes, 0);
  assertEquals(heap.live.size, 0, "the old block was freed, none is held");
  assertEquals(block.at(500) % LINE_BYTES, 0, "and it works again with room");
});
