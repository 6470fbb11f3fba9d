/** The commands' argument parser on its own: value forms, aliases, defaults, and refusals. */
import { assertEquals, assertThrows } from "../_assert.ts";
import { parseArgs } from "../../src/cli/parse_args.ts";

const OPTIONS = {
  string: ["top", "model"],
  boolean: ["json", "help"],
  alias: { h: "help", k: "top" },
} as const;

Deno.test("parseArgs: string flags take `--f v` or `--f=v`, booleans are bare, the rest is positional", () => {
  assertEquals(parseArgs(["a.jpg", "--top", "3", "--json", "b.jpg", "--model=0.25_224"], OPTIONS), {
    _: ["a.jpg", "b.jpg"],
    top: "3",
    json: true,
    model: "0.25_224",
  });
  assertEquals(parseArgs(["--top="], OPTIONS), { _: [], top: "" }, "an explicit empty value");
  assertEquals(parseArgs(["--model", "a=b"], OPTIONS), { _: [], model: "a=b" });
  assertEquals(parseArgs([], OPTIONS), { _: [] });
});

Deno.test("parseArgs: aliases, defaults, `-` and `--`", () => {
  assertEquals(parseArgs(["-k", "7", "-h"], OPTIONS), { _: [], top: "7", help: true });
  assertEquals(
    parseArgs(["--json"], { ...OPTIONS, default: { top: "5", json: false } }),
    { _: [], top: "5", json: true },
  );
  assertEquals(parseArgs(["-", "x"], OPTIONS), { _: ["-", "x"] }, "`-` (stdin) is positional");
  assertEquals(
    parseArgs(["--json", "--", "--top", "-h"], OPTIONS),
    { _: ["--top", "-h"], json: true },
    "everything after `--` is positional",
  );
  assertEquals(parseArgs(["--top", "1", "--top", "2"], OPTIONS).top, "2", "the last one wins");
});

Deno.test("parseArgs: unknown flags, a missing value and a value on a boolean are TypeErrors naming the flag", () => {
  assertThrows(() => parseArgs(["--frobnicate"], OPTIONS), TypeError, "unknown flag --frobnicate");
  assertThrows(() => parseArgs(["-x"], OPTIONS), TypeError, "unknown flag -x");
  assertThrows(() => parseArgs(["a.jpg", "--top"], OPTIONS), TypeError, "flag --top needs a value");
  assertThrows(() => parseArgs(["--json=yes"], OPTIONS), TypeError, "flag --json takes no value");
  assertThrows(() => parseArgs(["-k"], OPTIONS), TypeError, "flag --top needs a value");
  assertThrows(() => parseArgs(["--frob=3"], OPTIONS), TypeError, "unknown flag --frob=3");
  // node reads `-h=1` as the group -h -= -1: the whole argument is named
  assertThrows(() => parseArgs(["-h=1"], OPTIONS), TypeError, "unknown flag -h=1");
});

Deno.test("parseArgs: short flags with their value attached, values that start with `-`, long aliases", () => {
  assertEquals(parseArgs(["-k7"], OPTIONS), { _: [], top: "7" });
  // one-letter booleans grouped; a group with a letter that is no boolean is unknown as a whole
  const grouped = { ...OPTIONS, alias: { ...OPTIONS.alias, j: "json" } };
  assertEquals(parseArgs(["-hj", "x"], grouped), { _: ["x"], help: true, json: true });
  assertThrows(() => parseArgs(["-hk"], grouped), TypeError, "unknown flag -hk");
  assertEquals(parseArgs(["--top", "-5", "x"], OPTIONS), { _: ["x"], top: "-5" });
  assertEquals(
    parseArgs(["--size=3", "--verbose"], {
      string: ["shard-size"],
      boolean: ["debug"],
      alias: { size: "shard-size", verbose: "debug", q: "quiet" },
    }),
    { _: [], "shard-size": "3", debug: true },
  );
  // an alias of no flag is an unknown flag when used
  assertThrows(() => parseArgs(["-q"], { alias: { q: "quiet" } }), TypeError, "unknown flag -q");
  // inherited names are not flags
  assertThrows(() => parseArgs(["--constructor"], OPTIONS), TypeError, "unknown flag");
});
