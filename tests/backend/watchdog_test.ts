import { assert, assertEquals, assertMatch, assertStrictEquals, assertThrows } from "../_assert.ts";
import { checkReport, ThreadController, type ThreadsChange } from "../../src/backend/watchdog.ts";

/** Pools that only remember which count is active. */
class FakePools {
  active: number;
  switches = 0;
  constructor(active: number) {
    this.active = active;
  }
  useExisting(threads: number): boolean {
    if (threads !== this.active) this.switches++;
    this.active = threads;
    return true;
  }
}

/** Inference times of a machine: per thread count, in ms. */
type Machine = Record<number, number>;

function drive(
  controller: ThreadController,
  pools: FakePools,
  machine: () => Machine,
  reports: number,
): number[] {
  const used: number[] = [];
  for (let i = 0; i < reports; i++) {
    used.push(pools.active);
    controller.report(machine()[pools.active]);
  }
  return used;
}

const IDLE: Machine = { 1: 42, 2: 23 };
const BUSY: Machine = { 1: 44, 2: 115 };

Deno.test("idle machine: stays on 2 threads, probes 1 thread rarely", () => {
  const pools = new FakePools(2);
  const changes: ThreadsChange[] = [];
  const c = new ThreadController(pools, { high: 2, onChange: (e) => changes.push(e) });
  const used = drive(c, pools, () => IDLE, 1000);
  assertStrictEquals(c.decided, 2);
  assertStrictEquals(changes.length, 0);
  const onOne = used.filter((n) => n === 1).length;
  assert(onOne >= 1 && onOne <= 8, `probed 1 thread ${onOne} times in 1000`);
});

Deno.test("busy core from the start: moves to 1 thread within a few reports", () => {
  const pools = new FakePools(2);
  const changes: ThreadsChange[] = [];
  const c = new ThreadController(pools, { high: 2, onChange: (e) => changes.push(e) });
  const used = drive(c, pools, () => BUSY, 500);
  assertStrictEquals(c.decided, 1);
  assertStrictEquals(changes.length, 1);
  assertEquals({ previous: changes[0].previous, threads: changes[0].threads }, {
    previous: 2,
    threads: 1,
  });
  assertMatch(changes[0].reason, /2 threads 115\.0 ms, 1 thread 44\.0 ms/);
  assert(used.indexOf(1) <= 4, `first 1-thread inference at ${used.indexOf(1)}`);
  // Later probes of 2 threads are rare: the cost stays far below the 1.2x budget.
  const mean = used.reduce((sum, n) => sum + BUSY[n], 0) / used.length;
  assert(mean < BUSY[1] * 1.1, `mean ${mean} ms against ${BUSY[1]} ms single-thread`);
});

Deno.test("contention that starts later is detected, and its end too", () => {
  const pools = new FakePools(2);
  const changes: ThreadsChange[] = [];
  const c = new ThreadController(pools, { high: 2, onChange: (e) => changes.push(e) });
  let machine = IDLE;
  drive(c, pools, () => machine, 100);
  assertStrictEquals(c.decided, 2);
  machine = BUSY;
  const during = drive(c, pools, () => machine, 200);
  assertStrictEquals(c.decided, 1);
  const firstSingle = during.indexOf(1);
  assert(firstSingle >= 0 && firstSingle <= 5, `reacted after ${firstSingle} reports`);
  machine = IDLE;
  drive(c, pools, () => machine, 2000);
  assertStrictEquals(c.decided, 2, "back to 2 threads after the contention ended");
  assertEquals(changes.map((e) => e.threads), [1, 2]);
});

Deno.test("the warm-up report and other keys do not disturb a workload's statistics", () => {
  const pools = new FakePools(2);
  const c = new ThreadController(pools, { high: 2 });
  c.report(900, "224x1"); // first run: operator creation, weight packing
  for (let i = 0; i < 50; i++) {
    c.report(IDLE[pools.active], "224x1");
    c.report(IDLE[pools.active] * 4, "224x4");
  }
  assertStrictEquals(c.decided, 2);
});

Deno.test("another workload runs on its own count while a probe of the first is pending", () => {
  const pools = new FakePools(2);
  const c = new ThreadController(pools, { high: 2 });
  for (let i = 0; i < 3; i++) c.report(IDLE[pools.active], "a"); // the third starts a probe
  assertStrictEquals(pools.active, 1);
  for (let i = 0; i < 20; i++) c.report(IDLE[pools.active], "b");
  assertStrictEquals(c.decided, 2);
  assertStrictEquals(pools.active, 2);
});

Deno.test("a stopped controller ignores reports; bad reports are refused", () => {
  const pools = new FakePools(2);
  const c = new ThreadController(pools, { high: 2 });
  c.stop();
  drive(c, pools, () => BUSY, 100);
  assertStrictEquals(pools.switches, 0);
  assertThrows(() => checkReport(-1, "k"), {
    name: "RangeError",
    message: "ms must be a finite number >= 0, got -1",
  });
  assertThrows(() => checkReport(NaN, "k"), { name: "RangeError" });
  assertThrows(() => checkReport("3", "k"), {
    name: "TypeError",
    message: "ms must be a number, got string",
  });
  assertThrows(() => checkReport(3, 4), {
    name: "TypeError",
    message: "key must be a string, got number",
  });
});

Deno.test("each workload keeps its own decision: a small model on 1 thread, a large one on 2", () => {
  const pools = new FakePools(2);
  const c = new ThreadController(pools, { high: 2 });
  const small: Machine = { 1: 4.4, 2: 4.3 }; // threads do not pay off
  const large: Machine = { 1: 42, 2: 23 };
  const ran = { small: [] as number[], large: [] as number[] };
  for (let i = 0; i < 200; i++) {
    for (const [key, machine] of [["small", small], ["large", large]] as const) {
      c.before(key);
      ran[key].push(pools.active);
      c.report(machine[pools.active], key);
    }
  }
  assertStrictEquals(c.decidedFor("small"), 1);
  assertStrictEquals(c.decidedFor("large"), 2);
  // Apart from a few probes, each ran on its own best count.
  assert(ran.small.slice(50).filter((t) => t === 1).length >= 140, String(ran.small));
  assert(ran.large.slice(50).filter((t) => t === 2).length >= 140, String(ran.large));
});
