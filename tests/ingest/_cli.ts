/**
 * The ingest command as a child process, as `deno task ingest` runs it (its permissions), with
 * stderr piped.
 *
 * @module
 */

const CLI = new URL("../../src/cli/ingest.ts", import.meta.url);

/** Starts `deno task ingest ARGS`, stdin piped unless `stdin: "null"`. */
export function spawnIngest(
  args: string[],
  stdout: "piped" | "null" = "piped",
  stdin: "piped" | "null" = "piped",
) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-env", "--allow-net", CLI.pathname, ...args],
    stdin,
    stdout,
    stderr: "piped",
  }).spawn();
}
