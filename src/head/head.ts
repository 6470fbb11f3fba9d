/**
 * A head: a small classifier on top of the base model that answers in your own classes. Two
 * kinds share one file format (`weights/HEAD_FORMAT.md`):
 * - `taught`: a softmax over feature blocks of the image (`features.ts`), made by `teach` from
 *   examples, tied to the exact weights it was taught on;
 * - `categories`: sums of the ImageNet probabilities under WordNet synsets, made with no
 *   examples (`Head.fromCategories`), for any model with the ImageNet top.
 *
 * A head file is untrusted input: it is read up to a size limit, every field is checked, every
 * array's length is checked against the declared dimensions before it is decoded, and its own
 * hash must match its contents.
 *
 * @module
 */
import { HeadError } from "./errors.ts";
import { contentHash } from "./codec.ts";
import { featureBlock } from "./features.ts";
import { type Blocks, type HeadJson, parseHeadJson } from "./format.ts";
import { readHeadSource } from "./source.ts";
import { categoriesJson } from "./categories.ts";
import type { ResizeMode, Zone } from "../image/preprocess.ts";

export type { HeadJson };

/** What a head needs to know of a model to check that it fits. */
export interface ModelIdentity {
  /** The weights' identity (`weightsId`), when loaded from a manifest. */
  weightsId: string | undefined;
  /** Length of the embedding. */
  featureSize: number;
  /** Whether the model has a top whose classes are ImageNet's 1000. */
  imagenetTop: boolean;
}

/**
 * A head: your classes on top of the base model. Get one from `teach`, {@linkcode Head.load}
 * or {@linkcode Head.fromCategories}; apply it with `model.withHead(head)` or
 * `loadMobileNet({ head })`.
 *
 * @example A head that answers in WordNet categories, taught nothing
 * ```ts
 * import { Head, loadMobileNet } from "../../mod.ts";
 *
 * const animals = await Head.fromCategories(["dog", "cat", "bird", "wheeled_vehicle"]);
 * const model = await loadMobileNet({ head: animals });
 * const bytes = await Deno.readFile("samples/african_elephant.jpg");
 * const [top] = (await model.classifyDetailed(bytes)).predictions;
 * console.log(top.label, top.probability);
 * await model.dispose();
 * ```
 */
export class Head {
  readonly #json: Readonly<HeadJson>;
  readonly #taught: Blocks | undefined;
  readonly #categories: readonly (readonly number[])[] | undefined;

  private constructor(json: HeadJson, taught?: Blocks) {
    this.#json = Object.freeze(json);
    this.#taught = taught;
    this.#categories = json.categories;
  }

  /** `"taught"` or `"categories"`. */
  get kind(): "taught" | "categories" {
    return this.#json.kind;
  }

  /** The classes, in index order. */
  get labels(): readonly string[] {
    return this.#json.labels;
  }

  /** Top probabilities under this are reported as `unknown`. */
  get threshold(): number {
    return this.#json.threshold;
  }

  /** The resize mode images are fitted with, or `undefined` for the model's. */
  get resize(): ResizeMode | undefined {
    return this.#json.preprocessing.resize ?? undefined;
  }

  /** The zone cut out of each frame before resizing, if any. */
  get zone(): Zone | undefined {
    return this.#json.preprocessing.zone ?? undefined;
  }

  /**
   * The base model it needs: for a taught head, `architecture`, `alpha`, `resolution`,
   * `featureSize` and `weightsSha256`; for a categories head, `{ labels: "imagenet" }`.
   */
  get base(): Readonly<HeadJson["model"]> {
    return this.#json.model;
  }

  /** How it was made: for a taught head, the `TeachReport`. */
  get report(): Readonly<Record<string, unknown>> {
    return this.#json.report;
  }

  /** The head's own hash (sha256 of its canonical contents): a short name for this head. */
  get sha256(): string {
    return this.#json.sha256;
  }

  /** Whether applying it needs the ImageNet probabilities (and so the model's top). */
  get usesProbabilities(): boolean {
    return !this.#taught || this.#taught.blocks.some((b) => b.name !== "embedding");
  }

  /**
   * Reads a head: a path, a `file:` or `http(s):` URL, or the parsed JSON object. The file is
   * read up to `maxBytes` and checked whole (format, dimensions, its own hash).
   *
   * @throws {HeadError} `NOT_FOUND`, `NETWORK`, `TOO_LARGE`, `BAD_HEAD`,
   * `UNSUPPORTED_VERSION` or `CORRUPT`.
   */
  static async load(
    source: string | URL | HeadJson,
    options: { maxBytes?: number } = {},
  ): Promise<Head> {
    const json = typeof source === "string" || source instanceof URL
      ? await readHeadSource(source, options.maxBytes)
      : source;
    return await Head.#fromJson(json);
  }

