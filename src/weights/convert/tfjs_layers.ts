/**
 * Reads a Keras MobileNet v1 saved as a TF.js "layers" model (`model.json` and its weight
 * files, e.g. the hosted `mobilenet_v1_0.75_224`) into named float32 tensors and infers the
 * model configuration from it.
 *
 * @module
 */
import { WeightsError } from "../../errors.ts";
import type { ModelConfig } from "../manifest.ts";
import { checkShapes, inferModelConfig } from "../fit.ts";
import type { NamedTensor } from "../writer.ts";
import { concatBytes, sizeOf } from "../../_util.ts";

interface LayersWeightGroup {
  paths: string[];
  weights: { name: string; shape: number[]; dtype: string; quantization?: unknown }[];
}

/** A model read from TF.js layers files: its inferred configuration and tensors in network order. */
export interface ReadModel {
  /** Configuration inferred from the topology and the weight shapes. */
  config: ModelConfig;
  /** Tensors in the architecture's network order. */
  tensors: NamedTensor[];
}

function inputResolution(topology: unknown): number {
  // deno-lint-ignore no-explicit-any
  const layers = (topology as any)?.model_config?.config?.layers ?? (topology as any)?.config
    ?.layers;
  // deno-lint-ignore no-explicit-any
  const input = Array.isArray(layers) ? layers.find((l: any) => l.class_name === "InputLayer") : 0;
  const shape = input?.config?.batch_input_shape;
  if (!Array.isArray(shape) || shape[1] !== shape[2] || typeof shape[1] !== "number") {
    throw new WeightsError(
      "BAD_SOURCE",
      "model.json has no square InputLayer batch_input_shape [null, size, size, 3]",
    );
  }
  return shape[1];
}

/**
 * Reads `model.json` and its weight files from a directory (or any base URL that `fetch` can
 * read) and returns the configuration and tensors.
 *
 * @throws {WeightsError} when a file is missing, a group's bytes do not match its specs, a dtype
 * is not float32, or the tensors do not form a MobileNet v1.
 */
export async function readTfjsLayers(modelJsonUrl: URL): Promise<ReadModel> {
  const json = await fetchBytes(modelJsonUrl);
  let model: { modelTopology?: unknown; weightsManifest?: LayersWeightGroup[] };
  try {
    model = JSON.parse(new TextDecoder().decode(json));
  } catch (error) {
    throw new WeightsError("BAD_SOURCE", `${modelJsonUrl.href} is not JSON`, { cause: error });
  }
  if (!Array.isArray(model.weightsManifest)) {
    throw new WeightsError("BAD_SOURCE", `${modelJsonUrl.href} has no weightsManifest`);
  }
  const values = new Map<string, NamedTensor>();
  for (const group of model.weightsManifest) {
    const parts = await Promise.all(group.paths.map((p) => fetchBytes(new URL(p, modelJsonUrl))));
    const bytes = concatBytes(parts);
    let offset = 0;
    for (const w of group.weights) {
      if (w.dtype !== "float32" || w.quantization) {
        throw new WeightsError("BAD_SOURCE", `${w.name}: only unquantized float32 is supported`);
      }
      const size = sizeOf(w.shape);
      const end = offset + size * 4;
      if (end > bytes.byteLength) {
        throw new WeightsError(
          "TRUNCATED",
          `weight group ${group.paths.join(",")} ends before ${w.name} (${bytes.byteLength} bytes)`,
        );
      }
      const data = new Float32Array(bytes.buffer.slice(offset, end));
      values.set(w.name, { name: w.name, shape: w.shape, data });
      offset = end;
    }
    if (offset !== bytes.byteLength) {
      throw new WeightsError(
        "BAD_SOURCE",
        `weight group ${group.paths.join(",")} has ${bytes.byteLength} bytes, specs need ${offset}`,
      );
    }
  }
  const shapes = new Map([...values].map(([name, t]) => [name, t.shape]));
  const config = inferModelConfig(shapes, inputResolution(model.modelTopology));
  const order = checkShapes(config, shapes);
  return { config, tensors: order.map((spec) => values.get(spec.name)!) };
}

async function fetchBytes(url: URL): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new WeightsError("NOT_FOUND", `cannot read ${url.href}: ${error}`, { cause: error });
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new WeightsError("NOT_FOUND", `cannot read ${url.href}: HTTP ${response.status}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}
