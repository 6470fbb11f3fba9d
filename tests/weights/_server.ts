/**
 * A local HTTP server (127.0.0.1, a random port) serving a weights directory for tests and
 * benches: it logs every request, can inject faults per request (an HTTP status, a stalled
 * body, other bytes), can hold a file back until released, and can throttle all responses
 * together to a bandwidth, like one slow link.
 *
 * @module
 */

/** What a fault hook may answer instead of the file. */
export type Fault =
  | { status: number; headers?: Record<string, string> }
  | { stall: true }
  | { body: Uint8Array };

/** Options of {@linkcode serveDir}. */
export interface ServeOptions {
  /** Bytes per second shared by all responses; unlimited when absent. */
  bytesPerSecond?: number;
  /** Called for each request with its file name and how many requests it had before. */
  fault?: (file: string, previous: number) => Fault | undefined;
}

/** A running server. */
export interface TestServer {
  /** The base URL, ending in `/`. */
  url: URL;
  /** File names requested, in order. */
  requests: string[];
  /** Requests of one file. */
  count(file: string): number;
  /** Responses of `file` wait until {@linkcode TestServer.release} is called. */
  hold(file: string): void;
  /** Releases a held file. */
  release(file: string): void;
  /** Most requests in progress at once. */
  maxInFlight: number;
  /** Requests in progress now (a response ends when sent, or when the client goes away). */
  inFlight: number;
  /** Stops the server (waits for open responses to end). */
  close(): Promise<void>;
}

const CHUNK = 16 * 1024;

/** Serves the files of `dir` over HTTP on 127.0.0.1. */
export function serveDir(dir: string | URL, options: ServeOptions = {}): TestServer {
  const base = dir instanceof URL ? dir : new URL(`file://${dir.replace(/\/?$/, "/")}`);
  const counts = new Map<string, number>();
  const held = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  const requests: string[] = [];
  let nextFree = 0;
  let inFlight = 0;
  const closing = new AbortController();
  const state = { maxInFlight: 0 };

  const wait = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      if (ms <= 0 || signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
    });

  const body = (bytes: Uint8Array, signal: AbortSignal, finish: () => void) => {
    let at = 0;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (signal.aborted || at >= bytes.byteLength) {
          finish();
          controller.close();
          return;
        }
        const chunk = bytes.subarray(at, at + CHUNK);
        at += chunk.byteLength;
        if (options.bytesPerSecond) {
          const now = performance.now();
          const start = Math.max(now, nextFree);
          nextFree = start + (chunk.byteLength / options.bytesPerSecond) * 1000;
          await wait(nextFree - now, signal);
        }
        controller.enqueue(chunk);
      },
      cancel: finish,
    });
  };

  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {}, signal: closing.signal },
    async (request) => {
      const file = decodeURIComponent(new URL(request.url).pathname.slice(1));
      const previous = counts.get(file) ?? 0;
      counts.set(file, previous + 1);
      requests.push(file);
      inFlight++;
      state.maxInFlight = Math.max(state.maxInFlight, inFlight);
      // Not request.signal: the body streams' cancel() says when a client went away.
      const local = new AbortController();
      const signal = AbortSignal.any([local.signal, closing.signal]);
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        inFlight--;
        local.abort();
      };
      const gate = held.get(file);
      if (gate) await Promise.race([gate.promise, wait(60_000, signal)]);
      const fault = options.fault?.(file, previous);
      if (fault && "status" in fault) {
        finish();
        return new Response(`fault ${fault.status}`, {
          status: fault.status,
          headers: fault.headers,
        });
      }
      if (fault && "stall" in fault) {
        // Headers now, then no byte until the client gives up.
        return new Response(
          new ReadableStream({
            async pull(controller) {
              await wait(60_000, signal);
              finish();
              controller.close();
            },
            cancel: finish,
          }),
        );
      }
      let bytes: Uint8Array;
      if (fault && "body" in fault) bytes = fault.body;
      else {
        try {
          bytes = await Deno.readFile(new URL(file, base));
        } catch {
          finish();
          return new Response("not found", { status: 404 });
        }
      }
      return new Response(body(bytes, signal, finish), {
        headers: { "content-length": String(bytes.byteLength) },
      });
    },
  );
  const addr = server.addr as Deno.NetAddr;
  return {
    url: new URL(`http://127.0.0.1:${addr.port}/`),
    requests,
    count: (file) => counts.get(file) ?? 0,
    hold(file) {
      const { promise, resolve } = Promise.withResolvers<void>();
      held.set(file, { promise, resolve });
    },
    release(file) {
      held.get(file)?.resolve();
      held.delete(file);
    },
    get maxInFlight() {
      return state.maxInFlight;
    },
    get inFlight() {
      return inFlight;
    },
    async close() {
      for (const gate of held.values()) gate.resolve();
      held.clear();
      closing.abort();
      await server.finished;
    },
  };
}
