/**
 * Runs `tools/fuzz/main.ts` (what `deno task fuzz` runs) as a child process for the fuzz tests:
 * the harness reads `/proc/<pid>` of its children, which Deno allows only with all permissions,
 * so it runs with `-A` in its own process.
 *
 * @module
 */

const MAIN = new URL("../../tools/fuzz/main.ts", import.meta.url);
/** The dev lock: the fuzzer's seeds come from test generators that use dev packages. */
export const DEV_LOCK = new URL("../../deno.dev.lock", import.meta.url).pathname;

/** The fuzzer's exit code, output and (with `--json`) its JSON result. */
export interface FuzzRun<T> {
  code: number;
  stdout: string;
  stderr: string;
  json: T;
}

/** Runs the fuzzer with `args` plus `--json <temp file>`, and reads the JSON it wrote. */
export async function runFuzz<T>(args: string[]): Promise<FuzzRun<T>> {
  const dir = await Deno.makeTempDir({ prefix: "fuzz_json_" });
  try {
    const json = `${dir}/out.json`;
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `--lock=${DEV_LOCK}`, MAIN.href, ...args, "--json", json],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const text = {
      stdout: new TextDecoder().decode(stdout),
      stderr: new TextDecoder().decode(stderr),
    };
    let parsed: T;
    try {
      parsed = JSON.parse(await Deno.readTextFile(json));
    } catch {
      throw new Error(`the fuzzer wrote no result (exit ${code}):\n${text.stdout}\n${text.stderr}`);
    }
    return { code, ...text, json: parsed };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
