/**
 * A fake camera on loopback (`Deno.serve`, port 0), with a handler the test can swap, optional
 * Basic or Digest authentication checked independently of the code under test, and restarts on
 * the same port (to play a camera going offline and online).
 *
 * @module
 */
import { createHash } from "node:crypto";

/** Authentication the camera demands. */
export type CameraAuth =
  | { scheme: "basic"; user: string; password: string }
  | { scheme: "digest"; user: string; password: string; algorithm: "MD5" | "SHA-256" };

/** A running fake camera. */
export class FakeCamera {
  handler: (request: Request) => Response | Promise<Response>;
  auth?: CameraAuth;
  /** Requests seen, and how many were refused with 401. */
  requests = 0;
  unauthorized = 0;
  /** Connections (for streams): how many responses were started. */
  served = 0;
  #server?: Deno.HttpServer<Deno.NetAddr>;
  #port = 0;
  #nonce = crypto.randomUUID();

  constructor(handler: (request: Request) => Response | Promise<Response>, auth?: CameraAuth) {
    this.handler = handler;
    this.auth = auth;
  }

  /** The base URL, `http://127.0.0.1:<port>`. */
  get origin(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Starts listening (on the same port as before after a stop). */
  start(): this {
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: this.#port, onListen: () => {} },
      (request) => this.#handle(request),
    );
    this.#port = this.#server.addr.port;
    return this;
  }

  /** Stops listening and ends open connections. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    await server.shutdown();
  }

  async #handle(request: Request): Promise<Response> {
    this.requests++;
    if (this.auth && !this.#authorized(request)) {
      this.unauthorized++;
      const challenge = this.auth.scheme === "basic"
        ? 'Basic realm="cam"'
        : `Digest realm="cam", qop="auth", algorithm=${this.auth.algorithm}, nonce="${this.#nonce}", opaque="op"`;
      return new Response("<html>401 Unauthorized</html>", {
        status: 401,
        headers: { "www-authenticate": challenge, "content-type": "text/html" },
      });
    }
    this.served++;
    return await this.handler(request);
  }

  #authorized(request: Request): boolean {
    const header = request.headers.get("authorization") ?? "";
    const auth = this.auth!;
    if (auth.scheme === "basic") return header === `Basic ${btoa(`${auth.user}:${auth.password}`)}`;
    if (!header.startsWith("Digest ")) return false;
    const p: Record<string, string> = {};
    for (const m of header.slice(7).matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) {
      p[m[1]] = m[2] ?? m[3];
    }
    const h = (s: string) =>
      createHash(auth.algorithm === "MD5" ? "md5" : "sha256").update(s).digest("hex");
    const url = new URL(request.url);
    if (p.uri !== url.pathname + url.search || p.nonce !== this.#nonce || p.opaque !== "op") {
      return false;
    }
    const ha1 = h(`${auth.user}:cam:${auth.password}`);
    const ha2 = h(`${request.method}:${p.uri}`);
    return p.username === auth.user &&
      p.response === h(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:auth:${ha2}`);
  }
}

/** A JPEG response. */
export function jpegResponse(bytes: Uint8Array): Response {
  return new Response(bytes.slice(), { headers: { "content-type": "image/jpeg" } });
}

/**
 * A multipart stream response writing `parts()` every `intervalMs` until `count` parts or the
 * client goes away; with `hangAfter`, it stops writing (but keeps the connection) after that
 * many parts.
 */
export function streamResponse(
  contentType: string,
  part: (i: number) => Uint8Array,
  options: { intervalMs: number; count: number; hangAfter?: number; signal?: AbortSignal },
): Response {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const tick = () => {
        if (options.signal?.aborted || i >= options.count) {
          try {
            controller.close();
          } catch { /* cancelled */ }
          return;
        }
        if (options.hangAfter !== undefined && i >= options.hangAfter) return; // hang, open
        try {
          controller.enqueue(part(i++));
        } catch {
          return; // the client went away
        }
        timer = setTimeout(tick, options.intervalMs);
      };
      tick();
    },
    cancel() {
      clearTimeout(timer);
    },
  });
  return new Response(body, { headers: { "content-type": contentType } });
}