  static async #fromJson(value: unknown): Promise<Head> {
    const { json, blocks } = parseHeadJson(value);
    // the hash is over the file as it is, before any field was normalised
    if (await contentHash(value as Record<string, unknown>) !== json.sha256) {
      throw new HeadError(
        "CORRUPT",
        "the head's contents do not match its sha256: it was changed or damaged after it was written",
      );
    }
    return new Head(json, blocks);
  }

  /**
   * Seals a head made here (by `teach`): adds its hash, then reads it back through the same
   * checks as a file.
   */
  static async seal(body: Omit<HeadJson, "sha256">): Promise<Head> {
    const json = { ...body, sha256: "" } as HeadJson;
    json.sha256 = await contentHash(json as unknown as Record<string, unknown>);
    return await Head.#fromJson(structuredClone(json));
  }

  /**
   * A head made from WordNet, with no examples: each category sums the ImageNet probabilities
   * of the classes under its synset. A name is a noun in its most frequent sense (`dog`,
   * `wheeled_vehicle`, `cat`) or a WordNet id (`n02084071`). A class under two categories counts
   * for the more specific one ("dog" and "carnivore": dogs are "dog").
   *
   * `options.threshold` is the `unknown` threshold on the summed probability; by default 0.4,
   * which 95.7% of the 164 developer photos of the 9 ImageNet-9 groups pass.
   *
   * @throws {HeadError} `BAD_HEAD` for a name WordNet has no synset for above the ImageNet
   * classes, a repeated name, or a category left with no class of its own.
   */
  static async fromCategories(
    names: readonly string[],
    options: { threshold?: number } = {},
  ): Promise<Head> {
    return await Head.seal(categoriesJson(names, options.threshold ?? 0.4));
  }

  /**
   * Every head in a directory: each `NAME.json` file, by `NAME` (letters, digits, `.`, `_`, `-`),
   * in name order. Other files are ignored.
   *
   * @throws {HeadError} for a head file that cannot be loaded, naming it.
   */
  static async loadDirectory(dir: string | URL): Promise<Map<string, Head>> {
    const names: string[] = [];
    try {
      for await (const entry of Deno.readDir(dir)) {
        const match = /^([A-Za-z0-9._-]{1,64})\.json$/.exec(entry.name);
        if (entry.isFile && match) names.push(match[1]);
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      throw new HeadError("NOT_FOUND", `head directory ${String(dir)} does not exist`);
    }
    names.sort();
    const heads = new Map<string, Head>();
    for (const name of names) {
      const file = dir instanceof URL
        ? new URL(`${name}.json`, dir.href.endsWith("/") ? dir : `${dir.href}/`)
        : `${dir.replace(/\/$/, "")}/${name}.json`;
      try {
        heads.set(name, await Head.load(file));
      } catch (error) {
        if (!(error instanceof HeadError)) throw error;
        throw new HeadError(error.code, `${name}.json: ${error.message}`, { cause: error });
      }
    }
    return heads;
  }

  /** The head file's JSON object (what {@linkcode Head.save} writes). */
  toJSON(): HeadJson {
    return structuredClone(this.#json) as HeadJson;
  }

  /** Writes the head file to `path` (a new file replaces an older one only once complete). */
  async save(path: string | URL): Promise<void> {
    const target = path instanceof URL ? path.pathname : path;
    const partial = `${target}.partial`;
    await Deno.writeTextFile(partial, `${JSON.stringify(this.#json, null, 2)}\n`);
    await Deno.rename(partial, target);
  }

  /**
   * The head's class probabilities for one image, from the model's embedding and its 1000
   * ImageNet probabilities (ignored by a head that reads only the embedding).
   */
  apply(embedding: Float32Array, probabilities: Float32Array | undefined): Float64Array {
    if (this.#categories) {
      return Float64Array.from(this.#categories, (classes) => {
        let sum = 0;
        for (const j of classes) sum += probabilities![j];
        return sum;
      });
    }
    const { blocks, bias } = this.#taught!;
    const c = bias.length;
    const z = Float64Array.from(bias);
    for (const { name, weights } of blocks) {
      const x = featureBlock(name, embedding, probabilities ?? new Float32Array(0));
      for (let q = 0; q < c; q++) {
        let s = 0;
        for (let d = 0; d < x.length; d++) s += weights[q * x.length + d] * x[d];
        z[q] += s;
      }
    }
    let max = -Infinity;
    for (const v of z) max = Math.max(max, v);
    let sum = 0;
    for (let q = 0; q < c; q++) sum += z[q] = Math.exp(z[q] - max);
    for (let q = 0; q < c; q++) z[q] /= sum;
    return z;
  }
}

/**
 * Refuses a model the head does not fit: a taught head needs the very weights it was taught
 * on; a head reading the ImageNet probabilities needs the ImageNet top.
 *
 * @throws {HeadError} `MODEL_MISMATCH`, saying what the head needs.
 */
export function checkHeadModel(head: Head, model: ModelIdentity): void {
  const want = head.base;
  if (head.usesProbabilities && !model.imagenetTop) {
    throw new HeadError(
      "MODEL_MISMATCH",
      "this head reads the ImageNet probabilities: it needs a model with the ImageNet top",
    );
  }
  if (head.kind !== "taught") return;
  if (model.weightsId !== want.weightsSha256 || model.featureSize !== want.featureSize) {
    throw new HeadError(
      "MODEL_MISMATCH",
      `this head was taught on MobileNet v1 ${want.alpha}/${want.resolution} (weights ${
        want.weightsSha256?.slice(0, 12)
      }); this model's weights are ${
        model.weightsId?.slice(0, 12) ?? "not from a manifest"
      }: teach the head again on this model`,
    );
  }
}
