/**
 * The one model of an isolate: loading starts once, at start-up; every request shares it; a
 * request that comes before the weights are in waits for them; a load that failed is reported
 * (503 with the reason) to every request and to `/healthz`.
 *
 * @module
 */
import type { MobileNet } from "../mod.ts";
import { errorMessage } from "../src/_util.ts";
import { HttpError } from "./errors.ts";

/** Where the model is. */
export type ModelStatus = "loading" | "ready" | "failed";

/**
 * Holds the shared model.
 *
 * @example
 * ```ts
 * import { loadMobileNet } from "../mod.ts";
 * import { ModelHolder } from "./model.ts";
 * const holder = new ModelHolder("0.25_224", () => loadMobileNet({ model: "0.25_224" }));
 * const model = await holder.get();
 * await holder.dispose();
 * ```
 */
export class ModelHolder {
  /** The id responses carry (`"0.75_224"`, or the weights URL). */
  readonly id: string;
  readonly #promise: Promise<MobileNet>;
  #status: ModelStatus = "loading";
  #reason = "";
  readonly #startedAt = performance.now();
  #loadMs?: number;
  #workWaiting = 0;

  /** Starts `load` at once. */
  constructor(id: string, load: () => Promise<MobileNet>) {
    this.id = id;
    this.#promise = (async () => await load())();
    this.#promise.then(
      () => {
        this.#status = "ready";
        this.#loadMs = performance.now() - this.#startedAt;
      },
      (error) => {
        this.#status = "failed";
        this.#reason = errorMessage(error);
        console.error(`edge: model ${id} failed to load: ${this.#reason}`);
      },
    );
  }

  /** Loading, ready or failed. */
  get status(): ModelStatus {
    return this.#status;
  }

  /** Why the load failed ("" unless failed). */
  get reason(): string {
    return this.#reason;
  }

  /** Milliseconds from start to ready. */
  get loadMs(): number | undefined {
    return this.#loadMs;
  }

  /** Requests waiting for the load to run an image on the model (see {@linkcode forWork}). */
  get workWaiting(): number {
    return this.#workWaiting;
  }

  /**
   * The model for a request that runs an image on it: as {@linkcode get}, counted in
   * {@linkcode workWaiting} while it waits for the load.
   *
   * @throws {HttpError} 503 `MODEL_UNAVAILABLE` with the reason when the load failed.
   */
  async forWork(): Promise<MobileNet> {
    this.#workWaiting++;
    try {
      return await this.get();
    } finally {
      this.#workWaiting--;
    }
  }

  /**
   * The model, waiting for the load if needed.
   *
   * @throws {HttpError} 503 `MODEL_UNAVAILABLE` with the reason when the load failed.
   */
  async get(): Promise<MobileNet> {
    try {
      return await this.#promise;
    } catch (error) {
      throw new HttpError(
        503,
        "MODEL_UNAVAILABLE",
        `model ${this.id} failed to load: ${errorMessage(error)}`,
      );
    }
  }

  /** Disposes the model once loaded (tests and graceful shutdown). */
  async dispose(): Promise<void> {
    const model = await this.#promise.catch(() => undefined);
    await model?.dispose();
  }
}

/**
 * Runs one inference on a blank input so that the first request does not pay for the kernels'
 * first-run set-up; resolves to the model, for chaining after the load.
 */
export function warmUp(model: MobileNet): MobileNet {
  const r = model.resolution;
  if (model.architecture.config.includeTop) {
    model.predict({ data: new Float32Array(r * r * 3), shape: [1, r, r, 3] });
  }
  return model;
}
