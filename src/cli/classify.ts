/**
 * `deno task classify [image|folder...]`: prints the top-5 ImageNet labels of each image, like
 * the seed's Keras `Predicted:` line. A folder stands for its images, in name order. Without an
 * image it classifies the bundled sample photo. Relative paths are the user's (`INIT_CWD`).
 *
 * Flags: `--top N`, `--model NAME|PATH|URL`, `--head HEAD` (answer in a taught head's classes),
 * `--json` (one JSON object per image per line), `--resize center-crop|stretch|center-crop-87.5`,
 * `--threads N`, `--precision float32|int8`, `--verbose` (backend and load details).
 * Weights loaded from a URL show a progress bar on stderr when it is a terminal (or with
 * `--verbose`, as plain lines).
 *
 * @module
 */
import { parseArgs } from "./parse_args.ts";
import { loadMobileNet } from "../load.ts";
import { bundledModelFor } from "../bundled.ts";
import { Head } from "../head/head.ts";
import { backendInfo } from "../backend/wasm.ts";
import { IMAGENET_CLASSES } from "../labels/imagenet.ts";
import type { ClassifyResult, MobileNet, Prediction } from "../mobilenet.ts";
import { errorMessage } from "../_util.ts";
import type { ResizeMode } from "../image/preprocess.ts";
import { checkOrientationMode, type OrientationMode } from "../image/orientation.ts";
import { checkMaxPixels } from "../image/budget.ts";
import {
  checkTopForModel,
  precisionFlag,
  resizeFlag,
  threadsFlag,
  topFlag,
} from "./flag_values.ts";
import { formatProgress, type LoadProgressEvent } from "../weights/progress.ts";
import { expandImageArguments, type ImageArgument, userModel, userPath } from "./paths.ts";
import { parseOrExit } from "./command.ts";

/** The photo classified when no image is named. */
export const SAMPLE_IMAGE = new URL("../../samples/african_elephant.jpg", import.meta.url);

const USAGE = `usage: deno task classify [options] [image|folder...]

Prints the top-5 ImageNet labels of each image (JPEG, PNG, GIF, TIFF); a folder stands for the
images in it, in name order. With no image, classifies the bundled sample photo (an African
elephant).

options:
  --top N             how many labels per image (default 5)
  --model M           bundled model (0.75_224 default, 0.25_224), weights dir/manifest, or URL
  --head HEAD         answer in a head's classes (a file or URL from deno task teach), with
                      "unknown" when the top probability is under the head's threshold, and the
                      ImageNet answer beside it; the model defaults to the one it was taught on
  --json              one JSON object per image per line
  --resize MODE       center-crop (default; photos), stretch (camera frames), center-crop-87.5
  --threads N|auto    threads per inference (default auto: as many cores as help)
  --precision P       float32 (default) or int8: the 1x1 convolutions and the classifier in
                      8-bit integers (about 2x faster with relaxed SIMD; float32 where the
                      backend has no int8 kernels, as --verbose shows)
  --small-board       512 MB boards: 0.25_224 model, 1 thread, one shard at a time (explicit
                      --model/--threads win; also MOBILENET_EDGE_SMALL_BOARD=1)
  --max-pixels N      pixel budget per image (default 8388608; larger images are refused from
                      their header as TOO_LARGE; a JPEG counts its DCT-reduced size)
  --orientation MODE  exif (default: turn images upright by their EXIF orientation) or ignore
  --verbose           print the backend, load details, time since start and peak RSS to stderr
  -h, --help          this text`;

/** Python's repr of a string, as Keras prints it. */
function pyString(text: string): string {
  return text.includes("'") && !text.includes('"') ? `"${text}"` : `'${text}'`;
}

/** One `(wnid, label, probability)` tuple of Keras' `decode_predictions`. */
function pythonTuple(index: number, probability: number): string {
  const c = IMAGENET_CLASSES[index];
  const wnid = c?.wnid ?? String(index);
  const label = c ? c.label.replaceAll(" ", "_") : `class_${index}`;
  return `(${pyString(wnid)}, ${pyString(label)}, ${probability.toFixed(5)})`;
}

