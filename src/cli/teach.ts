/**
 * `deno task teach DIR --out HEAD`: teaches a head from a folder of class folders and writes
 * it; `deno task teach --categories dog,cat --out HEAD` makes one from WordNet, with no
 * examples. Prints what a user needs to trust the head: the cross-validated accuracy, the
 * confusion matrix, the `unknown` threshold, and warnings (files skipped, classes with few
 * examples); a progress bar on stderr while the examples are embedded.
 *
 * @module
 */
import { parseArgs } from "./parse_args.ts";
import { threadsFlag, zoneFlag } from "./flag_values.ts";
import { loadMobileNet } from "../load.ts";
import { Head } from "../head/head.ts";
import { teach, type TeachReport } from "../head/teach.ts";
import { HeadError } from "../head/errors.ts";
import { checkExampleFolder } from "../head/folder.ts";
import { type Augmentation, AUGMENTATIONS } from "../head/augment.ts";
import { checkResizeMode, type ResizeMode, type Zone } from "../image/preprocess.ts";
import { errorMessage } from "../_util.ts";
import { userModel, userPath } from "./paths.ts";
import { parseOrExit } from "./command.ts";

const USAGE = `usage: deno task teach DIR --out HEAD [options]
       deno task teach --categories NAME,NAME,... --out HEAD [--threshold T]

Teaches a head (your own classes on top of the model) from DIR, which holds one folder per
class named as the label (DIR/open/*.jpg, DIR/closed/*.jpg, ...), and writes it to HEAD. Use it
with: deno task classify --head HEAD photo.jpg

With --categories, makes a head from WordNet instead of examples: each category (a noun such as
dog, cat, bird, wheeled_vehicle, or a WordNet id such as n02084071) sums the ImageNet classes
under it.

options:
  --out FILE          where to write the head (required)
  --model M           bundled model (0.75_224 default, 0.25_224), weights dir/manifest, or URL;
                      the head works with this model only
  --zone x,y,w,h      only this rectangle of each frame, in fractions of its width and height
                      (e.g. 0.5,0.4,0.3,0.5); stored in the head, applied wherever it is used
  --resize MODE       center-crop, stretch, center-crop-87.5 (default: stretch with a zone,
                      else center-crop)
  --augment LIST      extra views of each example: flip,light,crop (default none: none helped
                      on the evaluation; each multiplies the time)
  --threshold T       --categories only: the summed probability under which an image is
                      "unknown" (default 0.4)
  --threads N|auto    threads per inference (the head is the same with any count)
  -h, --help          this text`;

/** What the command line asks for, checked. */
interface Command {
  dir: string | undefined;
  out: string;
  categories: string[] | undefined;
  model: string | undefined;
  zone: Zone | undefined;
  resize: ResizeMode | undefined;
  augment: Augmentation[];
  threshold: number | undefined;
  threads: number | "auto" | undefined;
}

function parseCommand(args: string[]): Command | "help" {
  const flags = parseArgs(args, {
    string: ["out", "model", "zone", "resize", "augment", "categories", "threshold", "threads"],
    boolean: ["help"],
    alias: { h: "help", o: "out", m: "model" },
  });
  if (flags.help) return "help";
  if (typeof flags.out !== "string") throw new TypeError("--out HEAD is required");
  const categories = flags.categories === undefined
    ? undefined
    : String(flags.categories).split(",").map((c) => c.trim()).filter((c) => c !== "");
  if (categories && flags._.length > 0) {
    throw new TypeError("give either a folder of examples or --categories, not both");
  }
  if (!categories && flags._.length !== 1) {
    throw new TypeError("give one folder of examples (one subfolder per class), or --categories");
  }
  const augment = flags.augment === undefined
    ? []
    : String(flags.augment).split(",").filter((a) => a !== "") as Augmentation[];
  for (const a of augment) {
    if (!AUGMENTATIONS.includes(a)) {
      throw new RangeError(`--augment takes ${AUGMENTATIONS.join(", ")}, got ${a}`);
    }
  }
  const threshold = flags.threshold === undefined ? undefined : Number(flags.threshold);
  if (threshold !== undefined && !(threshold >= 0 && threshold <= 1)) {
    throw new RangeError(`--threshold must be a number from 0 to 1, got ${flags.threshold}`);
  }
  return {
    dir: flags._[0] === undefined ? undefined : userPath(flags._[0]),
    out: userPath(flags.out),
    categories,
    model: userModel(flags.model as string | undefined),
    zone: zoneFlag(flags.zone),
    resize: flags.resize === undefined ? undefined : checkResizeMode(flags.resize),
    augment,
    threshold,
    threads: threadsFlag(flags.threads),
  };
}

