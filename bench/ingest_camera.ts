/**
 * A fake MJPEG camera in its own process for the ingest soak and fps benches: ESP32-CAM style
 * (`Content-Length`, `X-Timestamp`), frames pushed on a timer whatever the reader does (so a
 * reader that falls behind builds a backlog, which the soak's lag would show). Frame `i` is the
 * given JPEG with a comment segment of `i % 50000` bytes, so the receiver can tell which frame
 * (and so when it was captured: `t0 + i / fps`) it got.
 *
 * `deno run -A bench/ingest_camera.ts <jpeg> <fps> [port]` prints `<port> <t0>` and serves
 * `/stream` (MJPEG) and `/snapshot.jpg` (the current frame).
 *
 * @module
 */

const [file, fpsText, portText] = Deno.args;
const jpeg = await Deno.readFile(file);
const fps = Number(fpsText ?? 10);
const t0 = Date.now();

/** Frame `i`: the JPEG with an `i`-byte comment segment (none for 0). */
export function frameBytes(base: Uint8Array, i: number): Uint8Array {
  const n = i % 50000;
  if (n === 0) return base;
  const out = new Uint8Array(base.length + n + 4);
  out.set(base.subarray(0, 2));
  out.set([0xff, 0xfe, (n + 2) >> 8, (n + 2) & 0xff], 2);
  out.fill(0x41, 6, 6 + n);
  out.set(base.subarray(2), 6 + n);
  return out;
}

const enc = new TextEncoder();
const BOUNDARY = "123456789000000000000987654321";

function part(i: number): Uint8Array {
  const body = frameBytes(jpeg, i);
  const head = enc.encode(
    `\r\n--${BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${body.length}\r\n` +
      `X-Timestamp: ${(t0 + (i * 1000) / fps) / 1000}\r\n\r\n`,
  );
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

const current = () => Math.floor(((Date.now() - t0) * fps) / 1000);

function stream(): Response {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      let i = current();
      const tick = () => {
        try {
          controller.enqueue(part(i++));
        } catch {
          return;
        }
        timer = setTimeout(tick, Math.max(0, t0 + (i * 1000) / fps - Date.now()));
      };
      tick();
    },
    cancel() {
      clearTimeout(timer);
    },
  });
  return new Response(body, {
    headers: { "content-type": `multipart/x-mixed-replace;boundary=${BOUNDARY}` },
  });
}

const server = Deno.serve(
  { hostname: "127.0.0.1", port: Number(portText ?? 0), onListen: () => {} },
  (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/stream") return stream();
    return new Response(frameBytes(jpeg, current()).slice(), {
      headers: { "content-type": "image/jpeg" },
    });
  },
);
console.log(`${server.addr.port} ${t0}`);
