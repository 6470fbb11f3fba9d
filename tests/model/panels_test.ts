import { assertEquals, assertThrows } from "../_assert.ts";
import { panelOrder } from "../../src/model/panels.ts";

Deno.test("panelOrder: panels of columns, row by row, optionally scaled per column", () => {
  // [3, 4] = rows 0..2, columns 0..3; value = 10 * row + column
  const values = new Float32Array([0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23]);
  const out = new Float32Array(16).fill(-1);
  const got = panelOrder(values, 3, 4, 2, out);
  assertEquals([...got], [0, 1, 10, 11, 20, 21, 2, 3, 12, 13, 22, 23]);
  assertEquals(out[12], -1, "nothing written past k * n");
  const scaled = panelOrder(values, 3, 4, 4, new Float32Array(12), new Float64Array([1, 2, 3, 4]));
  assertEquals([...scaled], [0, 2, 6, 12, 10, 22, 36, 52, 20, 42, 66, 92]);
});

Deno.test("panelOrder refuses ragged panels, wrong lengths and wrong scales", () => {
  const v = new Float32Array(12);
  assertThrows(() => panelOrder(v, 3, 4, 3, new Float32Array(12)), RangeError, "panels of 3");
  assertThrows(() => panelOrder(v, 2, 4, 2, new Float32Array(12)), RangeError, "[2, 4]");
  assertThrows(() => panelOrder(v, 3, 4, 2, new Float32Array(11)), RangeError, "[3, 4]");
  assertThrows(
    () => panelOrder(v, 3, 4, 2, new Float32Array(12), new Float64Array(3)),
    RangeError,
    "3 scales for 4 columns",
  );
});
