/**
 * A real Mosquitto broker for the MQTT tests, on a free loopback port with a generated config
 * (no persistence, anonymous access), killed at the end. Tests are skipped with an install hint
 * where `mosquitto` is missing.
 *
 * @module
 */

/** The install hint printed when the broker is missing. */
export const INSTALL_HINT = "install mosquitto: apt-get install -y mosquitto";

function findMosquitto(): string | undefined {
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":"), "/usr/sbin", "/usr/local/sbin"];
  for (const dir of dirs) {
    if (!dir) continue;
    try {
      if (Deno.statSync(`${dir}/mosquitto`).isFile) return `${dir}/mosquitto`;
    } catch { /* not here */ }
  }
  return undefined;
}

/** The broker binary, or undefined (and the hint printed once). */
export const MOSQUITTO = findMosquitto();
if (!MOSQUITTO) console.log(`MQTT tests skipped: ${INSTALL_HINT}`);

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A running broker. */
export class Mosquitto {
  readonly port: number;
  readonly #dir: string;
  #child?: Deno.ChildProcess;

  private constructor(port: number, dir: string) {
    this.port = port;
    this.#dir = dir;
  }

  /** `mqtt://127.0.0.1:<port>`. */
  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Starts a broker on a free port. */
  static async start(): Promise<Mosquitto> {
    const dir = await Deno.makeTempDir({ prefix: "mosquitto_" });
    const broker = new Mosquitto(freePort(), dir);
    await Deno.writeTextFile(
      `${dir}/mosquitto.conf`,
      `listener ${broker.port} 127.0.0.1\nallow_anonymous true\npersistence false\n`,
    );
    await broker.restart();
    return broker;
  }

  /** (Re)starts the process on the same port and waits until it accepts connections. */
  async restart(): Promise<void> {
    await this.kill();
    this.#child = new Deno.Command(MOSQUITTO!, {
      args: ["-c", `${this.#dir}/mosquitto.conf`],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    for (let i = 0; i < 100; i++) {
      try {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: this.port });
        conn.close();
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    throw new Error(`mosquitto did not listen on ${this.port}`);
  }

  /** Kills the process (the broker goes away, as a crashed broker would). */
  async kill(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child) return;
    child.kill("SIGKILL");
    await child.status;
  }

  /** Kills the broker and removes its config. */
  async stop(): Promise<void> {
    await this.kill();
    await Deno.remove(this.#dir, { recursive: true });
  }
}
