/**
 * Runs `deno task` as a user does from their own directory: the project's tasks (`--config`)
 * with `cwd` as the working directory, so `deno task` sets `INIT_CWD` to it.
 *
 * @module
 */

const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

/** `deno task -q ARGS` run from `cwd`; its exit code and output. */
export async function taskFrom(
  cwd: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  // An INIT_CWD already set (by npm, or by the `deno task test` running this) is kept by
  // `deno task`: the child must not inherit it.
  const env = Deno.env.toObject();
  delete env.INIT_CWD;
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "--config", CONFIG, ...args],
    cwd,
    clearEnv: true,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}
