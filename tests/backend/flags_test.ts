import assert from "node:assert/strict";
import {
  checkThreads,
  MAX_THREADS,
  parseSimdEnv,
  parseThreadsEnv,
  resolveOptions,
  SIMD_ENV,
  THREADS_ENV,
} from "../../src/backend/flags.ts";

const noEnv = () => undefined;
const envOf = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("defaults: auto threads, SIMD on, adaptive and calibrated", () => {
  assert.deepEqual(resolveOptions({}, noEnv), {
    threads: "auto",
    threadsSource: "default",
    simd: true,
    simdSource: "default",
    adaptive: true,
    calibrate: true,
    startTimeoutMs: 20_000,
  });
});

Deno.test("an explicit thread count is neither adaptive nor calibrated unless asked", () => {
  const r = resolveOptions({ threads: 2 }, noEnv);
  assert.equal(r.threads, 2);
  assert.equal(r.adaptive, false);
  assert.equal(r.calibrate, false);
  const a = resolveOptions({ threads: 2, adaptive: true }, noEnv);
  assert.equal(a.adaptive, true);
  assert.equal(a.calibrate, true);
  assert.equal(
    resolveOptions({ threads: 2, adaptive: true, calibrate: false }, noEnv).calibrate,
    false,
  );
});

Deno.test("environment variables fill in what the options leave out", () => {
  const env = envOf({ [THREADS_ENV]: "1", [SIMD_ENV]: "0" });
  const r = resolveOptions({}, env);
  assert.equal(r.threads, 1);
  assert.equal(r.threadsSource, "env");
  assert.equal(r.simd, false);
  assert.equal(r.simdSource, "env");
  // Options win over the environment.
  const o = resolveOptions({ threads: 2, simd: true }, env);
  assert.equal(o.threads, 2);
  assert.equal(o.threadsSource, "option");
  assert.equal(o.simd, true);
  assert.equal(o.simdSource, "option");
  // Empty values count as unset; "auto" and blanks are accepted.
  assert.equal(resolveOptions({}, envOf({ [THREADS_ENV]: "" })).threadsSource, "default");
  assert.equal(resolveOptions({}, envOf({ [THREADS_ENV]: " AUTO " })).threads, "auto");
  assert.equal(resolveOptions({}, envOf({ [THREADS_ENV]: " 4 " })).threads, 4);
});

Deno.test("bad options are refused with precise TypeError/RangeError messages", () => {
  assert.throws(() => checkThreads(0), {
    name: "RangeError",
    message: `threads must be an integer from 1 to ${MAX_THREADS} or "auto", got 0`,
  });
  assert.throws(() => checkThreads(1.5), {
    name: "RangeError",
    message: `threads must be an integer from 1 to ${MAX_THREADS} or "auto", got 1.5`,
  });
  assert.throws(() => checkThreads(9), { name: "RangeError" });
  assert.throws(() => checkThreads(NaN), { name: "RangeError" });
  assert.throws(() => checkThreads("2"), {
    name: "TypeError",
    message: 'threads must be a number or "auto", got string "2"',
  });
  assert.throws(() => resolveOptions({ simd: "no" as unknown as boolean }, noEnv), {
    name: "TypeError",
    message: 'simd must be a boolean, got string "no"',
  });
  assert.throws(() => resolveOptions({ adaptive: 1 as unknown as boolean }, noEnv), {
    name: "TypeError",
    message: "adaptive must be a boolean, got number 1",
  });
  assert.throws(() => resolveOptions({ startTimeoutMs: -1 }, noEnv), {
    name: "RangeError",
    message: "startTimeoutMs must be a positive finite number, got -1",
  });
  assert.throws(() => resolveOptions(null as unknown as object, noEnv), {
    name: "TypeError",
    message: "options must be an object, got null",
  });
});

Deno.test("bad environment values are refused with the variable named", () => {
  assert.throws(() => parseThreadsEnv("two"), {
    name: "RangeError",
    message: `${THREADS_ENV} must be an integer from 1 to ${MAX_THREADS} or "auto", got "two"`,
  });
  assert.throws(() => parseThreadsEnv("0"), { name: "RangeError" });
  assert.throws(() => parseThreadsEnv("-1"), { name: "RangeError" });
  assert.throws(() => parseThreadsEnv("1e1"), { name: "RangeError" });
  assert.throws(() => parseSimdEnv("maybe"), {
    name: "RangeError",
    message: `${SIMD_ENV} must be 0, 1, true, false, on or off, got "maybe"`,
  });
  assert.equal(parseSimdEnv("OFF"), false);
  assert.equal(parseSimdEnv("true"), true);
  assert.equal(parseSimdEnv(""), undefined);
  assert.throws(() => resolveOptions({}, envOf({ [THREADS_ENV]: "lots" })), {
    name: "RangeError",
  });
});
