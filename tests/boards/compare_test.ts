/** The arm64 check's comparison: predictions out of CLI output, top-5 and 1e-4 agreement. */
import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { comparePredictions, predictionsFrom, table, topIndices } from "../../scripts/_compare.ts";

// A line as `classify --json --model 0.75_224` prints it for the sample photo.
const LINE = JSON.stringify({
  file: "samples/african_elephant.jpg",
  predictions: [
    { index: 386, label: "African elephant", probability: 0.70243 },
    { index: 385, label: "Indian elephant", probability: 0.2184 },
    { index: 346, label: "water buffalo", probability: 0.047926 },
    { index: 101, label: "tusker", probability: 0.0154 },
    { index: 354, label: "Arabian camel", probability: 0.009992 },
  ],
  timings: { decodeMs: 2.1, preprocessMs: 0.4, inferenceMs: 13, totalMs: 15.5 },
});

Deno.test("predictionsFrom skips log lines and non-JSON text and reads the first result", () => {
  const out = `weights: 2 shards\n{"level":"info"}\nnot json {\n${LINE}\n${LINE}\n`;
  const p = predictionsFrom(out);
  assertEquals(p.length, 5);
  assertEquals(p[0], { index: 386, probability: 0.70243 });
  assertEquals(topIndices(p), "386 385 346 101 354");
});

Deno.test("predictionsFrom throws without a predictions line, or with malformed entries", () => {
  assertThrows(
    () => predictionsFrom('{"file":"x","error":{"code":"CORRUPT"}}\n'),
    Error,
    "no JSON",
  );
  assertThrows(() => predictionsFrom('{"predictions":[{"index":"1"}]}'), Error, "numeric index");
});

Deno.test("comparePredictions: equal runs pass; 1e-4 is the limit; a swapped order fails", () => {
  const a = predictionsFrom(LINE);
  assertEquals(comparePredictions(a, a), { sameTopK: true, maxDiff: 0, ok: true });
  const close = a.map((p, i) => ({ ...p, probability: p.probability + (i === 2 ? 9e-5 : 0) }));
  const c = comparePredictions(a, close);
  assert(c.ok && c.maxDiff > 8.9e-5 && c.maxDiff < 9.1e-5);
  const far = a.map((p, i) => ({ ...p, probability: p.probability - (i === 4 ? 2e-4 : 0) }));
  assertEquals(comparePredictions(a, far).ok, false);
  const swapped = [a[0], a[2], a[1], a[3], a[4]];
  const s = comparePredictions(a, swapped);
  assertEquals([s.sameTopK, s.ok], [false, false]);
  assertThrows(() => comparePredictions(a, a.slice(0, 3)), RangeError, "need 5");
});

Deno.test("table pads columns: first left-aligned, others right-aligned", () => {
  assertEquals(
    table(["step", "s"], [["a", "10.5"], ["longer", "1"]]),
    "| step   |    s |\n|--------|------|\n| a      | 10.5 |\n| longer |    1 |",
  );
});
