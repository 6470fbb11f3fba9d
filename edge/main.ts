/**
 * The entry of the edge endpoint for `deno serve` (`deno task serve`): reads the settings once,
 * starts loading the model at once (one per isolate, shared by every request; the first request
 * waits for it), and exports the handler.
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
import { createHandler } from "./handler.ts";
import { ModelHolder, warmUp } from "./model.ts";

const config = readConfig();
const source = config.weightsUrl ?? config.model;
const models = new ModelHolder(
  source,
  async () => warmUp(await loadMobileNet({ model: source, maxPixels: config.maxPixels })),
);

/** The `deno serve` export. */
export default {
  fetch: createHandler({ config, models }),
} satisfies Deno.ServeDefaultExport;
