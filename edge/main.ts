/**
 * The entry of the edge endpoint for `deno serve` (`deno task serve`): starts it once (see
 * `start.ts`: settings and heads checked, the model loading, one per isolate, shared by every
 * request; the first request waits for it) and exports the handler. A configuration error stops
 * the start with one line and exit code 1.
 *
 * ```sh
 * deno task serve                     # PORT=8000 by default
 * curl -H 'content-type: image/jpeg' --data-binary @samples/african_elephant.jpg \
 *   'http://localhost:8000/v1/classify?top=3'
 * ```
 *
 * @module
 */
import { type Edge, startEdge, stopStart } from "./start.ts";

let edge: Edge;
try {
  edge = await startEdge({ onFatal: stopStart });
} catch (error) {
  stopStart(error);
}

// `deno serve` stops serving on SIGTERM and SIGINT, then exits once nothing is left running: the
// decode worker would be (and a decode that hangs must not keep the process up), so end it then.
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  try {
    Deno.addSignalListener(signal, () => edge.decoder.close());
  } catch { /* no such signal here (Windows), or no signals at all (edge runtimes) */ }
}

/** The `deno serve` export. */
export default {
  fetch: edge.fetch,
} satisfies Deno.ServeDefaultExport;
