/**
 * `deno task calibrate <weights> <photos> [--limit N] [--resize MODE] [--dry-run]`: measures what
 * `precision: "int8"` needs (`src/int8/calibrate.ts`) by running the float32 model of a local
 * weights directory (or a bundled model's name) on the JPEG and PNG photos of a folder, and
 * writes it into the weights' `manifest.json` as its `int8` field (the shards, and so the
 * weights' identity, do not change). Calibrate on photos you do not evaluate on.
 *
 * @module
 */
import { parseArgs } from "./parse_args.ts";
import { resizeFlag } from "./flag_values.ts";
import { resolveModel } from "../bundled.ts";
import { loadWeights } from "../weights/loader.ts";
import { architectureOptions } from "../weights/fit.ts";
import {
  calibrateWeights,
  type Int8Calibration,
  layerFlags,
  manifestText,
} from "../int8/calibrate.ts";
import { DEFAULT_RESIZE } from "../load.ts";
import { errorMessage } from "../_util.ts";
import { parseOrExit } from "./command.ts";

const USAGE = `usage: deno task calibrate <weights> <photos> [options]

<weights> is a local weights directory or manifest.json, or a bundled model's name (0.75_224);
<photos> a folder of JPEG or PNG photos (not ones you will evaluate on).

options:
  --limit N        use the first N photos by name (default: all)
  --float LAYERS   leave these layers float32 (comma-separated, e.g. conv_pw_1)
  --wide LAYERS    8-bit activations (0..254, two integer dot products) for these layers
                   (comma-separated, or "all")
  --resize MODE    how photos are fitted, as classify does (default ${DEFAULT_RESIZE})
  --dry-run        print the calibration, do not write the manifest
  -h, --help       this text`;

/** What the command line asks for, checked. */
interface Command {
  manifest: URL;
  photos: string;
  limit: number;
  float: string[];
  wide: string[] | "all";
  resize: NonNullable<ReturnType<typeof resizeFlag>>;
  dryRun: boolean;
}

/**
 * Parses and checks the arguments.
 *
 * @throws {TypeError} for a wrong argument count; {@linkcode RangeError} for a bad value or
 * weights that are not local files.
 */
function parseCommand(args: string[]): Command | "help" {
  const parsed = parseArgs(args, {
    string: ["limit", "resize", "float", "wide"],
    boolean: ["help", "dry-run"],
    alias: { h: "help" },
  });
  if (parsed.help) return "help";
  if (parsed._.length !== 2) {
    throw new TypeError(`expected <weights> and <photos>, got ${parsed._.length} arguments`);
  }
  const limit = parsed.limit === undefined ? Infinity : Number(parsed.limit);
  if (!(limit >= 1) || (limit !== Infinity && !Number.isInteger(limit))) {
    throw new RangeError(`--limit must be a positive integer, got ${parsed.limit}`);
  }
  const [weights, photos] = parsed._;
  const manifest = resolveModel(weights);
  if (manifest.protocol !== "file:") throw new RangeError(`${weights} is not a local file`);
  const resize = resizeFlag(parsed.resize) ?? DEFAULT_RESIZE;
  const { float, wide } = layerFlags(parsed.float, parsed.wide);
  return { manifest, photos, limit, float, wide, resize, dryRun: parsed["dry-run"] === true };
}

/** Runs the float32 model on the photos and returns the calibration. */
async function measure(command: Command): Promise<Int8Calibration> {
  const { manifest, tensors } = await loadWeights(command.manifest);
  return await calibrateWeights(architectureOptions(manifest.model), tensors, command.photos, {
    limit: command.limit,
    resize: command.resize,
    float: command.float,
    wide: command.wide,
    tool: "deno task calibrate",
  });
}

/** Writes `int8` into the manifest file, keeping everything else as it is. */
async function write(manifest: URL, int8: Int8Calibration): Promise<void> {
  const json = JSON.parse(await Deno.readTextFile(manifest));
  await Deno.writeTextFile(manifest, manifestText({ ...json, int8 }));
}

/** One line per layer: its scale and clip. */
function summary(int8: Int8Calibration): string {
  return Object.entries(int8.scales).map(([layer, scale]) => {
    const levels = int8.levels?.[layer] ?? 127;
    const clip = `clip ${(scale * 127).toFixed(3)}${levels === 127 ? "" : ", 0..254"}`;
    return `${layer.padEnd(11)} scale ${scale.toPrecision(6)} (${clip})`;
  }).join("\n");
}

/** Runs the command with `args`; returns the process exit code (0 ok, 1 failed, 2 usage). */
export async function main(args: string[]): Promise<number> {
  const command = parseOrExit("calibrate", args, parseCommand, USAGE);
  if (typeof command === "number") return command;
  try {
    const int8 = await measure(command);
    console.log(`${int8.calibration}\n${summary(int8)}`);
    if (!command.dryRun) {
      await write(command.manifest, int8);
      console.log(`wrote int8 into ${command.manifest.pathname}`);
    }
    return 0;
  } catch (error) {
    console.error(`calibrate: ${errorMessage(error)}`);
    return error instanceof RangeError ? 2 : 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
