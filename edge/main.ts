/**
 * The entry of the edge endpoint for `deno serve` (`deno task serve`): reads the settings once,
 * starts loading the model at once (one per isolate, shared by every request; the first request
 * waits for it) and the decode worker (see `decoder.ts`), and exports the handler.
 *
 * ```sh
 * deno task serve                     # PORT=8000 by default
 * curl -H 'content-type: image/jpeg' --data-binary @samples/african_elephant.jpg \
 *   'http://localhost:8000/v1/classify?top=3'
 * ```
 *
 * @module
 */
import { loadMobileNet } from "../mod.ts";
import { readConfig } from "./config.ts";
import { createDecoder } from "./decoder.ts";
import { createHandler } from "./handler.ts";
import { ModelHolder, warmUp } from "./model.ts";

const config = readConfig();
const source = config.weightsUrl ?? config.model;
const models = new ModelHolder(
  source,
  async () => warmUp(await loadMobileNet({ model: source, maxPixels: config.maxPixels })),
);

const decoder = createDecoder(config.decode, config.decodeTimeoutMs, models.get());
// `deno serve` stops serving on SIGTERM and SIGINT, then exits once nothing is left running: the
// decode worker would be (and a decode that hangs must not keep the process up), so end it then.
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  try {
    Deno.addSignalListener(signal, () => decoder.close());
  } catch { /* no such signal here (Windows), or no signals at all (edge runtimes) */ }
}

/** The `deno serve` export. */
export default {
  fetch: createHandler({ config, models, decoder }),
} satisfies Deno.ServeDefaultExport;
