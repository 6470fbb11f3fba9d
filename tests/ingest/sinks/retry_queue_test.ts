import { assertEquals } from "../../_assert.ts";
import { PermanentError, RetryQueue } from "../../../src/ingest/sinks/retry_queue.ts";
import { FakeClock } from "../../_fake_clock.ts";

Deno.test("deliveries are retried with growing delays, in order, and a success resets the backoff", async () => {
  const clock = new FakeClock();
  clock.randomValue = 0; // no jitter
  let failures = 3;
  const delivered: number[] = [];
  const queue = new RetryQueue<number>(async (item) => {
    await Promise.resolve();
    if (failures-- > 0) throw new Error("503");
    delivered.push(item);
  }, { clock, backoff: { initialMs: 100, maxMs: 250 } });
  queue.push(1);
  queue.push(2);
  for (let i = 0; i < 10 && delivered.length < 2; i++) await clock.advance(250);
  assertEquals(delivered, [1, 2]);
  assertEquals(clock.sleeps, [100, 200, 250]); // capped
  await queue.close(1000);
  assertEquals([queue.delivered, queue.dropped], [2, 0]);
});

Deno.test("a full queue drops its oldest waiting item; a permanent failure drops the item at once", async () => {
  const clock = new FakeClock();
  const seen: string[] = [];
  let gate = Promise.withResolvers<void>();
  const queue = new RetryQueue<string>(async (item) => {
    await gate.promise;
    seen.push(item);
    if (item === "bad") throw new PermanentError("400");
  }, { clock, maxQueue: 3 });
  for (const item of ["a", "b", "c", "d", "e"]) queue.push(item); // "a" is being delivered
  assertEquals(queue.length, 3);
  assertEquals(queue.dropped, 2); // "b" and "c"
  gate.resolve();
  await new Promise((resolve) => setTimeout(resolve, 0));
  gate = Promise.withResolvers<void>();
  gate.resolve();
  queue.push("bad");
  queue.push("f");
  await queue.close(1000);
  assertEquals(seen, ["a", "d", "e", "bad", "f"]);
  assertEquals([queue.delivered, queue.dropped], [4, 3]);
});

Deno.test("close gives up after its deadline and counts what is left as dropped", async () => {
  const queue = new RetryQueue<number>(() => Promise.reject(new Error("down")), {
    backoff: { initialMs: 10, maxMs: 10 },
  });
  queue.push(1);
  queue.push(2);
  await queue.close(50);
  assertEquals([queue.delivered, queue.dropped, queue.length], [0, 2, 0]);
});
