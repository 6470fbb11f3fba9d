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

function checkError<E extends Error>(
  error: unknown,
  ErrorClass?: ErrorClass<E>,
  msgIncludes?: string,
): E {
  if (ErrorClass) {
    assert.ok(
      error instanceof ErrorClass,
      `expected ${ErrorClass.name}, got ${error instanceof Error ? error.name : typeof error}: ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
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

/** Asserts that `fn` throws (an `ErrorClass` whose message includes `msgIncludes`); returns it. */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  ErrorClass?: ErrorClass<E>,
  msgIncludes?: string,
): E {
  try {
    fn();
  } catch (error) {
    return checkError(error, ErrorClass, msgIncludes);
  }
  throw new assert.AssertionError({ message: "expected the function to throw" });
}

/** Like {@linkcode assertThrows} for a promise-returning function. */
export async function assertRejects<E extends Error = Error>(
  fn: () => PromiseLike<unknown>,
  ErrorClass?: ErrorClass<E>,
  msgIncludes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (error) {
    return checkError(error, ErrorClass, msgIncludes);
  }
  throw new assert.AssertionError({ message: "expected the promise to reject" });
}
