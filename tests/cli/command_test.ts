/** parseOrExit: the parsed command, 0 after help, 2 with one line and the usage for bad usage. */
import { assertEquals } from "../_assert.ts";
import { parseOrExit } from "../../src/cli/command.ts";

function parse(args: string[]): { n: number } | "help" {
  if (args[0] === "--help") return "help";
  const n = Number(args[0]);
  if (!Number.isInteger(n)) throw new RangeError(`not a whole number: ${args[0]}`);
  return { n };
}

function captured(run: () => unknown): { value: unknown; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    return { value: run(), out, err };
  } finally {
    Object.assign(console, { log, error });
  }
}

Deno.test("parseOrExit: a command, help (0, usage on stdout), bad usage (2, one line + usage on stderr)", () => {
  const ok = captured(() => parseOrExit("demo", ["7"], parse, "usage: demo N"));
  assertEquals(ok, { value: { n: 7 }, out: [], err: [] });
  const help = captured(() => parseOrExit("demo", ["--help"], parse, "usage: demo N"));
  assertEquals(help, { value: 0, out: ["usage: demo N"], err: [] });
  const bad = captured(() => parseOrExit("demo", ["x"], parse, "usage: demo N"));
  assertEquals(bad, {
    value: 2,
    out: [],
    err: ["demo: not a whole number: x\n\nusage: demo N"],
  });
});
