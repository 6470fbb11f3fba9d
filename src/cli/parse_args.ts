/**
 * The commands' argument parser: `node:util`'s `parseArgs` (tokens, not strict), with the call
 * shape of `@std/cli/parse-args` for the subset we use (JSR is not reachable from our build
 * machines), and refusals that name the flag: an unknown flag, a string flag without its
 * value, a value on a boolean flag.
 *
 * @module
 */
import { parseArgs as parseTokens } from "node:util";

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

type OptionConfig = Record<string, { type: "string" | "boolean"; short?: string }>;

/** `node:util`'s option table: the long names, one-letter aliases as `short`, longer ones too. */
function optionTable(
  options: ParseOptions,
): { table: OptionConfig; longAlias: Map<string, string> } {
  const table: OptionConfig = {};
  for (const name of options.string ?? []) table[name] = { type: "string" };
  for (const name of options.boolean ?? []) table[name] = { type: "boolean" };
  const longAlias = new Map<string, string>();
  for (const [alias, name] of Object.entries(options.alias ?? {})) {
    const target = table[name];
    if (!target) continue; // an alias of no flag: using it is an unknown flag
    if (alias.length === 1) target.short = alias;
    else {
      table[alias] = { type: target.type };
      longAlias.set(alias, name);
    }
  }
  return { table, longAlias };
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
  const { table, longAlias } = optionTable(options);
  const { tokens } = parseTokens({
    args: [...argv],
    options: table,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const out: Args = { _: [], ...options.default };
  for (const token of tokens) {
    if (token.kind === "positional") out._.push(token.value);
    if (token.kind !== "option") continue;
    const name = longAlias.get(token.name) ?? token.name;
    const type = Object.hasOwn(table, name) ? table[name].type : undefined;
    // the whole argument: `--frobnicate=3`, or `-h=1` (node reads that as the group -h -= -1)
    if (type === undefined) throw new TypeError(`unknown flag ${argv[token.index]}`);
    if (type === "boolean") {
      if (token.value !== undefined) throw new TypeError(`flag --${name} takes no value`);
      out[name] = true;
    } else {
      if (token.value === undefined) throw new TypeError(`flag --${name} needs a value`);
      out[name] = token.value;
    }
  }
  return out;
}
