/**
 * `deno task convert <input> <outdir> [--shard-size N] [--dtype float32|float16|uint8]
 * [--per-channel] [--resolution N]`: converts a Keras MobileNet v1, saved as Keras HDF5
 * (`mobilenet_1_0_224_tf.h5`, with or without the top) or as TF.js layers files (`model.json`
 * and its weight files), into the project's sharded weights format (`weights/FORMAT.md`) and
 * writes `manifest.json` and the shards to `outdir`. Alpha, depth multiplier, classes and the top
 * are inferred from the tensors and checked against the architecture.
 *
 * @module
 */
import { parseArgs } from "./parse_args.ts";
import { readTfjsLayers } from "../weights/convert/tfjs_layers.ts";
import { isHdf5, readKerasH5 } from "../weights/convert/keras_h5.ts";
import { writeWeights } from "../weights/writer.ts";
import { manifestUrl } from "../weights/loader.ts";
import { DEFAULT_SHARD_SIZE } from "../weights/manifest.ts";
import type { QuantizeDtype } from "../weights/quantize.ts";

const USAGE = `usage: deno task convert <input> <outdir> [options]

<input> is a Keras HDF5 file (.h5) or a TF.js layers model.json (or its directory, or URL).

options:
  --shard-size BYTES   shard size (default ${DEFAULT_SHARD_SIZE}, at least 1024)
  --dtype TYPE         storage of the kernels: float32 (default), float16, uint8
  --per-channel        uint8: one scale per output channel instead of per tensor
  --resolution N       input size of HDF5 weights (default: from a Keras file name, else 224)
  -h, --help           this text`;

const DTYPES: readonly QuantizeDtype[] = ["float32", "float16", "uint8"];

function positiveInteger(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) {
    throw new RangeError(`--${flag} must be a positive integer, got ${JSON.stringify(text)}`);
  }
  return value;
}

async function readBytes(input: string): Promise<Uint8Array | undefined> {
  if (/^https?:/i.test(input)) return undefined;
  const path = input.startsWith("file:") ? new URL(input) : input;
  try {
    if (!(await Deno.stat(path)).isFile) return undefined;
  } catch {
    return undefined;
  }
  return await Deno.readFile(path);
}

/** Runs the command with `args`; returns the process exit code (0 ok, 1 failed, 2 usage). */
export async function main(args: string[]): Promise<number> {
  let parsed;
  let shardSize: number;
  let dtype: QuantizeDtype;
  let resolution: number | undefined;
  try {
    parsed = parseArgs(args, {
      string: ["shard-size", "dtype", "resolution"],
      boolean: ["help", "per-channel"],
      alias: { h: "help" },
    });
    if (parsed.help) {
      console.log(USAGE);
      return 0;
    }
    if (parsed._.length !== 2) {
      throw new TypeError(`expected <input> and <outdir>, got ${parsed._.length} arguments`);
    }
    shardSize = positiveInteger("shard-size", parsed["shard-size"] as string | undefined) ??
      DEFAULT_SHARD_SIZE;
    if (shardSize < 1024) throw new RangeError(`--shard-size must be at least 1024`);
    dtype = (parsed.dtype ?? "float32") as QuantizeDtype;
    if (!DTYPES.includes(dtype)) {
      throw new RangeError(`--dtype must be one of ${DTYPES.join(", ")}, got ${parsed.dtype}`);
    }
    if (parsed["per-channel"] && dtype !== "uint8") {
      throw new RangeError(`--per-channel needs --dtype uint8`);
    }
    resolution = positiveInteger("resolution", parsed.resolution as string | undefined);
  } catch (error) {
    console.error(`convert: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const [input, outdir] = parsed._;
  const perChannel = parsed["per-channel"] === true;
  try {
    const bytes = await readBytes(input);
    let source: string;
    let read;
    if (bytes && isHdf5(bytes)) {
      const fileName = input.split(/[\\/]/).at(-1)!;
      read = await readKerasH5(bytes, { resolution, fileName });
      source = `Keras HDF5 ${fileName}`;
    } else {
      if (resolution !== undefined) {
        throw new RangeError("--resolution is for HDF5 input; model.json records its input size");
      }
      const url = manifestUrl(
        input.endsWith(".json") || /^https?:/i.test(input) ? input : `${input.replace(/\/$/, "")}/`,
      );
      const modelJson = url.pathname.endsWith("/manifest.json") ? new URL("model.json", url) : url;
      read = await readTfjsLayers(modelJson);
      source = `TF.js layers ${modelJson.pathname.split("/").at(-2)}`;
    }
    const { config, tensors } = read;
    const storage = dtype === "float32" ? "" : ` as ${dtype}${perChannel ? " per-channel" : ""}`;
    const written = await writeWeights(config, tensors, {
      shardSize,
      dtype,
      perChannel,
      generatedBy: `mobilenet-edge convert from ${source}${storage}`,
    });
    await Deno.mkdir(outdir, { recursive: true });
    await Promise.all(
      written.manifest.shards.map((s, i) =>
        Deno.writeFile(`${outdir}/${s.file}`, written.shards[i])
      ),
    );
    await Deno.writeTextFile(
      `${outdir}/manifest.json`,
      JSON.stringify(written.manifest, null, 2) + "\n",
    );
    const total = written.shards.reduce((n, s) => n + s.byteLength, 0);
    console.log(
      `wrote ${outdir}: alpha=${config.alpha} resolution=${config.resolution} ` +
        `top=${config.includeTop} ${dtype}${perChannel ? " per-channel" : ""} ` +
        `${tensors.length} tensors, ${written.shards.length} shards, ${total} bytes`,
    );
    return 0;
  } catch (error) {
    console.error(`convert: ${(error as Error).message}`);
    return error instanceof RangeError ? 2 : 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
