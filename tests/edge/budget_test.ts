import { assert, assertEquals, assertStrictEquals, assertThrows } from "../_assert.ts";
import { ByteBudget } from "../../edge/budget.ts";

Deno.test("budget: holds add up to the limit, never past it; release gives them back once", () => {
  const budget = new ByteBudget(100);
  const a = budget.hold();
  const b = budget.hold();
  assert(a.add(60));
  assertStrictEquals(b.add(41), false); // would pass the limit: nothing is taken
  assert(b.add(40));
  assertEquals([budget.held, budget.holds, a.bytes, b.bytes], [100, 2, 60, 40]);
  assertStrictEquals(budget.hold().add(1), false);
  a.release();
  a.release(); // a second call does nothing
  assertEquals([budget.held, a.bytes], [40, 0]);
  assertStrictEquals(a.add(1), false); // a released hold takes nothing more
  assert(b.add(60));
  b.release();
  assertEquals(budget.held, 0);
});

Deno.test("budget: the limit is validated", () => {
  for (const bad of [0, -1, 1.5, NaN, Infinity]) {
    assertThrows(() => new ByteBudget(bad), RangeError, "limit");
  }
});
