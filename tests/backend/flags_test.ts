import { assertEquals, assertStrictEquals, assertThrows } from "../_assert.ts";
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

Deno.test("defaults: auto threads, SIMD on, adaptive, no start-up calibration", () => {
  assertEquals(resolveOptions({}, noEnv), {
    threads: "auto",
    threadsSource: "default",
    simd: true,
    simdSource: "default",
    adaptive: true,
    calibrate: false,
    startTimeoutMs: 20_000,
  });
});

Deno.test("an explicit thread count is neither adaptive nor calibrated unless asked", () => {
  const r = resolveOptions({ threads: 2 }, noEnv);
  assertStrictEquals(r.threads, 2);
  assertStrictEquals(r.adaptive, false);
  assertStrictEquals(r.calibrate, false);
  const a = resolveOptions({ threads: 2, adaptive: true }, noEnv);
  assertStrictEquals(a.adaptive, true);
  assertStrictEquals(a.calibrate, false);
  assertStrictEquals(
    resolveOptions({ threads: 2, adaptive: true, calibrate: true }, noEnv).calibrate,
    true,
  );
});

Deno.test("environment variables fill in what the options leave out", () => {
  const env = envOf({ [THREADS_ENV]: "1", [SIMD_ENV]: "0" });
  const r = resolveOptions({}, env);
  assertStrictEquals(r.threads, 1);
  assertStrictEquals(r.threadsSource, "env");
  assertStrictEquals(r.simd, false);
  assertStrictEquals(r.simdSource, "env");
  // Options win over the environment.
  const o = resolveOptions({ threads: 2, simd: true }, env);
  assertStrictEquals(o.threads, 2);
  assertStrictEquals(o.threadsSource, "option");
  assertStrictEquals(o.simd, true);
  assertStrictEquals(o.simdSource, "option");
  // Empty values count as unset; "auto" and blanks are accepted.
  assertStrictEquals(resolveOptions({}, envOf({ [THREADS_ENV]: "" })).threadsSource, "default");
  assertStrictEquals(resolveOptions({}, envOf({ [THREADS_ENV]: " AUTO " })).threads, "auto");
  assertStrictEquals(resolveOptions({}, envOf({ [THREADS_ENV]: " 4 " })).threads, 4);
});

Deno.test("bad options are refused with precise TypeError/RangeError messages", () => {
  assertThrows(() => checkThreads(0), {
    name: "RangeError",
    message: `threads must be an integer from 1 to ${MAX_THREADS} or "auto", got 0`,
  });
  assertThrows(() => checkThreads(1.5), {
    name: "RangeError",
    message: `threads must be an integer from 1 to ${MAX_THREADS} or "auto", got 1.5`,
  });
  assertThrows(() => checkThreads(9), { name: "RangeError" });
  assertThrows(() => checkThreads(NaN), { name: "RangeError" });
  assertThrows(() => checkThreads("2"), {
    name: "TypeError",
    message: 'threads must be a number or "auto", got string "2"',
  });
  assertThrows(() => resolveOptions({ simd: "no" as unknown as boolean }, noEnv), {
    name: "TypeError",
    message: 'simd must be a boolean, got string "no"',
  });
  assertThrows(() => resolveOptions({ adaptive: 1 as unknown as boolean }, noEnv), {
    name: "TypeError",
    message: "adaptive must be a boolean, got number 1",
  });
  assertThrows(() => resolveOptions({ startTimeoutMs: -1 }, noEnv), {
    name: "RangeError",
    message: "startTimeoutMs must be a positive finite number, got -1",
  });
  assertThrows(() => resolveOptions(null as unknown as object, noEnv), {
    name: "TypeError",
    message: "options must be an object, got null",
  });
});

Deno.test("bad environment values are refused with the variable named", () => {
  assertThrows(() => parseThreadsEnv("two"), {
    name: "RangeError",
    message: `${THREADS_ENV} must be an integer from 1 to ${MAX_THREADS} or "auto", got "two"`,
  });
  assertThrows(() => parseThreadsEnv("0"), { name: "RangeError" });
  assertThrows(() => parseThreadsEnv("-1"), { name: "RangeError" });
  assertThrows(() => parseThreadsEnv("1e1"), { name: "RangeError" });
  assertThrows(() => parseSimdEnv("maybe"), {
    name: "RangeError",
    message: `${SIMD_ENV} must be 0, 1, true, false, on or off, got "maybe"`,
  });
  assertStrictEquals(parseSimdEnv("OFF"), false);
  assertStrictEquals(parseSimdEnv("true"), true);
  assertStrictEquals(parseSimdEnv(""), undefined);
  assertThrows(() => resolveOptions({}, envOf({ [THREADS_ENV]: "lots" })), {
    name: "RangeError",
  });
});