/** A progress bar on stderr: redrawn in place on a terminal, a line per quarter otherwise. */
function progressBar(): (done: number, total: number) => void {
  const tty = Deno.stderr.isTerminal();
  const encoder = new TextEncoder();
  let shown = -1;
  return (done, total) => {
    const width = 30;
    const filled = Math.round((done / total) * width);
    const step = tty ? filled : Math.floor((done / total) * 4);
    if (step === shown && done !== total) return;
    shown = step;
    const bar = `embedding examples [${"#".repeat(filled)}${
      ".".repeat(width - filled)
    }] ${done}/${total}`;
    Deno.stderr.writeSync(
      encoder.encode(tty ? `\r${bar}${done === total ? "\n" : ""}` : `${bar}\n`),
    );
  };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The confusion matrix as text: rows are the true classes, columns the predicted ones. */
export function formatConfusion(labels: readonly string[], confusion: number[][]): string {
  const short = labels.map((l) => (l.length > 12 ? `${l.slice(0, 11)}~` : l));
  const first = Math.max(4, ...short.map((l) => l.length));
  const cols = short.map((l) =>
    Math.max(l.length, ...confusion.map((r) => String(r[0]).length), 3)
  );
  const head = `${"".padEnd(first)}  ${short.map((l, i) => l.padStart(cols[i])).join("  ")}`;
  const rows = confusion.map((row, t) =>
    `${short[t].padEnd(first)}  ${row.map((n, p) => String(n).padStart(cols[p])).join("  ")}`
  );
  return [head, ...rows].join("\n");
}

function printTaught(head: Head, seconds: number): void {
  const report = head.report as unknown as TeachReport;
  const total = Object.values(report.examples).reduce((a, b) => a + b, 0);
  console.log(
    `taught ${head.labels.length} classes from ${total} examples` +
      `${report.skipped ? ` (${report.skipped} files skipped)` : ""} in ${seconds.toFixed(1)} s`,
  );
  for (const [label, count] of Object.entries(report.examples)) console.log(`  ${label}: ${count}`);
  if (report.accuracy === null) {
    console.log("cross-validated accuracy: unknown (a class has a single example)");
  } else {
    console.log(
      `cross-validated accuracy: ${pct(report.accuracy)} (${report.folds} folds; features: ${
        report.features.join(" + ")
      }; L2 ${report.lambda})`,
    );
    console.log("confusion matrix (rows: true class, columns: predicted):");
    console.log(formatConfusion(head.labels, report.confusion));
  }
  console.log(
    `unknown threshold: ${head.threshold.toFixed(3)}` +
      (report.knownPass === null
        ? " (default)"
        : ` (${pct(report.knownPass)} of held-out examples pass)`),
  );
}

/** Runs the command with `args`; returns the exit code: 0 done, 2 bad arguments or examples, 1 other failures. */
export async function main(args: string[]): Promise<number> {
  const command = parseOrExit("teach", args, parseCommand, USAGE);
  if (typeof command === "number") return command;
  try {
    const head = command.categories
      ? await Head.fromCategories(command.categories, { threshold: command.threshold })
      : await teachFolder(command);
    if (command.categories) {
      for (const s of head.report.synsets as { label: string; wnid: string; classes: number }[]) {
        console.log(`  ${s.label}: ${s.wnid}, ${s.classes} ImageNet classes`);
      }
    }
    await head.save(command.out);
    console.log(`wrote ${command.out} (${head.labels.join(", ")})`);
    return 0;
  } catch (error) {
    console.error(`teach: ${errorMessage(error)}`);
    return error instanceof HeadError && error.code !== "NETWORK" ? 2 : 1;
  }
}

async function teachFolder(command: Command): Promise<Head> {
  await checkExampleFolder(command.dir!);
  const model = await loadMobileNet({ model: command.model, threads: command.threads });
  try {
    const started = performance.now();
    const head = await teach(model, command.dir!, {
      zone: command.zone,
      resize: command.resize,
      augment: command.augment,
      onProgress: progressBar(),
      onWarning: (message) => console.error(`warning: ${message}`),
    });
    printTaught(head, (performance.now() - started) / 1000);
    return head;
  } finally {
    await model.dispose();
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
