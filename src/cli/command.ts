/**
 * The start every command line shares: parse the arguments once, answer `--help`, and refuse
 * bad usage with one line and the usage text.
 *
 * @module
 */
import { errorMessage } from "../_util.ts";

/**
 * Parses `args` with `parse` for the command `name`. Returns the parsed command, or the exit code
 * when there is nothing more to do: 0 after printing `usage` for help, 2 after printing
 * `name: <problem>` and `usage` on stderr for bad usage (whatever `parse` throws).
 *
 * @example
 * ```ts ignore
 * const command = parseOrExit("classify", args, parseCommand, USAGE);
 * if (typeof command === "number") return command;
 * ```
 */
export function parseOrExit<C>(
  name: string,
  args: string[],
  parse: (args: string[]) => C | "help",
  usage: string,
): C | number {
  let command;
  try {
    command = parse(args);
  } catch (error) {
    console.error(`${name}: ${errorMessage(error)}\n\n${usage}`);
    return 2;
  }
  if (command === "help") {
    console.log(usage);
    return 0;
  }
  return command;
}