function printText(file: string, result: ClassifyResult): void {
  const { predictions, width, height, timings } = result;
  console.log(`${file} (${width}x${height}, ${timings.totalMs.toFixed(1)} ms)`);
  if (result.unknown !== undefined) {
    const top = result.imagenet![0];
    console.log(
      `${result.unknown ? "unknown (under the head's threshold)" : predictions[0].label}` +
        `; ImageNet: ${top.label} ${top.probability.toFixed(4)}`,
    );
  } else {
    console.log(
      `Predicted: [${predictions.map((p) => pythonTuple(p.index, p.probability)).join(", ")}]`,
    );
  }
  const wide = Math.max(...predictions.map((p) => p.label.length));
  for (const p of predictions) {
    console.log(
      `  ${String(p.index).padStart(4)}  ${p.label.padEnd(wide)}  ${p.probability.toFixed(4)}`,
    );
  }
}

/**
 * Draws a weights load's progress on stderr: a bar redrawn in place on a terminal (at most
 * ten times a second), or a line per retry and a closing line otherwise.
 */
class ProgressBar {
  readonly #tty: boolean;
  readonly #encoder = new TextEncoder();
  #drawn = 0;
  #open = false;

  constructor(tty: boolean) {
    this.#tty = tty;
  }

  #write(text: string): void {
    Deno.stderr.writeSync(this.#encoder.encode(text));
  }

