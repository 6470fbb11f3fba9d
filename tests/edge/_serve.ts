/**
 * Starts the real edge server in a child process exactly as `deno task serve` does (the task
 * runs `sh edge/serve.sh`; running the script directly makes the child's pid the server's, so
 * it can be stopped and measured), on a free loopback port.
 *
 * @module
 */

/** The repository root. */
export const ROOT = new URL("../../", import.meta.url);

/** A running server. */
export interface ServeProcess {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** The server's pid (for /proc). */
  pid: number;
  /** `performance.now()` just before the spawn. */
  spawnedAt: number;
  /** Stops it (SIGTERM) and waits for the exit; resolves to everything it printed. */
  stop(): Promise<string>;
}

async function collect(stream: ReadableStream<Uint8Array>, sink: string[]): Promise<void> {
  for await (const text of stream.pipeThrough(new TextDecoderStream())) sink.push(text);
}

/** Starts `sh edge/serve.sh` with `env` added to the environment. */
export async function startServe(env: Record<string, string> = {}): Promise<ServeProcess> {
  const { freePort } = await import("./_helpers.ts");
  const port = freePort();
  const spawnedAt = performance.now();
  const child = new Deno.Command("sh", {
    args: ["edge/serve.sh"],
    cwd: ROOT,
    env: { ...env, PORT: String(port), HOST: "127.0.0.1", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output: string[] = [];
  const done = Promise.all([collect(child.stdout, output), collect(child.stderr, output)]);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
    await done;
    return output.join("");
  };
  // Wait (bounded) for the port to accept connections.
  for (let i = 0; i < 600; i++) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return { url, pid: child.pid, spawnedAt, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const printed = await stop();
  throw new Error(`the server did not listen on ${url} within 30 s:\n${printed}`);
}

/** What a server that stopped by itself printed, and its exit code. */
export interface ServeExit {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `sh edge/serve.sh` with `env` added and waits for it to exit by itself (a server that
 * is still running after `timeoutMs` is stopped, and the test sees its output and code 143).
 */
export async function runServeToExit(
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<ServeExit> {
  const { freePort } = await import("./_helpers.ts");
  const child = new Deno.Command("sh", {
    args: ["edge/serve.sh"],
    cwd: ROOT,
    env: { ...env, PORT: String(freePort()), HOST: "127.0.0.1", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
  const { code, stdout, stderr } = await child.output();
  clearTimeout(timer);
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code, stdout: text(stdout), stderr: text(stderr) };
}

/** Polls `/healthz` (bounded) until 200; returns its JSON body. */
export async function waitReady(url: string, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  const end = performance.now() + timeoutMs;
  let last = "";
  while (performance.now() < end) {
    const response = await fetch(`${url}/healthz`);
    last = await response.text();
    if (response.status === 200) return JSON.parse(last);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`not ready within ${timeoutMs} ms: ${last}`);
}

/** A process's resident memory now (`VmRSS`) and at its peak (`VmHWM`), in MiB (Linux). */
export function procMemory(pid: number): { rssMiB: number; hwmMiB: number } {
  const text = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = (key: string) => Number(text.match(new RegExp(`${key}:\\s+(\\d+)`))?.[1] ?? NaN);
  return { rssMiB: kb("VmRSS") / 1024, hwmMiB: kb("VmHWM") / 1024 };
}
