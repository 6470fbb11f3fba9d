/**
 * A stand-in decode worker for the timeout test: the real one (`edge/decode_worker.ts`), except
 * that a 1-byte image makes it loop for ever, as a decoder bug would.
 *
 * @module
 */
import "../../edge/decode_worker.ts";

const scope = globalThis as unknown as { onmessage: ((event: MessageEvent) => void) | null };
const real = scope.onmessage!;
scope.onmessage = (event) => {
  if (event.data.bytes.byteLength === 1) { for (;;) { /* hang */ } }
  real(event);
};
