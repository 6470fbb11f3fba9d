/** The ingest command's argument handling (in-process: bad arguments never load a model). */
import { assertEquals, assertThrows } from "../_assert.ts";
import { main, parseDuration } from "../../src/cli/ingest.ts";

Deno.test("durations: 500ms, 2s, 1.5m, 1h, plain seconds", () => {
  assertEquals(parseDuration("500ms", "--every"), 500);
  assertEquals(parseDuration("2s", "--every"), 2000);
  assertEquals(parseDuration("1.5m", "--every"), 90_000);
  assertEquals(parseDuration("1h", "--every"), 3_600_000);
  assertEquals(parseDuration("3", "--every"), 3000);
  assertThrows(() => parseDuration("soon", "--every"), RangeError, "--every");
  assertThrows(() => parseDuration("-1s", "--every"), RangeError);
});

Deno.test("the CLI refuses bad arguments with exit code 2", async () => {
  const error = console.error;
  const printed: string[] = [];
  console.error = (text: string) => printed.push(text);
  try {
    for (
      const args of [
        [],
        ["-", "--top", "0"],
        ["-", "--every", "soon"],
        ["-", "--min-change", "2"],
        ["ftp://cam/x"],
        ["mqtt://broker:1883/"],
        ["mqtt://broker:1883/a", "--group", "a/b"],
        ["http://cam/x", "--user", "nocolon"],
        ["-", "--bogus"],
      ]
    ) {
      assertEquals(await main(args), 2, args.join(" "));
    }
  } finally {
    console.error = error;
  }
  assertEquals(printed.length, 9);
  assertEquals(printed.every((p) => p.includes("usage: deno task ingest")), true);
});

Deno.test("the CLI checks --threads and --resize before loading, --top against the model", async () => {
  const error = console.error;
  const printed: string[] = [];
  console.error = (text: string) => printed.push(text);
  try {
    assertEquals(await main(["-", "--threads", "abc"]), 2);
    assertEquals(await main(["-", "--threads", "9"]), 2);
    assertEquals(await main(["-", "--resize", "squash"]), 2);
    assertEquals(printed.length, 3);
    assertEquals(printed.every((p) => p.includes("usage: deno task ingest")), true);
    // the bound of --top is the model's class count: refused once the model is loaded
    assertEquals(await main(["-", "--top", "1001", "--model", "0.25_224"]), 2);
    assertEquals(printed.at(-1), "ingest: --top must be an integer from 1 to 1000, got 1001");
  } finally {
    console.error = error;
  }
});
