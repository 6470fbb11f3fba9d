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

/** Resolves after `ms`, or at once when `signal` aborts. */
function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** One slow link shared by all responses: how long to wait before sending `size` more bytes. */
function linkPacer(bytesPerSecond: number): (size: number) => number {
  let nextFree = 0;
  return (size) => {
    const now = performance.now();
    nextFree = Math.max(now, nextFree) + (size / bytesPerSecond) * 1000;
    return nextFree - now;
  };
}

/** `bytes` as a stream of {@linkcode CHUNK}-byte chunks, paced; `finish` once ended or cancelled. */
function chunked(
  bytes: Uint8Array,
  signal: AbortSignal,
  finish: () => void,
  pace?: (size: number) => number,
): ReadableStream<Uint8Array> {
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
      if (pace) await wait(pace(chunk.byteLength), signal);
      controller.enqueue(chunk);
    },
    cancel: finish,
  });
}

/** The answer to a status or stall fault. */
function faultResponse(
  fault: Exclude<Fault, { body: Uint8Array }>,
  signal: AbortSignal,
  finish: () => void,
): Response {
  if ("status" in fault) {
    finish();
    return new Response(`fault ${fault.status}`, { status: fault.status, headers: fault.headers });
  }
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

/** What the server keeps across requests. */
interface Served {
  counts: Map<string, number>;
  held: Map<string, { promise: Promise<void>; resolve: () => void }>;
  requests: string[];
  closing: AbortController;
  maxInFlight: number;
  inFlight: number;
}

/** Counts a request in flight; `finish` (once) counts it out and stops its body. */
function track(served: Served): { signal: AbortSignal; finish: () => void } {
  served.inFlight++;
  served.maxInFlight = Math.max(served.maxInFlight, served.inFlight);
  // Not request.signal: the body streams' cancel() says when a client went away.
  const local = new AbortController();
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    served.inFlight--;
    local.abort();
  };
  return { signal: AbortSignal.any([local.signal, served.closing.signal]), finish };
}

/** The request handler: a held file waits, a fault answers, else the file, paced. */
function handler(served: Served, base: URL, options: ServeOptions) {
  const pace = options.bytesPerSecond ? linkPacer(options.bytesPerSecond) : undefined;
  return async (request: Request): Promise<Response> => {
    const file = decodeURIComponent(new URL(request.url).pathname.slice(1));
    const previous = served.counts.get(file) ?? 0;
    served.counts.set(file, previous + 1);
    served.requests.push(file);
    const { signal, finish } = track(served);
    const gate = served.held.get(file);
    if (gate) await Promise.race([gate.promise, wait(60_000, signal)]);
    const fault = options.fault?.(file, previous);
    if (fault && !("body" in fault)) return faultResponse(fault, signal, finish);
    const bytes = fault?.body ?? await Deno.readFile(new URL(file, base)).catch(() => undefined);
    if (!bytes) {
      finish();
      return new Response("not found", { status: 404 });
    }
    return new Response(chunked(bytes, signal, finish, pace), {
      headers: { "content-length": String(bytes.byteLength) },
    });
  };
}

/** Serves the files of `dir` over HTTP on 127.0.0.1. */
export function serveDir(dir: string | URL, options: ServeOptions = {}): TestServer {
  const base = dir instanceof URL ? dir : new URL(`file://${dir.replace(/\/?$/, "/")}`);
  const served: Served = {
    counts: new Map(),
    held: new Map(),
    requests: [],
    closing: new AbortController(),
    maxInFlight: 0,
    inFlight: 0,
  };
  const { counts, held, closing } = served;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {}, signal: closing.signal },
    handler(served, base, options),
  );
  const addr = server.addr as Deno.NetAddr;
  return {
    url: new URL(`http://127.0.0.1:${addr.port}/`),
    requests: served.requests,
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
      return served.maxInFlight;
    },
    get inFlight() {
      return served.inFlight;
    },
    async close() {
      for (const gate of held.values()) gate.resolve();
      held.clear();
      closing.abort();
      await server.finished;
    },
  };
}
