/**
 * Running the commands as users do: `deno run` or `deno task` in a child process, with the
 * output decoded; `taskFrom` from the user's own directory.
 *
 * @module
 */

const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

/** A child's exit code and output. */
export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `deno ARGS` to the end; `options` as `Deno.Command`'s (cwd, env, clearEnv). */
export async function runDeno(
  args: string[],
  options: Pick<Deno.CommandOptions, "cwd" | "env" | "clearEnv"> = {},
): Promise<Ran> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    ...options,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

/**
 * `deno task -q ARGS` run from `cwd` as the user's directory: the project's tasks (`--config`),
 * and `INIT_CWD` set by `deno task` to `cwd`.
 */
export function taskFrom(cwd: string, ...args: string[]): Promise<Ran> {
  // An INIT_CWD already set (by npm, or by the `deno task test` running this) is kept by
  // `deno task`: the child must not inherit it.
  const env = Deno.env.toObject();
  delete env.INIT_CWD;
  return runDeno(["task", "-q", "--config", CONFIG, ...args], { cwd, env, clearEnv: true });
}
