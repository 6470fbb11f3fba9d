/**
 * What the ONNX Runtime comparison measures, shared by both runners so they load the same
 * weights and feed the same input: MobileNet v1 1.0/224 with seeded random weights (no weights
 * are bundled for it) and 0.75/224 with the bundled ImageNet weights, batch 1, on one stored
 * preprocessed photo.
 *
 * @module
 */
import { randomWeights } from "../../src/model/random_weights.ts";
import { loadWeights } from "../../src/weights/loader.ts";

/** One model configuration of the comparison. */
export interface BenchCase {
  /** Short name used in the table and the JSON, e.g. `1.0/224`. */
  id: string;
  /** Width multiplier. */
  alpha: number;
  /** Where the weights come from. */
  weights: "random" | "bundled";
}

/** The configurations compared, in table order. */
export const CASES: readonly BenchCase[] = [
  { id: "1.0/224", alpha: 1, weights: "random" },
  { id: "0.75/224", alpha: 0.75, weights: "bundled" },
];

/** Seed of the random 1.0/224 weights (both runners use it, so both run identical weights). */
export const RANDOM_SEED = 1;

/** Batch shape of every measured call: one 224x224 RGB image, NHWC. */
export const INPUT_SHAPE: [number, number, number, number] = [1, 224, 224, 3];

/** The stored preprocessed photo both runtimes are fed (float32 NHWC in [-1, 1]). */
export const INPUT_URL = new URL(
  "../../tests/fixtures/inputs_224/n02504013_Indian_elephant.f32",
  import.meta.url,
);

/** Keras-named weights of `c`: seeded random ones, or the bundled files. */
export async function caseWeights(c: BenchCase): Promise<Map<string, Float32Array>> {
  if (c.weights === "random") return randomWeights({ alpha: c.alpha }, RANDOM_SEED);
  return (await loadWeights(bundledDir(c))).tensors;
}

/**
 * The int8 calibration of `c`: the bundled manifest's, or none for random weights (the int8
 * model then uses ReLU6's whole range: the same work, so the same speed).
 */
export async function caseInt8(
  c: BenchCase,
): Promise<{ scales: Record<string, number>; means?: Record<string, number[]> } | undefined> {
  if (c.weights === "random") return undefined;
  return (await loadWeights(bundledDir(c))).manifest.int8;
}

function bundledDir(c: BenchCase): URL {
  return new URL(`../../weights/mobilenet_v1_${c.alpha}_224/`, import.meta.url);
}

/** Reads the input photo tensor. */
export async function benchInput(): Promise<Float32Array> {
  const bytes = await Deno.readFile(INPUT_URL);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}
