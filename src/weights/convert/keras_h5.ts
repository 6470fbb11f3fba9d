/**
 * Reads a Keras 2 MobileNet v1 saved as HDF5 (`mobilenet_1_0_224_tf.h5`,
 * `mobilenet_2_5_224_tf_no_top.h5`, ... as `keras.applications` publishes them, or any
 * `model.save_weights`/`model.save` file of the same network) into named float32 tensors, with
 * h5wasm (the HDF5 C library compiled to WebAssembly, in memory: no native code, no files).
 *
 * Layout read: the root (or `/model_weights` for a whole-model save) has a `layer_names`
 * attribute; each layer's group `/<layer>` has a `weight_names` attribute, e.g.
 * `conv1_bn/gamma:0`, naming the dataset `/<layer>/<weight name>`. The tensor's Keras name is
 * `<layer>/<short name>` without the `:0`. HDF5 has no input size: the resolution comes from the
 * caller, else from a Keras file name (`mobilenet_<alpha>_<size>_tf[_no_top].h5`), else 224.
 *
 * @module
 */
import * as h5wasm from "npm:h5wasm@0.10.3";
import { WeightsError } from "../../errors.ts";
import { buildArchitecture } from "../../model/architecture.ts";
import { architectureOptions, inferModelConfig } from "../fit.ts";
import type { ReadModel } from "./tfjs_layers.ts";
import type { NamedTensor } from "../writer.ts";

/** Options of {@linkcode readKerasH5}. */
export interface KerasH5Options {
  /**
   * Input side the weights are for. HDF5 weights do not record it.
   * @default {the size in a Keras file name, else 224}
   */
  resolution?: number;
  /**
   * The file's name, for messages and for checking what a Keras file name promises
   * (`mobilenet_2_5_224_tf_no_top.h5`: alpha 0.25, 224, no top) against the contents.
   */
  fileName?: string;
}

/** HDF5's signature; the superblock may start at 0, 512, 1024, 2048, ... */
const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** Whether `bytes` are an HDF5 file (its signature at offset 0 or a power of two from 512). */
export function isHdf5(bytes: Uint8Array): boolean {
  for (let at = 0; at + 8 <= bytes.byteLength; at = at === 0 ? 512 : at * 2) {
    if (SIGNATURE.every((b, i) => bytes[at + i] === b)) return true;
  }
  return false;
}

/** What a Keras applications file name says: alpha, resolution, top. */
export function parseKerasFileName(
  name: string,
): { alpha: number; resolution: number; includeTop: boolean } | undefined {
  const m = /mobilenet_(\d)_(\d)_(\d+)_tf(_no_top)?\.h5$/i.exec(name);
  if (!m) return undefined;
  const alpha = m[1] === "1" ? Number(`${m[1]}.${m[2]}`) : Number(`0.${m[1]}${m[2]}`);
  return { alpha, resolution: Number(m[3]), includeTop: !m[4] };
}

type Entity = ReturnType<h5wasm.Group["get"]>;

function strings(value: unknown): string[] | undefined {
  if (typeof value === "string") return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value;
  if (ArrayBuffer.isView(value) && (value as Float64Array).length === 0) return []; // empty attr
  return undefined;
}

let unique = 0;

/**
 * Reads a Keras MobileNet v1 HDF5 file's bytes into its configuration and tensors (network
 * order), checking every tensor against the architecture its shapes imply.
 *
 * @throws {WeightsError} `BAD_SOURCE` for bytes that are not HDF5 or not a Keras weights file,
 * or a file name that contradicts the contents; `MISSING_TENSOR` naming the missing dataset;
 * `SHAPE_MISMATCH` naming the tensor; {@linkcode RangeError} for a bad resolution.
 */
