/** Confirming a camera's state: N identical answers in a row. */
import { assertEquals, assertThrows } from "../_assert.ts";
import { StateConfirmer } from "../../src/head/confirm.ts";

function changes(count: number, answers: string[]) {
  const confirmer = new StateConfirmer(count);
  return answers.map((a) => confirmer.push(a)).filter((c) => c !== undefined);
}

Deno.test("a change is confirmed by `count` identical answers in a row, with the state before", () => {
  assertEquals(
    changes(3, [
      "closed",
      "closed",
      "open",
      "closed",
      "closed",
      "closed",
      "open",
      "open",
      "open",
      "open",
    ]),
    [
      { state: "closed", previous: undefined },
      { state: "open", previous: "closed" },
    ],
  );
  // one odd answer restarts the count; the same state is never reported twice
  assertEquals(changes(2, ["a", "b", "a", "b", "b", "b", "a", "a", "a"]), [
    { state: "b", previous: undefined },
    { state: "a", previous: "b" },
  ]);
  // 1: every change at once
  assertEquals(changes(1, ["a", "a", "b"]).map((c) => c.state), ["a", "b"]);
  const confirmer = new StateConfirmer(2);
  confirmer.push("x");
  assertEquals(confirmer.state, undefined);
  confirmer.push("x");
  assertEquals(confirmer.state, "x");
  for (const bad of [0, 1.5, NaN]) assertThrows(() => new StateConfirmer(bad), RangeError);
});
