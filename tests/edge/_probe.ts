/**
 * Run by the edge tests under restricted permissions: prints, as one JSON line, the settings
 * `readConfig` sees and what each kind of access does ("ok" or the error's name), so a test can
 * show what the server's flags allow and deny.
 *
 * `deno run <flags> tests/edge/_probe.ts <inside file> <outside file>`
 *
 * @module
 */
import { readConfig } from "../../edge/config.ts";

async function attempt(fn: () => unknown): Promise<string> {
  try {
    await fn();
    return "ok";
  } catch (error) {
    return error instanceof Error ? error.name : String(error);
  }
}

const [inside, outside] = Deno.args;
const tmp = `/tmp/mobilenet-edge-probe-${crypto.randomUUID()}`;
const result = {
  config: readConfig(),
  readInside: await attempt(() => Deno.readFile(inside)),
  readOutside: await attempt(() => Deno.readFile(outside)),
  readEtcPasswd: await attempt(() => Deno.readTextFile("/etc/passwd")),
  write: await attempt(() => Deno.writeTextFile(tmp, "x")),
  run: await attempt(() => new Deno.Command("true").output()),
  envHome: await attempt(() => Deno.env.get("HOME")),
  ffi: await attempt(() => Deno.dlopen("libc.so.6", {})),
  netOut: await attempt(() => Deno.connect({ hostname: "127.0.0.1", port: 9 })),
};
console.log(JSON.stringify(result));