export async function readKerasH5(
  bytes: Uint8Array,
  options: KerasH5Options = {},
): Promise<ReadModel> {
  const label = options.fileName ?? "the HDF5 file";
  if (!isHdf5(bytes)) {
    throw new WeightsError("BAD_SOURCE", `${label} is not an HDF5 file (no HDF5 signature)`);
  }
  const named = options.fileName ? parseKerasFileName(options.fileName) : undefined;
  const resolution = options.resolution ?? named?.resolution ?? 224;
  if (!Number.isInteger(resolution) || resolution < 32) {
    throw new RangeError(`resolution must be an integer of at least 32, got ${resolution}`);
  }
  const { FS } = await h5wasm.ready;
  const path = `/mobilenet-edge-${Date.now()}-${unique++}.h5`;
  FS!.writeFile(path, bytes);
  let file: h5wasm.File | undefined;
  let values: Map<string, NamedTensor>;
  let prefix: string;
  try {
    try {
      file = new h5wasm.File(path, "r");
    } catch (error) {
      throw new WeightsError("BAD_SOURCE", `${label} cannot be opened as HDF5: ${error}`, {
        cause: error,
      });
    }
    ({ values, prefix } = readLayers(file, label));
  } finally {
    file?.close();
    FS!.unlink(path);
  }
  checkAllPresent(values, prefix, label, resolution);
  const shapes = new Map([...values].map(([name, t]) => [name, t.shape]));
  const config = inferModelConfig(shapes, resolution);
  if (named) {
    const says = `its name says alpha ${named.alpha}, ${named.includeTop ? "with" : "without"} top`;
    if (named.alpha !== config.alpha || named.includeTop !== config.includeTop) {
      throw new WeightsError(
        "BAD_SOURCE",
        `${label}: ${says}, but its tensors are alpha ${config.alpha}, ` +
          `${config.includeTop ? "with" : "without"} top`,
      );
    }
  }
  const order = buildArchitecture(architectureOptions(config)).weights;
  return { config, tensors: order.map((spec) => values.get(spec.name)!) };
}

/**
 * Checks that the file has every tensor of the architecture its stem and first depthwise
 * kernel imply.
 *
 * @throws {WeightsError} `MISSING_TENSOR` naming the first missing dataset.
 */
function checkAllPresent(
  values: Map<string, NamedTensor>,
  prefix: string,
  label: string,
  resolution: number,
): void {
  const missing = (name: string): never => {
    const dataset = `${prefix}/${name.split("/")[0]}/${name}:0`;
    throw new WeightsError(
      "MISSING_TENSOR",
      `${label} is not a Keras MobileNet v1: it has no dataset ${dataset}`,
    );
  };
  for (const anchor of ["conv1/kernel", "conv_dw_1/depthwise_kernel"]) {
    if (!values.has(anchor)) missing(anchor);
  }
  const preds = values.get("conv_preds/kernel")?.shape;
  const arch = buildArchitecture({
    alpha: values.get("conv1/kernel")!.shape[3] / 32,
    depthMultiplier: values.get("conv_dw_1/depthwise_kernel")!.shape[3],
    resolution,
    classes: preds?.[3] ?? 1000,
    includeTop: preds !== undefined,
  });
  for (const spec of arch.weights) if (!values.has(spec.name)) missing(spec.name);
}

function readLayers(
  file: h5wasm.File,
  label: string,
): { values: Map<string, NamedTensor>; prefix: string } {
  let root: h5wasm.Group = file;
  let prefix = "";
  if (!("layer_names" in file.attrs) && file.get("model_weights") instanceof h5wasm.Group) {
    root = file.get("model_weights") as h5wasm.Group;
    prefix = "/model_weights";
  }
  const layers = strings(root.attrs["layer_names"]?.value);
  if (!layers) {
    throw new WeightsError(
      "BAD_SOURCE",
      `${label} is not a Keras 2 weights file: it has no layer_names attribute ` +
        `(at / or /model_weights)`,
    );
  }
  const values = new Map<string, NamedTensor>();
  for (const layer of layers) {
    const group: Entity = root.get(layer);
    if (!(group instanceof h5wasm.Group)) {
      throw new WeightsError(
        "MISSING_TENSOR",
        `${label} lists layer ${layer} in layer_names but has no group ${prefix}/${layer}`,
      );
    }
    const weightNames = strings(group.attrs["weight_names"]?.value) ?? [];
    for (const weightName of weightNames) {
      const where = `${prefix}/${layer}/${weightName}`;
      const ds: Entity = group.get(weightName);
      if (!(ds instanceof h5wasm.Dataset)) {
        throw new WeightsError(
          "MISSING_TENSOR",
          `${label} lists weight ${weightName} but has no dataset ${where}`,
        );
      }
      const short = weightName.split("/").at(-1)!.replace(/:\d+$/, "");
      const name = `${layer}/${short}`;
      const value = ds.value;
      let data: Float32Array;
      if (value instanceof Float32Array) data = value;
      else if (value instanceof Float64Array) data = Float32Array.from(value);
      else {
        throw new WeightsError(
          "BAD_SOURCE",
          `${label}: dataset ${where} has type ${JSON.stringify(ds.dtype)}, expected float32`,
        );
      }
      values.set(name, { name, shape: ds.shape ?? [], data });
    }
  }
  return { values, prefix };
}
