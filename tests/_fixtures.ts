/**
 * Paths and readers for the test fixtures copied from the shared reference set: the labelled
 * photos, the reference outputs and the five preprocessed input tensors.
 *
 * @module
 */

/** The fixtures folder. */
export const FIXTURES = new URL("./fixtures/", import.meta.url);

/** One image's reference entry. */
export interface ReferenceImage {
  file: string;
  class_index: number;
  top5_indices: number[];
  top5_probs: number[];
  logits?: number[];
  probs?: number[];
}

/** Reads `reference_<model>.json`. */
export async function readReference(model: "0.75_224" | "0.25_224"): Promise<ReferenceImage[]> {
  const text = await Deno.readTextFile(new URL(`reference_${model}.json`, FIXTURES));
  return (JSON.parse(text) as { images: ReferenceImage[] }).images;
}

/** Reads a photo's bytes. */
export function readImage(file: string): Promise<Uint8Array> {
  return Deno.readFile(new URL(`images/${file}`, FIXTURES));
}

/** Reads a stored preprocessed input (NHWC 1x224x224x3 float32) by its image file name. */
export async function readInput(file: string): Promise<Float32Array> {
  const name = file.replace(/\.(jpg|JPEG)$/, "");
  const bytes = await Deno.readFile(new URL(`inputs_224/${name}.f32`, FIXTURES));
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

/** The labelled photos: file and ground-truth class index. */
export async function readLabels(): Promise<{ file: string; index: number }[]> {
  const text = await Deno.readTextFile(new URL("labels.csv", FIXTURES));
  return text.trim().split("\n").slice(1).map((line) => {
    const [file, index] = line.split(",");
    return { file, index: Number(index) };
  });
}
