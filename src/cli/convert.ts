/**
 * `deno task convert <input> <outdir> [--shard-size N] [--dtype float32|float16|uint8]
 * [--per-channel] [--resolution N] [--int8 PHOTOS [--float LAYERS] [--wide LAYERS|all]]`: converts a Keras MobileNet v1, saved as Keras HDF5
 * (`mobilenet_1_0_224_tf.h5`, with or without the top) or as TF.js layers files (`model.json`
 * and its weight files), into the project's sharded weights format (`weights/FORMAT.md`) and
 * writes `manifest.json` and the shards to `outdir`. Alpha, depth multiplier, classes and the top
 * are inferred from the tensors and checked against the architecture. `--int8 PHOTOS` calibrates
 * `precision: "int8"` on a folder of photos and stores the int8 layers' kernels as int8
 * (`src/int8/storage.ts`).
 *
 * @module
 */
import { parseArgs } from "./parse_args.ts";
import { readTfjsLayers } from "../weights/convert/tfjs_layers.ts";
import { isHdf5, readKerasH5 } from "../weights/convert/keras_h5.ts";
import { type NamedTensor, writeWeights } from "../weights/writer.ts";
import type { Quantization } from "../weights/manifest.ts";
import { manifestUrl } from "../weights/loader.ts";
import { DEFAULT_SHARD_SIZE } from "../weights/manifest.ts";
import type { QuantizeDtype } from "../weights/quantize.ts";
import { WeightsError } from "../errors.ts";
import { errorMessage } from "../_util.ts";
import { userPath } from "./paths.ts";
import { calibrateWeights, layerFlags, manifestText } from "../int8/calibrate.ts";
import { int8Storage } from "../int8/storage.ts";
import { architectureOptions } from "../weights/fit.ts";
import { buildArchitecture } from "../model/architecture.ts";
import { DEFAULT_RESIZE } from "../load.ts";
import { parseOrExit } from "./command.ts";

