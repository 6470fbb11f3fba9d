/**
 * The commands' argument parser, with the call shape of `@std/cli/parse-args` for the subset we
 * use (JSR is not reachable from our build machines) and the tokens of `node:util`'s `parseArgs`
 * (not strict), written here: importing `node:util` loads Deno's Node layer, some 30 ms of a
 * cold start. Refusals name the flag: an unknown flag, a string flag without its value, a value
 * on a boolean flag.
 *
 * @module
 */

/** Which flags take a string value and which are booleans, with aliases and defaults. */
export interface ParseOptions {
  /** Flags that take a value: `--top 3` or `--top=3`. */
  string?: readonly string[];
  /** Flags that are true when present: `--json`. */
  boolean?: readonly string[];
  /** Short or alternative names: `{ n: "top" }`. */
  alias?: Readonly<Record<string, string>>;
  /** Default values. */
  default?: Readonly<Record<string, string | boolean>>;
}

/** Parsed arguments: positional ones in `_`, flags by name. */
export interface Args {
  /** Positional arguments, in order. */
  _: string[];
  /** Flags by their long name. */
  [flag: string]: string | boolean | string[] | undefined;
}

type Flag = { name: string; type: "string" | "boolean" };

/** The flags by every name they answer to: long names, long aliases, one-letter aliases. */
function flagTable(options: ParseOptions): { long: Map<string, Flag>; short: Map<string, Flag> } {
  const long = new Map<string, Flag>();
  for (const name of options.string ?? []) long.set(name, { name, type: "string" });
  for (const name of options.boolean ?? []) long.set(name, { name, type: "boolean" });
  const short = new Map<string, Flag>();
  for (const [alias, name] of Object.entries(options.alias ?? {})) {
    const target = long.get(name);
    if (!target) continue; // an alias of no flag: using it is an unknown flag
    (alias.length === 1 ? short : long).set(alias, target);
  }
  return { long, short };
}

/** Sets `flag` in `out` from the argument `arg`: `value` is its value, or none. */
function setFlag(out: Args, flag: Flag | undefined, arg: string, value?: string): void {
  if (!flag) throw new TypeError(`unknown flag ${arg}`);
  if (flag.type === "boolean") {
    if (value !== undefined) throw new TypeError(`flag --${flag.name} takes no value`);
    out[flag.name] = true;
  } else {
    if (value === undefined) throw new TypeError(`flag --${flag.name} needs a value`);
    out[flag.name] = value;
  }
}

/**
 * Reads one short-flag argument (`-k`, `-k7`, `-hj`) at `argv[i]`; returns how many arguments it
 * took. A string flag takes the rest of the argument, or the next one; otherwise every letter must
 * be a boolean flag, or the whole argument is named as unknown (`-h=1`).
 */
function shortFlags(
  argv: readonly string[],
  i: number,
  short: Map<string, Flag>,
  out: Args,
): number {
  const arg = argv[i];
  const first = short.get(arg[1]);
  if (first?.type === "string") {
    const value = arg.length > 2 ? arg.slice(2) : argv[i + 1];
    setFlag(out, first, arg, value);
    return arg.length > 2 || value === undefined ? 1 : 2;
  }
  const letters = [...arg.slice(1)].map((letter) => short.get(letter));
  if (letters.some((flag) => flag?.type !== "boolean")) throw new TypeError(`unknown flag ${arg}`);
  for (const flag of letters) setFlag(out, flag, arg);
  return 1;
}

/**
 * Parses command-line arguments. `--` ends the flags; `-` is a positional (stdin); a string
 * flag's value may start with `-` (`--offset -5`); the last of a repeated flag wins.
 *
 * @throws {TypeError} for an unknown flag or a string flag without a value, naming the flag.
 * @example
 * ```ts
 * import { parseArgs } from "./parse_args.ts";
 * parseArgs(["a.jpg", "-k", "3", "--json"], {
 *   string: ["top"],
 *   boolean: ["json"],
 *   alias: { k: "top" },
 * }); // { _: ["a.jpg"], top: "3", json: true }
 * ```
 */
export function parseArgs(argv: readonly string[], options: ParseOptions = {}): Args {
  const { long, short } = flagTable(options);
  const out: Args = { _: [], ...options.default };
  for (let i = 0; i < argv.length;) {
    const arg = argv[i];
    if (arg === "--") {
      out._.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      out._.push(arg);
      i++;
    } else if (!arg.startsWith("--")) {
      i += shortFlags(argv, i, short, out);
    } else {
      const eq = arg.indexOf("=");
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const flag = long.get(name);
      if (!flag) throw new TypeError(`unknown flag ${arg}`);
      const takesNext = eq < 0 && flag.type === "string";
      setFlag(out, flag, arg, eq >= 0 ? arg.slice(eq + 1) : takesNext ? argv[i + 1] : undefined);
      i += takesNext && i + 1 < argv.length ? 2 : 1;
    }
  }
  return out;
}
