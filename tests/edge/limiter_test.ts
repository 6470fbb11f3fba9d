import { assert, assertEquals, assertStrictEquals, assertThrows } from "../_assert.ts";
import { Limiter } from "../../edge/limiter.ts";

Deno.test("limiter: at most maxActive hold, maxQueue wait in order, the rest are refused", async () => {
  const limiter = new Limiter(2, 2);
  const a = await limiter.acquire();
  const b = await limiter.acquire();
  assert(a && b);
  const order: string[] = [];
  const c = limiter.acquire().then((release) => (order.push("c"), release));
  const d = limiter.acquire().then((release) => (order.push("d"), release));
  assertStrictEquals(await limiter.acquire(), undefined); // queue full
  assertEquals([limiter.active, limiter.queued], [2, 2]);
  a();
  a(); // a second call does nothing
  const releaseC = await c;
  assertEquals([limiter.active, limiter.queued, order], [2, 1, ["c"]]);
  b();
  const releaseD = await d;
  assertEquals([limiter.active, limiter.queued, order], [2, 0, ["c", "d"]]);
  releaseC!();
  releaseD!();
  assertEquals([limiter.active, limiter.queued], [0, 0]);
});

Deno.test("limiter: bounds are validated", () => {
  assertThrows(() => new Limiter(0, 1), RangeError, "maxActive");
  assertThrows(() => new Limiter(1, -1), RangeError, "maxQueue");
  assertThrows(() => new Limiter(1.5, 1), RangeError, "maxActive");
});
