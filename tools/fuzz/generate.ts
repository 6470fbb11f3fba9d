/**
 * Makes the fuzzer's inputs: input `iteration` of `format` is a pure function of the seed
 * string, the format, the iteration and the corpus, so a run is reproduced byte for byte by the
 * same options (and any one input by its iteration number). The first iterations are the seeds
 * themselves; after them each input is a seed (small ones favoured) with one to four stacked mutations, each picked
 * from the format's structure-aware mutators or the generic ones.
 *
 * @module
 */
import type { Corpus } from "./corpus.ts";
import { genericMutators } from "./generic.ts";
import type { Format, FormatMutators, MutationContext, Mutator } from "./mutator.ts";
import { Rng } from "./rng.ts";
import { tiff } from "./formats/tiff.ts";
import { png } from "./formats/png.ts";
import { jpeg } from "./formats/jpeg.ts";
import { gif } from "./formats/gif.ts";
import { jpegStream, mjpeg } from "./formats/stream.ts";

/** No input is larger than this: 8 MiB, about the edge endpoint's body limit. */
export const MAX_INPUT_BYTES = 8 * 1024 * 1024;

/** No more mutations are stacked on an input once it is over this size. */
const STACK_LIMIT = 1 << 20;

/** Seeds over this size (the bombs among them) are picked less often. */
const LARGE_SEED = 128 * 1024;

/** Each format's structure-aware mutators. */
export const FORMAT_MUTATORS: Record<Format, FormatMutators> = {
  jpeg,
  png,
  gif,
  tiff,
  mjpeg,
  "jpeg-stream": jpegStream,
};

const generic = new Map<Format, Mutator[]>();

function genericFor(format: Format): Mutator[] {
  let mutators = generic.get(format);
  if (!mutators) {
    mutators = genericMutators(FORMAT_MUTATORS[format].hotOffsets ?? (() => []));
    generic.set(format, mutators);
  }
  return mutators;
}

/** One generated input and how it was made. */
export interface FuzzInput {
  format: Format;
  iteration: number;
  /** Which seed of the format's corpus it starts from. */
  seedIndex: number;
  bytes: Uint8Array;
  /** The mutations applied, in order ("mutator: what it did"). */
  notes: string[];
}

/**
 * Makes input `iteration` of `format`.
 *
 * @example
 * ```ts
 * import { buildCorpus } from "./corpus.ts";
 * import { makeInput } from "./generate.ts";
 * const corpus = await buildCorpus(["png"]);
 * const a = makeInput("png", "1", 500, corpus);
 * const b = makeInput("png", "1", 500, corpus); // the same bytes
 * ```
 */
export function makeInput(
  format: Format,
  seed: string,
  iteration: number,
  corpus: Corpus,
  maxBytes = MAX_INPUT_BYTES,
): FuzzInput {
  const seeds = corpus[format];
  if (!seeds || seeds.length === 0) throw new RangeError(`no seeds for ${format}`);
  if (iteration < seeds.length) {
    return { format, iteration, seedIndex: iteration, bytes: seeds[iteration], notes: ["seed"] };
  }
  const rng = new Rng(`${seed}/${format}/${iteration}`);
  let seedIndex = rng.int(seeds.length);
  // Favour small seeds (as AFL favours small, fast ones): big ones are picked a fifth as often.
  if (seeds[seedIndex].length > LARGE_SEED && rng.chance(0.8)) seedIndex = rng.int(seeds.length);
  const ctx: MutationContext = { rng, seeds, maxBytes };
  const aware = FORMAT_MUTATORS[format];
  let bytes = seeds[seedIndex];
  const notes: string[] = [];
  const stack = rng.chance(0.5) ? 1 : rng.range(2, 4);
  for (let k = 0; k < stack; k++) {
    for (let attempt = 0; attempt < 4; attempt++) {
      const structured = rng.chance(0.55);
      const list = structured ? aware.mutators : genericFor(format);
      const mutator = rng.weighted(list.map((m) => [m.weight, m] as const));
      const result = mutator.apply(bytes, ctx);
      if (!result || result.bytes.length > maxBytes) continue;
      const repair = !structured && aware.fixup && rng.chance(0.8);
      bytes = repair ? aware.fixup!(result.bytes) : result.bytes;
      notes.push(`${mutator.name}: ${result.note}`);
      break;
    }
    if (bytes.length > STACK_LIMIT) break; // an amplified input is left as it is: cheap to make
  }
  return { format, iteration, seedIndex, bytes, notes };
}
