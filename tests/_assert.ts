/**
 * Test assertions: `node:assert/strict` plus the few helpers our tests need. JSR (and so
 * `@std/assert`) is not reachable from our build machines; this file is the one place to
 * swap it in later.
 *
 * @module
 */
import assert from "node:assert/strict";

export {
  deepEqual as assertEquals,
  equal as assertStrictEquals,
  match as assertMatch,
  ok as assert,
} from "node:assert/strict";

/** Asserts `|actual - expected| <= tolerance` element-wise and returns the largest difference. */
export function assertAllClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: number,
  what = "values",
): number {
  assert.equal(
    actual.length,
    expected.length,
    `${what}: length ${actual.length} != ${expected.length}`,
  );
  let worst = 0;
  let at = -1;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  assert.ok(
    worst <= tolerance,
    `${what}: max difference ${worst} at index ${at} (${actual[at]} vs ${
      expected[at]
    }) exceeds ${tolerance}`,
  );
  return worst;
}

// deno-lint-ignore no-explicit-any
type ErrorClass<E extends Error> = abstract new (...args: any[]) => E;

/** What a thrown error must look like: its `name`, and its exact `message` or a pattern of it. */
export interface ErrorExpectation {
  /** The error's `name` (e.g. `"RangeError"`). */
  name?: string;
  /** The whole message, or a pattern it matches. */
  message?: string | RegExp;
}

function describe(error: unknown): string {
  return `${error instanceof Error ? error.name : typeof error}: ${
    error instanceof Error ? error.message : String(error)
  }`;
}

function checkError<E extends Error>(
  error: unknown,
  expected?: ErrorClass<E> | ErrorExpectation,
  msgIncludes?: string,
): E {
  if (typeof expected === "function") {
    assert.ok(error instanceof expected, `expected ${expected.name}, got ${describe(error)}`);
  } else if (expected) {
    assert.ok(error instanceof Error, `expected an Error, got ${describe(error)}`);
    if (expected.name !== undefined) {
      assert.equal(error.name, expected.name, `expected ${expected.name}, got ${describe(error)}`);
    }
    if (typeof expected.message === "string") assert.equal(error.message, expected.message);
    else if (expected.message) assert.match(error.message, expected.message);
  }
  if (msgIncludes !== undefined) {
    const message = (error as Error).message;
    assert.ok(
      message.includes(msgIncludes),
      `expected the message to include ${JSON.stringify(msgIncludes)}, got ${
        JSON.stringify(message)
      }`,
    );
  }
  return error as E;
}

/**
 * Asserts that `fn` throws and returns the error. `expected` is an error class, or the error's
 * `name` and exact `message` (or a pattern of it); `msgIncludes` a part of the message.
 */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  expected?: ErrorClass<E> | ErrorExpectation,
  msgIncludes?: string,
): E {
  try {
    fn();
  } catch (error) {
    return checkError(error, expected, msgIncludes);
  }
  throw new assert.AssertionError({ message: "expected the function to throw" });
}

/** Like {@linkcode assertThrows} for a promise, or a function that returns one. */
export async function assertRejects<E extends Error = Error>(
  promise: PromiseLike<unknown> | (() => PromiseLike<unknown>),
  expected?: ErrorClass<E> | ErrorExpectation,
  msgIncludes?: string,
): Promise<E> {
  try {
    await (typeof promise === "function" ? promise() : promise);
  } catch (error) {
    return checkError(error, expected, msgIncludes);
  }
  throw new assert.AssertionError({ message: "expected the promise to reject" });
}

/**
 * The `node:assert/strict` style (`assert.equal`, `assert.deepEqual`, `assert.ok`,
 * `assert.match`, `assert.throws`, `assert.rejects`) for the tests written that way, so that
 * they too import their assertions from here.
 */
const nodeStyle: Pick<
  typeof assert,
  "equal" | "deepEqual" | "ok" | "match" | "throws" | "rejects"
> = assert;
export default nodeStyle;