  readonly onProgress = (event: LoadProgressEvent): void => {
    if (event.type === "retry") {
      const what = event.shard === null ? "manifest" : `shard ${event.shard}`;
      this.end();
      this.#write(
        `weights: ${what}: ${event.reason}, attempt ${event.attempt} in ${event.delayMs} ms\n`,
      );
      return;
    }
    if (event.type === "manifest" && event.fromCache) {
      this.end();
      this.#write("weights: offline, using the cached manifest\n");
    }
    const now = performance.now();
    if (event.type === "done") {
      if (this.#tty) this.#write(`\r${formatProgress(event)}\x1b[K\n`);
      else this.#write(`weights: ${formatProgress(event)}\n`);
      this.#open = false;
      return;
    }
    if (!this.#tty || now - this.#drawn < 100) return;
    this.#drawn = now;
    this.#open = true;
    this.#write(`\r${formatProgress(event)}\x1b[K`);
  };

  /** Ends a bar left open (before other output, or when the load failed). */
  end(): void {
    if (this.#open) this.#write("\n");
    this.#open = false;
  }
}

/**
 * The process's peak resident set size in bytes (`VmHWM` from `/proc/self/status`, where Deno
 * allows reading it: with --allow-all), else its resident set size now, from Deno. Not
 * `node:process`' `resourceUsage()`: its getter loads Deno's Node layer, some 30 ms.
 */
function residentSize(): { bytes: number; peak: boolean } | undefined {
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    const match = /VmHWM:\s+(\d+) kB/.exec(status);
    if (match) return { bytes: Number(match[1]) * 1024, peak: true };
  } catch {
    // not Linux, or not allowed: fall through
  }
  try {
    return { bytes: Deno.memoryUsage().rss, peak: false };
  } catch {
    return undefined;
  }
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** What the command line asks for, checked. */
interface Command {
  files: (string | URL)[];
  topK: number;
  threads: number | "auto" | undefined;
  precision: "float32" | "int8" | undefined;
  model: string | undefined;
  head: string | undefined;
  resize: ResizeMode | undefined;
  preset: "small-board" | undefined;
  maxPixels: number | undefined;
  orientation: OrientationMode | undefined;
  json: boolean;
  verbose: boolean;
}

/**
 * Parses and checks the arguments (all but `--top`'s upper bound, which depends on the model).
 *
 * @throws {TypeError} for an unknown flag or a flag without its value; {@linkcode RangeError}
 * for a value out of range.
 */
function parseCommand(args: string[]): Command | "help" {
  const flags = parseArgs(args, {
    string: [
      "top",
      "model",
      "head",
      "resize",
      "threads",
      "max-pixels",
      "orientation",
      "precision",
    ],
    boolean: ["json", "verbose", "help", "small-board"],
    alias: { h: "help", k: "top", m: "model" },
  });
  if (flags.help) return "help";
  const maxPixels = flags["max-pixels"];
  return {
    files: flags._.length > 0 ? flags._ : [SAMPLE_IMAGE],
    topK: topFlag(flags.top),
    threads: threadsFlag(flags.threads),
    precision: precisionFlag(flags.precision),
    model: userModel(flags.model as string | undefined),
    head: flags.head === undefined ? undefined : userPath(String(flags.head)),
    resize: resizeFlag(flags.resize),
    preset: flags["small-board"] ? "small-board" : undefined,
    maxPixels: maxPixels === undefined ? undefined : checkMaxPixels(Number(maxPixels)),
    orientation: flags.orientation === undefined
      ? undefined
      : checkOrientationMode(flags.orientation),
    json: flags.json === true,
    verbose: flags.verbose === true,
  };
}

/**
 * Loads the model the command asks for, with a progress bar for a URL on a terminal. With a
 * head and no `--model`, the bundled model the head was taught on.
 */
async function loadModel(command: Command): Promise<MobileNet> {
  const head = command.head === undefined ? undefined : await Head.load(command.head);
  if (head && command.model === undefined) command.model = bundledModelFor(head.base);
  const remote = /^https?:/i.test(command.model ?? "");
  const bar = remote && (Deno.stderr.isTerminal() || command.verbose)
    ? new ProgressBar(Deno.stderr.isTerminal())
    : undefined;
  try {
    const model = await loadMobileNet({
      preset: command.preset,
      model: command.model,
      maxPixels: command.maxPixels,
      orientation: command.orientation,
      threads: command.threads,
      precision: command.precision,
      resize: command.resize,
      head,
      onProgress: bar?.onProgress,
    });
    try {
      // a head answers in its own classes: --top counts at most those
      if (!model.head) checkTopForModel(command.topK, model.architecture.config.classes);
    } catch (error) {
      await model.dispose();
      throw error;
    }
    return model;
  } finally {
    bar?.end();
  }
}

function printLoaded(model: MobileNet, started: number): void {
  const m = model.manifest?.model;
  console.error(
    `model: MobileNet v1 alpha=${m?.alpha} resolution=${m?.resolution} ` +
      `(${model.architecture.totalParams} params, ${model.precision}), loaded in ${
        (performance.now() - started).toFixed(0)
      } ms`,
  );
  console.error(`backend: ${JSON.stringify(backendInfo())}`);
}

function jsonPredictions(predictions: Prediction[]) {
  return predictions.map((p) => ({
    index: p.index,
    label: p.label,
    probability: round(p.probability, 6),
  }));
}

function printJson(file: string, result: ClassifyResult): void {
  const t = result.timings;
  console.log(JSON.stringify({
    file,
    predictions: jsonPredictions(result.predictions),
    ...(result.unknown === undefined ? {} : {
      unknown: result.unknown,
      imagenet: jsonPredictions(result.imagenet!),
    }),
    timings: {
      decodeMs: round(t.decodeMs, 2),
      preprocessMs: round(t.preprocessMs, 2),
      inferenceMs: round(t.inferenceMs, 2),
      totalMs: round(t.totalMs, 2),
    },
  }));
}

function printFailure(file: string, error: unknown, json: boolean): void {
  const e = error as Error & { code?: string };
  if (json) {
    console.log(
      JSON.stringify({ file, error: { name: e.name, code: e.code, message: e.message } }),
    );
  } else {
    console.error(`${file}: ${e.name}: ${e.message}`);
  }
}

/** Classifies one file and prints the result or the failure; returns whether it worked. */
async function classifyFile(model: MobileNet, { name, path }: ImageArgument, command: Command) {
  try {
    const bytes = await Deno.readFile(path);
    const result = await model.classifyDetailed(bytes, { topK: command.topK });
    if (command.json) printJson(name, result);
    else printText(name, result);
    return true;
  } catch (error) {
    printFailure(name, error, command.json);
    return false;
  }
}

function printFinished(): void {
  const rss = residentSize();
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  console.error(
    `process: results printed ${performance.now().toFixed(0)} ms after start` +
      (rss ? `, ${rss.peak ? "peak RSS" : "RSS"} ${mib(rss.bytes)} MiB` : ""),
  );
}

/**
 * Runs the command with `args`; returns the exit code: 0 when every image was classified, 1
 * when some failed, 2 for bad arguments (checked once, before any image) or a model that cannot
 * load.
 */
export async function main(args: string[]): Promise<number> {
  const command = parseOrExit("classify", args, parseCommand, USAGE);
  if (typeof command === "number") return command;
  const started = performance.now();
  // folders become their images, and what is skipped is said before the model loads
  const files = await expandImageArguments(
    command.files,
    (message) => console.error(`classify: warning: ${message}`),
  );
  let model;
  try {
    model = await loadModel(command);
  } catch (error) {
    console.error(`classify: ${errorMessage(error)}`);
    return 2;
  }
  if (command.verbose) printLoaded(model, started);
  let failures = 0;
  for (const file of files) {
    if (!(await classifyFile(model, file, command))) failures++;
  }
  if (command.verbose) printFinished();
  await model.dispose(); // the last model: ends the backend's worker threads too
  return failures > 0 ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