const USAGE = `usage: deno task convert <input> <outdir> [options]

<input> is a Keras HDF5 file (.h5) or a TF.js layers model.json (or its directory, or URL).

options:
  --shard-size BYTES   shard size (default ${DEFAULT_SHARD_SIZE}, at least 1024)
  --dtype TYPE         storage of the kernels: float32 (default), float16, uint8
  --per-channel        uint8: one scale per output channel instead of per tensor
  --int8 PHOTOS        calibrate int8 on the photos of a folder (not ones you evaluate on) and
                       store the 1x1 and classifier kernels as int8, bias-corrected (a quarter
                       of the bytes); --dtype applies to the other kernels
  --float LAYERS       with --int8: leave these layers float32 (comma-separated, e.g. conv_pw_1)
  --wide LAYERS|all    with --int8: 8-bit activations (two integer dot products) for these layers
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

/**
 * The input's bytes when it is a local file, `undefined` for a directory or a URL.
 *
 * @throws {WeightsError} `NOT_FOUND` naming the input when no such file or directory exists.
 */
async function readBytes(input: string): Promise<Uint8Array | undefined> {
  if (/^https?:/i.test(input)) return undefined;
  const path = input.startsWith("file:") ? new URL(input) : input;
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new WeightsError("NOT_FOUND", `cannot read ${input}: no such file or directory`, {
      cause: error,
    });
  }
  return info.isFile ? await Deno.readFile(path) : undefined;
}

/** What the command line asks for, checked. */
interface Command {
  input: string;
  outdir: string;
  shardSize: number;
  dtype: QuantizeDtype;
  perChannel: boolean;
  int8: string | undefined;
  /** With `int8`: layers left float32, and layers with 8-bit activations. */
  layers: { float: string[]; wide: string[] | "all" };
  resolution: number | undefined;
}

/**
 * Parses and checks the arguments.
 *
 * @throws {TypeError} for an unknown flag or a wrong argument count; {@linkcode RangeError} for
 * a value out of range.
 */
function parseCommand(args: string[]): Command | "help" {
  const parsed = parseArgs(args, {
    string: ["shard-size", "dtype", "resolution", "int8", "float", "wide"],
    boolean: ["help", "per-channel"],
    alias: { h: "help" },
  });
  if (parsed.help) return "help";
  if (parsed._.length !== 2) {
    throw new TypeError(`expected <input> and <outdir>, got ${parsed._.length} arguments`);
  }
  const shardSize = positiveInteger("shard-size", parsed["shard-size"] as string | undefined) ??
    DEFAULT_SHARD_SIZE;
  if (shardSize < 1024) throw new RangeError(`--shard-size must be at least 1024`);
  const dtype = (parsed.dtype ?? "float32") as QuantizeDtype;
  if (!DTYPES.includes(dtype)) {
    throw new RangeError(`--dtype must be one of ${DTYPES.join(", ")}, got ${parsed.dtype}`);
  }
  const perChannel = parsed["per-channel"] === true;
  if (perChannel && dtype !== "uint8") throw new RangeError(`--per-channel needs --dtype uint8`);
  const resolution = positiveInteger("resolution", parsed.resolution as string | undefined);
  // paths are the user's: relative to where `deno task` was run (INIT_CWD)
  const [input, outdir] = parsed._.map((path) => userPath(path));
  const int8 = parsed.int8 === undefined ? undefined : userPath(parsed.int8 as string);
  const layers = layerFlags(parsed.float, parsed.wide);
  if (int8 === undefined && (parsed.float !== undefined || parsed.wide !== undefined)) {
    throw new RangeError("--float and --wide need --int8 PHOTOS");
  }
  return { input, outdir, shardSize, dtype, perChannel, resolution, int8, layers };
}

/** Reads the input model: Keras HDF5 by its signature, else TF.js layers files. */
async function readModel(command: Command) {
  const { input, resolution } = command;
  const bytes = await readBytes(input);
  if (bytes && isHdf5(bytes)) {
    const fileName = input.split(/[\\/]/).at(-1)!;
    const read = await readKerasH5(bytes, { resolution, fileName });
    return { ...read, source: `Keras HDF5 ${fileName}` };
  }
  if (resolution !== undefined) {
    throw new RangeError("--resolution is for HDF5 input; model.json records its input size");
  }
  const url = manifestUrl(
    input.endsWith(".json") || /^https?:/i.test(input) ? input : `${input.replace(/\/$/, "")}/`,
  );
  const modelJson = url.pathname.endsWith("/manifest.json") ? new URL("model.json", url) : url;
  const read = await readTfjsLayers(modelJson);
  return { ...read, source: `TF.js layers ${modelJson.pathname.split("/").at(-2)}` };
}

/**
 * With `--int8 PHOTOS`: the calibration, and the tensors and encodings that store the int8
 * layers' kernels as int8.
 */
async function int8Parts(command: Command, model: Awaited<ReturnType<typeof readModel>>): Promise<{
  tensors: NamedTensor[];
  encodings?: Map<string, { bytes: Uint8Array; quantization: Quantization }>;
  int8?: { scales: Record<string, number>; levels?: Record<string, number>; calibration: string };
}> {
  if (command.int8 === undefined) return { tensors: model.tensors };
  const options = architectureOptions(model.config);
  const calibration = await calibrateWeights(
    options,
    model.tensors.map((t) => [t.name, t.data]),
    command.int8,
    { resize: DEFAULT_RESIZE, tool: "deno task convert --int8", ...command.layers },
  );
  const stored = int8Storage(buildArchitecture(options), model.tensors, calibration);
  // the kernels now hold the bias correction: the scales (and levels) alone go into the manifest
  const { scales, levels } = calibration;
  const int8 = { scales, ...(levels ? { levels } : {}), calibration: calibration.calibration };
  return { ...stored, int8 };
}

/** Converts and writes the weights; returns the summary line. */
async function convert(command: Command): Promise<string> {
  const { outdir, dtype, perChannel } = command;
  const model = await readModel(command);
  const { config, source } = model;
  const { tensors, encodings, int8 } = await int8Parts(command, model);
  const storage = (dtype === "float32" ? "" : ` as ${dtype}${perChannel ? " per-channel" : ""}`) +
    (int8 ? ", 1x1 and classifier kernels as int8" : "");
  const written = await writeWeights(config, tensors, {
    shardSize: command.shardSize,
    dtype,
    perChannel,
    encoded: encodings,
    generatedBy: `mobilenet-edge convert from ${source}${storage}`,
  });
  await Deno.mkdir(outdir, { recursive: true });
  await Promise.all(
    written.manifest.shards.map((s, i) => Deno.writeFile(`${outdir}/${s.file}`, written.shards[i])),
  );
  await Deno.writeTextFile(`${outdir}/manifest.json`, manifestText({ ...written.manifest, int8 }));
  const total = written.shards.reduce((n, s) => n + s.byteLength, 0);
  return `wrote ${outdir}: alpha=${config.alpha} resolution=${config.resolution} ` +
    `top=${config.includeTop} ${dtype}${perChannel ? " per-channel" : ""}${int8 ? " int8" : ""} ` +
    `${tensors.length} tensors, ${written.shards.length} shards, ${total} bytes`;
}

/** Runs the command with `args`; returns the process exit code (0 ok, 1 failed, 2 usage). */
export async function main(args: string[]): Promise<number> {
  const command = parseOrExit("convert", args, parseCommand, USAGE);
  if (typeof command === "number") return command;
  try {
    console.log(await convert(command));
    return 0;
  } catch (error) {
    console.error(`convert: ${errorMessage(error)}`);
    return error instanceof RangeError ? 2 : 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
