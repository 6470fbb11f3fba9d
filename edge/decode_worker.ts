/**
 * The decode worker of the edge endpoint (started by `decoder.ts`): decodes one image at a time
 * with the library's `decodeImage`, off the server's event loop.
 *
 * Messages in: `{ id, bytes, options }` (the bytes transferred). Out: `{ ready: true }` once
 * loaded, then per image `{ id, ok: true, width, height, channels, decodeMs }` with either
 * `buffer` and `length` (small pixels, in a `SharedArrayBuffer` the caller copies from before
 * sending the next image) or `data` (large pixels, transferred), or
 * `{ id, ok: false, name, code, message }`.
 *
 * Memory: an isolate that allocates little collects its garbage late, and a worker that is sent
 * bodies and returns pixels would hold tens of MiB of dead buffers (and the receiving isolate is
 * as slow to free buffers transferred to it). So small pixels go back through one reused shared
 * buffer, large ones (rare, and where a copy would cost most) are transferred, and once the bodies
 * and pixels it has handled since the last time pass {@linkcode COLLECT_EVERY_BYTES}, the worker
 * runs a minor collection (a scavenge, which frees dead young buffers), when the process runs
 * with `--v8-flags=--expose-gc` (`edge/serve.sh` does). Measured with 0.25/224, one thread, 16
 * concurrent requests over five rounds of 600 (`bench/edge_load.ts`): a full collection every
 * 8 MiB let the peak reach 174-186 MiB; a minor one every 2 MiB keeps it at 138 MiB, flat from the
 * first round, for about the same CPU per request (a full one every 2 MiB cost 5 ms more each).
 * The worker imports the decode-only entry (`src/image/mod.ts`), so its isolate loads no tfjs.
 *
 * @module
 */
import { decodeImage, type DecodeOptions, ImageDecodeError } from "../src/image/mod.ts";

/** The shared buffer kept between images; larger pixels are transferred. */
const SHARED_BYTES = 4 * 1024 * 1024;

/** Bytes of bodies and pixels handled between two (minor) garbage collections. */
export const COLLECT_EVERY_BYTES = 2 * 1024 * 1024;

interface WorkerScope {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent) => void) | null;
}

const scope = globalThis as unknown as WorkerScope;
let shared: SharedArrayBuffer | undefined;
/** Bytes of bodies and pixels handled since the last collection. */
let handled = 0;

async function decode(id: number, bytes: Uint8Array, options: DecodeOptions): Promise<void> {
  const t0 = performance.now();
  try {
    handled += bytes.byteLength;
    const { data, width, height, channels } = await decodeImage(bytes, options);
    const length = data.byteLength;
    handled += length;
    const reply = { id, ok: true, width, height, channels, decodeMs: performance.now() - t0 };
    if (length > SHARED_BYTES) {
      const own = data.byteOffset === 0 && data.buffer.byteLength === length ? data : data.slice();
      return scope.postMessage({ ...reply, data: own }, [own.buffer as ArrayBuffer]);
    }
    const buffer = shared ??= new SharedArrayBuffer(SHARED_BYTES);
    new Uint8Array(buffer, 0, length).set(data);
    scope.postMessage({ ...reply, buffer, length });
  } catch (error) {
    const { name, message } = error instanceof Error ? error : new Error(String(error));
    const code = error instanceof ImageDecodeError ? error.code : undefined;
    scope.postMessage({ id, ok: false, name, code, message });
  }
}

/** `gc`, when the process exposes it and enough was handled since the last time. */
function collect(): void {
  if (handled < COLLECT_EVERY_BYTES) return;
  handled = 0;
  (globalThis as { gc?: (o?: { type: string }) => void }).gc?.({ type: "minor" });
}

scope.onmessage = (event) => {
  const { id, bytes, options } = event.data;
  // Collected once this handler's frame, which holds the body, is gone.
  decode(id, bytes, options).finally(() => setTimeout(collect, 0));
};
scope.postMessage({ ready: true });
