import { assert, assertStrictEquals } from "../_assert.ts";

const CHILD = new URL("./_exit_child.ts", import.meta.url);
const CONFIG = new URL("../../deno.json", import.meta.url);

/** Runs the child; a hang is turned into a failure by killing it after a generous grace period. */
async function runChild(
  args: string[],
): Promise<{ code: number; stdout: string; killed: boolean }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-read",
      "--allow-env",
      "--config",
      CONFIG.pathname,
      CHILD.pathname,
      ...args,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let killed = false;
  const guard = setTimeout(() => {
    killed = true;
    child.kill("SIGKILL");
  }, 120_000);
  try {
    const { code, stdout } = await child.output();
    return { code, stdout: new TextDecoder().decode(stdout), killed };
  } finally {
    clearTimeout(guard);
  }
}

Deno.test("a CLI that started 2 threads exits by itself, with or without shutdownBackend()", async () => {
  for (const args of [["2"], ["2", "shutdown"], ["1"]]) {
    const { code, stdout, killed } = await runChild(args);
    assertStrictEquals(killed, false, `child ${args.join(" ")} did not exit`);
    assertStrictEquals(code, 0);
    const line = JSON.parse(stdout.trim());
    assertStrictEquals(line.threads, Number(args[0]));
    assertStrictEquals(line.workers, Number(args[0]) - 1);
    assert(Number.isFinite(line.out));
  }
});
