/**
 * The edge handler on a real loopback server in this process (`Deno.serve` on port 0) with a real
 * model loaded with one thread, for the handler and hostile-client tests; and raw HTTP/1.1 over
 * TCP, for requests `fetch` cannot make (slow, stalled, broken or aborted bodies).
 *
 * @module
 */
import { type Head, loadMobileNet } from "../../mod.ts";
import { type EdgeConfig, readConfig } from "../../edge/config.ts";
import type { ImageDecoder } from "../../edge/decoder.ts";
import { createHandler } from "../../edge/handler.ts";
import { HeadSet } from "../../edge/heads.ts";
import { Limiter } from "../../edge/limiter.ts";
import { ModelHolder, warmUp } from "../../edge/model.ts";

/** A running loopback server. */
export interface Loopback {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Its port. */
  port: number;
  /** The handler's limiter. */
  limiter: Limiter;
  /** The shared model. */
  models: ModelHolder;
  /** Requests the handler was called with. */
  handled: number;
  /** Stops the server, the decoder and the model. */
  close(): Promise<void>;
}

/** What {@linkcode startLoopback} takes. */
export interface LoopbackOptions {
  /** Settings over the defaults. */
  config?: Partial<EdgeConfig>;
  /** Slots and queue places. @default {[1, 1]} */
  slots?: [number, number];
  /** The decoder (closed with the server); inline when absent. */
  decoder?: ImageDecoder;
  /** The model. @default {"0.75_224"} */
  model?: string;
  /** Heads served as `?head=NAME`. @default {none} */
  heads?: ReadonlyMap<string, Head>;
}

/** Starts the handler on a loopback port. */
export async function startLoopback(options: LoopbackOptions = {}): Promise<Loopback> {
  const config = { ...readConfig(() => undefined), ...options.config };
  const model = options.model ?? "0.75_224";
  const heads = new HeadSet(options.heads);
  const models = new ModelHolder(model, async () => {
    const loaded = warmUp(await loadMobileNet({ model, threads: 1, resize: config.resize }));
    heads.attach(loaded);
    return loaded;
  });
  const [active, queue] = options.slots ?? [1, 1];
  const limiter = new Limiter(active, queue);
  const handler = createHandler({ config, models, limiter, decoder: options.decoder, heads });
  const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const loopback = { handled: 0 } as Loopback;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: (addr) => resolve(addr) },
    (request) => (loopback.handled++, handler(request)),
  );
  const { port } = await listening;
  return Object.assign(loopback, {
    url: `http://127.0.0.1:${port}`,
    port,
    limiter,
    models,
    close: async () => {
      await server.shutdown();
      options.decoder?.close();
      await models.dispose();
    },
  });
}

/** Whether `text` holds a whole response: its headers and `Content-Length` bytes of body. */
function complete(text: string): boolean {
  const end = text.indexOf("\r\n\r\n");
  const length = text.slice(0, end).match(/\r\ncontent-length: (\d+)/i)?.[1];
  return end >= 0 && length !== undefined && text.length - end - 4 >= Number(length);
}

/** The longest a {@linkcode RawClient} waits for its answer. */
const ANSWER_MS = 30_000;

/** A raw HTTP/1.1 connection: write the request piece by piece, read what comes back. */
export class RawClient {
  readonly #conn: Deno.TcpConn;
  readonly #answer: Promise<string>;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    this.#answer = (async () => {
      const decoder = new TextDecoder();
      let text = "";
      // Bounded: a server that never answers leaves an empty answer after ANSWER_MS.
      const timer = setTimeout(() => this.abort(), ANSWER_MS);
      try {
        for await (const chunk of conn.readable) {
          text += decoder.decode(chunk, { stream: true });
          if (complete(text)) break;
        }
      } catch { /* reset by the server, or closed by us */ }
      clearTimeout(timer);
      return text;
    })();
  }

  /** Connects to the loopback port. */
  static async connect(port: number): Promise<RawClient> {
    return new RawClient(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** Writes `text`; false once the server has closed the connection. */
  async write(text: string): Promise<boolean> {
    try {
      await this.#conn.write(new TextEncoder().encode(text));
      return true;
    } catch {
      return false;
    }
  }

  /** Says the request is over (half-close), as a client whose body ran out does. */
  async endWrite(): Promise<void> {
    await this.#conn.closeWrite().catch(() => {});
  }

  /** Drops the connection, as a client that goes away does. */
  abort(): void {
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }

  /** The first response the server sent (whole), or all it sent before the connection closed. */
  get answer(): Promise<string> {
    return this.#answer;
  }

  /** The status and JSON body of the answer (`status` 0 when nothing came back). */
  async response(): Promise<{ status: number; body: Record<string, unknown> | undefined }> {
    const text = await this.#answer;
    this.abort();
    const status = Number(text.match(/^HTTP\/1\.1 (\d{3})/)?.[1] ?? 0);
    const json = text.slice(text.indexOf("\r\n\r\n") + 4);
    return { status, body: json.startsWith("{") ? JSON.parse(json) : undefined };
  }
}

/** The request line and headers of a raw POST to `/v1/classify`. */
export function rawHead(headers: Record<string, string>): string {
  const lines = Object.entries({ host: "127.0.0.1", "content-type": "image/jpeg", ...headers });
  return `POST /v1/classify HTTP/1.1\r\n${lines.map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`;
}

/** Collects what `console.warn` and `console.error` print while `fn` runs. */
export async function captureLog<T>(fn: (lines: string[]) => Promise<T>): Promise<T> {
  const { warn, error } = console;
  const lines: string[] = [];
  const capture = (...args: unknown[]) =>
    lines.push(args.map((a) => (a instanceof Error ? a.stack : String(a))).join(" "));
  console.warn = console.error = capture;
  try {
    return await fn(lines);
  } finally {
    console.warn = warn;
    console.error = error;
  }
}
