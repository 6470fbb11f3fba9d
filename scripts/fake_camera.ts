/**
 * A fake network camera on loopback: `GET /snap.jpg` answers with the same JPEG every time
 * (the bundled sample photo by default), like the snapshot URL of an IP camera. Used by the arm64
 * check's ingest step and by anyone trying the ingest adapter without a camera.
 *
 * Run: `deno run --allow-net=127.0.0.1 --allow-read scripts/fake_camera.ts [--port N] [image.jpg]`
 * prints the snapshot URL on its first line and serves until stopped (port 0, the default, picks
 * a free port).
 *
 * @module
 */

/** The photo served when none is named. */
export const SAMPLE_JPEG = new URL("../samples/african_elephant.jpg", import.meta.url);

/** A running fake camera. */
export interface FakeCamera {
  /** The snapshot URL, `http://127.0.0.1:PORT/snap.jpg`. */
  url: string;
  /** Snapshots served so far. */
  readonly served: number;
  /** Stops the server and waits until it has finished. */
  close(): Promise<void>;
}

/**
 * Starts a fake camera on 127.0.0.1 serving `image` (bytes, or a path/URL to read once) at
 * `/snap.jpg`; any other path is 404.
 *
 * @example
 * ```ts
 * import { startFakeCamera } from "./fake_camera.ts";
 * const camera = await startFakeCamera();
 * const res = await fetch(camera.url); // image/jpeg
 * await res.body?.cancel();
 * await camera.close();
 * ```
 */
export async function startFakeCamera(
  image: Uint8Array<ArrayBuffer> | string | URL = SAMPLE_JPEG,
  port = 0,
): Promise<FakeCamera> {
  const bytes = image instanceof Uint8Array ? image : await Deno.readFile(image);
  let served = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port, onListen: () => {} },
    (request) => {
      if (new URL(request.url).pathname !== "/snap.jpg") {
        return new Response("not found\n", { status: 404 });
      }
      served++;
      return new Response(bytes, {
        headers: { "content-type": "image/jpeg", "cache-control": "no-store" },
      });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/snap.jpg`,
    get served() {
      return served;
    },
    async close() {
      await server.shutdown();
    },
  };
}

if (import.meta.main) {
  const args = [...Deno.args];
  const at = args.indexOf("--port");
  const port = at >= 0 ? Number(args.splice(at, 2)[1]) : 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error("fake_camera: --port must be an integer from 0 to 65535");
    Deno.exit(2);
  }
  const camera = await startFakeCamera(args[0] ?? SAMPLE_JPEG, port);
  console.log(camera.url);
}
