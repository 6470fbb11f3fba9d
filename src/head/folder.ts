/**
 * Reading examples from a folder: one subfolder per class, named as the label (the layout of
 * Keras' `image_dataset_from_directory` and Teachable Machine's exports). Folders whose name
 * starts with `_` are not classes (`_unsorted/`: frames collected and not labelled yet), and
 * hidden files are ignored. Files are listed here and read one at a time when they are embedded.
 *
 * @module
 */
import { HeadError } from "./errors.ts";

/** One example file. */
export interface ExampleFile {
  /** Its path relative to the folder, `LABEL/NAME`, for messages. */
  name: string;
  /** Reads its bytes. */
  read: () => Promise<Uint8Array>;
}

/** Files over this size are skipped with a warning (64 MiB). */
export const MAX_EXAMPLE_BYTES = 64 << 20;

function join(dir: string | URL, name: string): string | URL {
  if (dir instanceof URL) {
    return new URL(encodeURIComponent(name), dir.href.endsWith("/") ? dir : `${dir.href}/`);
  }
  return `${dir.replace(/[\\/]$/, "")}/${name}`;
}

async function entries(dir: string | URL): Promise<Deno.DirEntry[]> {
  const out: Deno.DirEntry[] = [];
  for await (const entry of Deno.readDir(dir)) if (!entry.name.startsWith(".")) out.push(entry);
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Checks that `dir` is a folder, before anything costly (loading a model) is done.
 *
 * @throws {HeadError} `BAD_EXAMPLES` when it does not exist or is not a folder.
 */
export async function checkExampleFolder(dir: string | URL): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new HeadError("BAD_EXAMPLES", `the folder ${String(dir)} does not exist`);
  }
  if (!info.isDirectory) throw new HeadError("BAD_EXAMPLES", `${String(dir)} is not a folder`);
}

/**
 * Lists the class folders of `dir` and their files, in name order. Hidden files and `_` folders
 * are ignored; other stray files and folders are reported through `warn` and skipped.
 *
 * @throws {HeadError} `BAD_EXAMPLES` when `dir` does not exist or is not a folder.
 */
export async function listExampleFolder(
  dir: string | URL,
  warn: (message: string) => void,
): Promise<Map<string, ExampleFile[]>> {
  await checkExampleFolder(dir);
  const top = await entries(dir);
  const classes = new Map<string, ExampleFile[]>();
  for (const entry of top) {
    if (entry.isDirectory && entry.name.startsWith("_")) continue;
    if (!entry.isDirectory) {
      warn(`skipped ${entry.name}: examples go in a folder per class (${entry.name} -> LABEL/)`);
      continue;
    }
    const files: ExampleFile[] = [];
    const classDir = join(dir, entry.name);
    for (const file of await entries(classDir)) {
      const name = `${entry.name}/${file.name}`;
      if (!file.isFile) {
        warn(`skipped ${name}: not a file`);
        continue;
      }
      const path = join(classDir, file.name);
      const { size } = await Deno.stat(path);
      if (size > MAX_EXAMPLE_BYTES) {
        warn(`skipped ${name}: ${size} bytes, over ${MAX_EXAMPLE_BYTES}`);
        continue;
      }
      files.push({ name, read: () => Deno.readFile(path) });
    }
    classes.set(entry.name, files);
  }
  return classes;
}
