/**
 * The heads the endpoint serves (`POST /v1/classify?head=NAME`): every `NAME.json` of the
 * directory `MOBILENET_EDGE_HEADS` names, read and checked whole at start (`Head.loadDirectory`),
 * then checked against the served model once it is in (`model.withHead`). Either check failing
 * stops the start (see `main.ts`): a head that cannot serve is a configuration error, found at
 * deploy time rather than as 404s later.
 *
 * @module
 */
import { Head, HeadError, type MobileNet, type ResizeMode, type Zone } from "../mod.ts";
import { HttpError } from "./errors.ts";

/** What `GET /v1/models` says of a head. */
export interface HeadSummary {
  /** The file's name without `.json`: the `?head=` value. */
  name: string;
  /** `"taught"` (from examples) or `"categories"` (WordNet sums). */
  kind: "taught" | "categories";
  /** The head's classes (a taught head's class folder names), in index order. */
  labels: readonly string[];
  /** A top probability under it is answered `"unknown": true`. */
  threshold: number;
  /** The part of the frame cut out before the resize, or `null`. */
  zone: Zone | null;
  /** The head's resize mode, or `null` for the server's. */
  resize: ResizeMode | null;
  /** A taught head's cross-validated accuracy (0..1) from its report; else `null`. */
  accuracy: number | null;
}

/**
 * The served heads by name, and the model's views answering in each.
 *
 * @example
 * ```ts
 * import { Head, loadMobileNet } from "../mod.ts";
 * import { HeadSet } from "./heads.ts";
 * const heads = new HeadSet(new Map([["animals", await Head.fromCategories(["dog", "cat"])]]));
 * const model = await loadMobileNet();
 * heads.attach(model); // throws HeadError MODEL_MISMATCH for a head taught on other weights
 * const bytes = await Deno.readFile("samples/african_elephant.jpg");
 * const result = await heads.view(heads.check("animals")!, model).classifyDetailed(bytes);
 * console.log(result.unknown, result.imagenet?.[0].label); // true "African elephant"
 * await model.dispose();
 * ```
 */
export class HeadSet {
  readonly #heads: ReadonlyMap<string, Head>;
  #model?: MobileNet;
  #views = new Map<string, MobileNet>();

  /** The heads by name (see {@linkcode loadHeads}). */
  constructor(heads: ReadonlyMap<string, Head> = new Map()) {
    this.#heads = heads;
  }

  /** How many heads. */
  get size(): number {
    return this.#heads.size;
  }

  /**
   * Makes `model`'s view for every head.
   *
   * @throws {HeadError} `MODEL_MISMATCH` for the first head that does not fit `model`, its
   * message starting with the head's file name.
   */
  attach(model: MobileNet): void {
    const views = new Map<string, MobileNet>();
    for (const [name, head] of this.#heads) {
      try {
        views.set(name, model.withHead(head));
      } catch (error) {
        if (!(error instanceof HeadError)) throw error;
        throw new HeadError(error.code, `head ${name}.json: ${error.message}`, { cause: error });
      }
    }
    this.#model = model;
    this.#views = views;
  }

  /**
   * The `?head=` value checked: `undefined` for none (absent or empty), else a served head's
   * name.
   *
   * @throws {HttpError} 404 `UNKNOWN_HEAD` naming the heads there are.
   */
  check(name: string | null): string | undefined {
    if (name === null || name === "") return undefined;
    if (this.#heads.has(name)) return name;
    const known = [...this.#heads.keys()];
    throw new HttpError(
      404,
      "UNKNOWN_HEAD",
      `no head ${JSON.stringify(name.slice(0, 64))}; ` +
        (known.length
          ? `the heads are ${known.join(", ")} (GET /v1/models)`
          : "this server has none (set MOBILENET_EDGE_HEADS to a directory of head files)"),
    );
  }

  /** `model` answering in the head `name` (a name {@linkcode HeadSet.check} passed). */
  view(name: string, model: MobileNet): MobileNet {
    if (this.#model !== model) this.attach(model);
    return this.#views.get(name)!;
  }

  /** What `GET /v1/models` lists, by name. */
  describe(): HeadSummary[] {
    return [...this.#heads].map(([name, head]) => {
      const accuracy = head.report.accuracy;
      return {
        name,
        kind: head.kind,
        labels: head.labels,
        threshold: head.threshold,
        zone: head.zone ?? null,
        resize: head.resize ?? null,
        accuracy: typeof accuracy === "number" ? accuracy : null,
      };
    });
  }
}

/**
 * The heads of `dir` (none when `dir` is undefined).
 *
 * @throws {HeadError} for a missing directory or a head file that cannot be loaded (naming it);
 * `BAD_HEAD` for a directory holding no head file.
 */
export async function loadHeads(dir: string | undefined): Promise<HeadSet> {
  if (dir === undefined) return new HeadSet();
  const heads = await Head.loadDirectory(dir);
  if (heads.size === 0) {
    throw new HeadError("BAD_HEAD", `head directory ${dir} holds no head file (NAME.json)`);
  }
  return new HeadSet(heads);
}
