/**
 * What a taught head sees of an image: blocks of features computed from one network run (the
 * pooled embedding and the 1000 ImageNet probabilities), each L2-normalised so that blocks
 * weigh alike until the training weighs them:
 * - `embedding`: the embedding itself;
 * - `logprob`: the ImageNet log-probabilities (floored at 1e-6), centred;
 * - `hierarchy`: the summed probability of each group of ImageNet classes a WordNet synset
 *   covers (`hierarchyGroups()`): "some dog" is high for a dog breed the examples never showed.
 *
 * All in float64, in a fixed order: the same run gives the same features, bit for bit.
 *
 * @module
 */
import { hierarchyGroups } from "./hierarchy.ts";

/** The feature blocks a head can use. */
export type FeatureName = "embedding" | "logprob" | "hierarchy";

/** All blocks, in the order a head stores them. */
export const FEATURE_NAMES: readonly FeatureName[] = ["embedding", "logprob", "hierarchy"];

/** Probabilities under this count as this in `logprob`. */
const FLOOR = 1e-6;

/** The number of ImageNet classes the probability blocks read. */
export const IMAGENET_CLASS_COUNT = 1000;

/** The length of block `name` for a model whose embedding has `embeddingSize` values. */
export function blockSize(name: FeatureName, embeddingSize: number): number {
  if (name === "embedding") return embeddingSize;
  return name === "logprob" ? IMAGENET_CLASS_COUNT : hierarchyGroups().length;
}

function normalise(x: Float64Array): Float64Array {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i] * x[i];
  const norm = Math.sqrt(sum);
  if (norm > 0) { for (let i = 0; i < x.length; i++) x[i] /= norm; }
  return x;
}

/** Block `name` of one image, from its embedding and its ImageNet probabilities. */
export function featureBlock(
  name: FeatureName,
  embedding: Float32Array,
  probabilities: Float32Array,
): Float64Array {
  if (name === "embedding") return normalise(Float64Array.from(embedding));
  if (name === "logprob") {
    const x = Float64Array.from(probabilities, (p) => Math.log(Math.max(p, FLOOR)));
    let mean = 0;
    for (let i = 0; i < x.length; i++) mean += x[i];
    mean /= x.length;
    for (let i = 0; i < x.length; i++) x[i] -= mean;
    return normalise(x);
  }
  return normalise(Float64Array.from(hierarchyGroups(), (group) => {
    let sum = 0;
    for (const j of group) sum += probabilities[j];
    return sum;
  }));
}
