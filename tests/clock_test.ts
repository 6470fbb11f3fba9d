import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { Backoff } from "../src/clock.ts";

Deno.test("backoff doubles from 1 s to the 60 s cap and starts over after reset", () => {
  const b = new Backoff({ jitter: 0 });
  const delays = Array.from({ length: 9 }, () => b.next());
  assertEquals(delays, [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
  assertEquals(b.attempt, 9);
  b.reset();
  assertEquals(b.next(), 1000);
});

Deno.test("jitter shortens each delay by at most its fraction, never beyond the cap", () => {
  for (const r of [0, 0.25, 0.999]) {
    const b = new Backoff({ random: () => r });
    const delays = Array.from({ length: 10 }, () => b.next());
    const bases = [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000, 60000];
    delays.forEach((d, i) => {
      assert(d <= bases[i] && d >= bases[i] * 0.8, `delay ${d} for base ${bases[i]} (r=${r})`);
    });
  }
  // Different random draws give different delays (retries of many cameras spread out).
  assert(new Backoff({ random: () => 0 }).next() !== new Backoff({ random: () => 0.9 }).next());
});

Deno.test("backoff rejects options that make no schedule", () => {
  assertThrows(() => new Backoff({ initialMs: 0 }), RangeError, "initialMs");
  assertThrows(() => new Backoff({ initialMs: 10, maxMs: 5 }), RangeError, "maxMs");
  assertThrows(() => new Backoff({ jitter: 2 }), RangeError, "jitter");
});
