/**
 * Starting the edge endpoint (`main.ts` runs {@linkcode startEdge} once): the settings read and
 * checked, the heads read and checked, the model's load started (and each head checked against
 * it once it is in), the decode worker started after it, the handler made.
 *
 * A configuration error stops the start with one line and exit code 1 (`edge: cannot start:
 * ...`), never a stack trace nor a server that answers 503 for ever: a malformed variable, an
 * unknown model name, a weights path that does not load, a bad library setting
 * (`MOBILENET_EDGE_THREADS=abc`), a head directory that is missing, empty or holds a head file
 * that is corrupt or taught on other weights. Only a weights URL that does not answer (a network
 * failure or timeout, which a later start may not meet) leaves the server up, answering 503
 * `MODEL_UNAVAILABLE` with the reason, as `/healthz` does.
 *
 * @module
 */
import { loadMobileNet, WeightsError } from "../mod.ts";
import { type EnvReader, errorMessage, readEnv } from "../src/_util.ts";
import { type EdgeConfig, readConfig } from "./config.ts";
import { createDecoder, type ImageDecoder } from "./decoder.ts";
import { createHandler, type Handler } from "./handler.ts";
import { type HeadSet, loadHeads } from "./heads.ts";
import { ModelHolder, warmUp } from "./model.ts";

/**
 * Milliseconds between the end of the model's load and the decode worker's start: creating it
 * blocks the event loop for tens of milliseconds, which the requests that waited for the load
 * should not wait for too (they decode inline until the worker is ready).
 */
export const DECODER_DELAY_MS = 250;

/** A started endpoint. */
export interface Edge {
  /** The settings. */
  config: EdgeConfig;
  /** The served heads. */
  heads: HeadSet;
  /** The model, loading or loaded. */
  models: ModelHolder;
  /** Where images are decoded. */
  decoder: ImageDecoder;
  /** The request handler. */
  fetch: Handler;
}

/** What {@linkcode startEdge} takes. */
export interface StartOptions {
  /** Where the settings come from. @default {readEnv} */
  env?: EnvReader;
  /**
   * Called, once, with a configuration error found after `startEdge` returned (the model or a
   * head failing to load); `main.ts` passes {@linkcode stopStart}.
   */
  onFatal?: (error: unknown) => void;
  /** Backend threads (tests); the library's default (`MOBILENET_EDGE_THREADS`) when absent. */
  threads?: number;
}

/**
 * Whether a failure to load the model is the configuration's fault (stop the start) rather than
 * the network's: everything but a weights URL that did not answer.
 */
export function isConfigError(error: unknown): boolean {
  return !(error instanceof WeightsError && (error.code === "NETWORK" || error.code === "TIMEOUT"));
}

/** The one line {@linkcode stopStart} prints. */
export function startErrorLine(error: unknown): string {
  return `edge: cannot start: ${errorMessage(error).replace(/\s*\n\s*/g, " ")}`;
}

/**
 * Prints why the endpoint cannot start, in one line, and exits with code 1. Where the runtime
 * does not let a module exit (some edge platforms), it throws `error` on: the platform reports a
 * failed boot, or the model's load fails with it (503 with the reason).
 */
export function stopStart(error: unknown): never {
  console.error(startErrorLine(error));
  try {
    Deno.exit(1);
  } catch { /* no exit here */ }
  throw error;
}

/**
 * Starts the endpoint: the settings and the heads are checked before this resolves; the model
 * loads on.
 *
 * @throws {RangeError} naming the variable, for a malformed setting.
 * @throws {HeadError} for a head directory that is missing or empty, or a head file that cannot
 * be loaded (naming it).
 * @example
 * ```ts
 * import { startEdge } from "./start.ts";
 * const edge = await startEdge({ env: () => undefined, threads: 1 });
 * const response = await edge.fetch(new Request("http://localhost/healthz"));
 * await response.body?.cancel();
 * edge.decoder.close();
 * await edge.models.dispose();
 * ```
 */
export async function startEdge(options: StartOptions = {}): Promise<Edge> {
  const config = readConfig(options.env ?? readEnv);
  const heads = await loadHeads(config.heads);
  const source = config.weightsUrl ?? config.model;
  const models = new ModelHolder(source, async () => {
    try {
      const model = await loadMobileNet({
        model: source,
        maxPixels: config.maxPixels,
        resize: config.resize,
        precision: config.precision,
        threads: options.threads,
      });
      // A request already waiting runs the first inference itself: a warm-up first would only
      // make it wait for one more inference.
      if (models.workWaiting === 0) warmUp(model);
      try {
        heads.attach(model);
      } catch (error) {
        await model.dispose();
        throw error;
      }
      return model;
    } catch (error) {
      if (isConfigError(error)) options.onFatal?.(error);
      throw error;
    }
  });
  // The worker starts DECODER_DELAY_MS after the load has settled, either way (a failed load is
  // not unhandled).
  const settled = models.get().then(() => {}, () => {});
  const decoder = createDecoder(config.decode, config.decodeTimeoutMs, settled, DECODER_DELAY_MS);
  return {
    config,
    heads,
    models,
    decoder,
    fetch: createHandler({ config, models, decoder, heads }),
  };
}
