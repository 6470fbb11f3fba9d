/**
 * A small stand-in for `@std/cli/parse-args` (JSR is not reachable from our build machines):
 * the same call shape for the subset we use, so swapping in `@std/cli` later is a one-line
 * change in each command.
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

/**
 * Parses command-line arguments.
 *
 * @throws {TypeError} for an unknown flag or a string flag without a value, naming the flag.
 */
export function parseArgs(argv: readonly string[], options: ParseOptions = {}): Args {
  const strings = new Set(options.string ?? []);
  const booleans = new Set(options.boolean ?? []);
  const alias = options.alias ?? {};
  const out: Args = { _: [], ...options.default };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      out._.push(...argv.slice(i + 1));
      break;
    }
    const match = /^--?([^=]+)(?:=(.*))?$/.exec(arg);
    if (!match || arg === "-") {
      out._.push(arg);
      continue;
    }
    const name = alias[match[1]] ?? match[1];
    if (booleans.has(name)) {
      if (match[2] !== undefined) throw new TypeError(`flag --${name} takes no value`);
      out[name] = true;
    } else if (strings.has(name)) {
      const value = match[2] ?? argv[++i];
      if (value === undefined) throw new TypeError(`flag --${name} needs a value`);
      out[name] = value;
    } else {
      throw new TypeError(`unknown flag ${arg}`);
    }
  }
  return out;
}
