/**
 * Paths on the command lines, as the user meant them: `deno task` runs every task in the
 * project's root and leaves the user's own directory in `INIT_CWD`, so `cd samples && deno task
 * classify african_elephant.jpg` must read `samples/african_elephant.jpg`. And a folder given to
 * `classify` stands for the images in it.
 *
 * @module
 */
import { type EnvReader, readEnv } from "../_util.ts";
import { looksLikeLocation } from "../bundled.ts";
import { isImageFileName } from "../image/formats.ts";

const WINDOWS = Deno.build.os === "windows";
const SEPARATOR = WINDOWS ? "\\" : "/";

/** Whether `path` is absolute (`/x`; on Windows also `C:\x` and `\\server\x`). */
function isAbsolute(path: string): boolean {
  return path.startsWith("/") || WINDOWS && /^(?:[A-Za-z]:)?[\\/]/.test(path);
}

/**
 * `paths` joined from the last absolute one and normalized (`.` and `..` resolved, no trailing
 * separator), as `node:path`'s `resolve` for the absolute directories given here: importing
 * `node:path` loads Deno's Node layer, some 30 ms of a cold start.
 */
function resolve(...paths: string[]): string {
  const start = paths.findLastIndex(isAbsolute);
  const joined = paths.slice(Math.max(start, 0)).join(SEPARATOR);
  const drive = WINDOWS ? /^[A-Za-z]:/.exec(joined)?.[0] ?? "" : "";
  const parts: string[] = [];
  for (const part of joined.slice(drive.length).split(WINDOWS ? /[\\/]/ : "/")) {
    if (part === "..") parts.pop();
    else if (part !== "" && part !== ".") parts.push(part);
  }
  return drive + SEPARATOR + parts.join(SEPARATOR);
}

/** A URL (`http://`, `mqtt://`, `file:` ...), which no directory changes. */
const URL_LIKE = /^(?:[a-z][a-z0-9+.-]*:\/\/|file:)/i;

/**
 * `path` resolved against the directory the user ran `deno task` from (`INIT_CWD`), when that
 * is not the working directory; URLs, `-` (stdin), absolute paths and runs without `INIT_CWD`
 * (`deno run`, or no `--allow-env`) are left as they are.
 *
 * @example
 * ```ts
 * import { userPath } from "./paths.ts";
 * const env = (name: string) => (name === "INIT_CWD" ? "/home/pi/photos" : undefined);
 * userPath("cat.jpg", env); // "/home/pi/photos/cat.jpg" (when run from elsewhere)
 * userPath("http://cam/snapshot.jpg", env); // unchanged
 * ```
 */
export function userPath(path: string, env: EnvReader = readEnv): string {
  if (path === "-" || path === "" || URL_LIKE.test(path) || isAbsolute(path)) return path;
  const from = env("INIT_CWD");
  if (!from || !isAbsolute(from)) return path; // deno task sets it absolute
  let cwd: string | undefined;
  try {
    cwd = Deno.cwd();
  } catch {
    // no read permission: the resolved path is right all the same
  }
  return resolve(from) === cwd ? path : resolve(from, path);
}

/** A `--model` value: a bundled model's name as it is, a path resolved by {@linkcode userPath}. */
export function userModel(
  model: string | undefined,
  env: EnvReader = readEnv,
): string | undefined {
  return model !== undefined && looksLikeLocation(model) ? userPath(model, env) : model;
}

/** One image to classify: the name to show (as the user typed it) and the path to read. */
export interface ImageArgument {
  /** As shown in the output: the argument, or `DIR/NAME` for a file of a folder argument. */
  name: string;
  /** Where it is read from. */
  path: string | URL;
}

/**
 * The images that the arguments name: files as they are, and for a folder its image files
 * (JPEG, PNG, GIF, TIFF by extension) in name order. Hidden files are ignored; other files and
 * subfolders are skipped with a warning. A missing path is passed on, so that reading it
 * reports the error in the output like any other unreadable image.
 *
 * @param warn receives one line per skipped entry.
 */
export async function expandImageArguments(
  args: readonly (string | URL)[],
  warn: (message: string) => void,
  env: EnvReader = readEnv,
): Promise<ImageArgument[]> {
  const out: ImageArgument[] = [];
  for (const arg of args) {
    const name = arg instanceof URL ? arg.pathname.split("/").slice(-2).join("/") : arg;
    const path = arg instanceof URL ? arg : userPath(arg, env);
    const info = await Deno.stat(path).catch(() => undefined);
    if (!info?.isDirectory) {
      out.push({ name, path });
      continue;
    }
    const entries: Deno.DirEntry[] = [];
    for await (const entry of Deno.readDir(path)) {
      if (!entry.name.startsWith(".")) entries.push(entry);
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const dir = String(name).replace(/[\\/]+$/, "");
    for (const entry of entries) {
      const shown = `${dir}/${entry.name}`;
      const file = `${String(path).replace(/[\\/]+$/, "")}/${entry.name}`;
      const isFile = entry.isFile ||
        (entry.isSymlink && (await Deno.stat(file).catch(() => undefined))?.isFile);
      if (!isFile) warn(`skipped ${shown}: not a file`);
      else if (!isImageFileName(entry.name)) warn(`skipped ${shown}: not a JPEG, PNG, GIF or TIFF`);
      else out.push({ name: shown, path: file });
    }
  }
  return out;
}
