/**
 * The three lock files, so that running the module installs only what it imports.
 *
 * Deno installs every npm package of the lock file it uses, whatever the program imports. One
 * lock for everything made the first `deno task classify` fetch 556 MB (onnxruntime-node and
 * -web, playwright-core, h5wasm: bench, test and convert tools). So:
 *
 * - `deno.dev.lock`: everything (tests, benches, tools, scripts). The dev tasks pass
 *   `--lock=deno.dev.lock`; it is the one Deno writes when a dependency changes.
 * - `deno.lock` (deno.json's lock, used by `classify`, `teach`, `ingest`, `serve` and importers of
 *   `mod.ts`): the packages those entry points reach, cut from `deno.dev.lock` by this script.
 * - `deno.convert.lock` (`deno task convert`): h5wasm, for Keras HDF5 files, cut the same way.
 *
 * deno.json freezes the locks, so a run that needs a package its lock lacks stops with "The
 * lockfile is out of date" instead of quietly adding it. To change a dependency: edit the
 * `npm:` specifier, run `deno cache --lock=deno.dev.lock --frozen=false mod.ts src/ edge/
 * tests/ bench/ tools/ scripts/`, then this script (`tests/locks_test.ts` checks all three).
 *
 * Run: `deno run --allow-read --allow-write scripts/locks.ts`
 *
 * @module
 */
import { npmClosure } from "./import_graph.ts";

const ROOT = new URL("../", import.meta.url);

/** The lock every dev task passes, and that the others are cut from. */
export const DEV_LOCK = "deno.dev.lock";

/** The locks cut from the dev lock, with the entry points whose packages each holds. */
export const CUT_LOCKS: readonly { file: string; entries: readonly string[] }[] = [
  {
    file: "deno.lock",
    entries: [
      "mod.ts",
      "src/ingest/mod.ts",
      "src/cli/classify.ts",
      "src/cli/teach.ts",
      "src/cli/ingest.ts",
      "src/cli/calibrate.ts",
      "edge/main.ts",
    ],
  },
  { file: "deno.convert.lock", entries: ["src/cli/convert.ts"] },
];

/** A Deno lock file (version 5), the parts this script reads. */
export interface LockFile {
  /** Lock format version. */
  version: string;
  /** `npm:name@version` as imported, to the resolved package key's version part. */
  specifiers: Record<string, string>;
  /** Resolved packages by key (`name@version` plus any `_peer` suffix). */
  npm: Record<string, { dependencies?: string[]; [field: string]: unknown }>;
  [field: string]: unknown;
}

/** The name and version of a package key: `@scope/a@1.0.0_@scope+b@2.0.0` -> its first two. */
function nameVersion(key: string): [string, string] {
  const match = /^(@?[^@]+)@([^_]+)/.exec(key);
  if (!match) throw new Error(`not a package key: ${key}`);
  return [match[1], match[2]];
}

/** The key of the package a `dependencies` entry (`name` or `name@version`) names. */
function dependencyKey(lock: LockFile, ref: string): string {
  const at = ref.lastIndexOf("@");
  const [name, version] = at > 0 ? [ref.slice(0, at), ref.slice(at + 1)] : [ref, undefined];
  const keys = Object.keys(lock.npm).filter((key) => {
    const [n, v] = nameVersion(key);
    return n === name && (version === undefined || v === version);
  });
  if (keys.length !== 1) throw new Error(`${ref}: ${keys.length} packages in the lock match`);
  return keys[0];
}

/**
 * The part of `dev` that `specifiers` (`npm:name@version`) need: those specifiers and the
 * packages they reach.
 *
 * @throws {Error} when `dev` lacks one of `specifiers`, or its dependencies are inconsistent.
 */
export function cutLock(dev: LockFile, specifiers: readonly string[]): LockFile {
  const kept: Record<string, string> = {};
  const queue: string[] = [];
  for (const specifier of [...specifiers].sort()) {
    const resolved = dev.specifiers[specifier];
    if (resolved === undefined) throw new Error(`${DEV_LOCK} has no ${specifier}`);
    kept[specifier] = resolved;
    queue.push(`${nameVersion(specifier.slice("npm:".length))[0]}@${resolved}`);
  }
  const reached = new Set<string>();
  while (queue.length > 0) {
    const key = queue.pop()!;
    if (reached.has(key)) continue;
    if (!(key in dev.npm)) throw new Error(`${DEV_LOCK} has no package ${key}`);
    reached.add(key);
    queue.push(...(dev.npm[key].dependencies ?? []).map((ref) => dependencyKey(dev, ref)));
  }
  const npm = Object.fromEntries(Object.entries(dev.npm).filter(([key]) => reached.has(key)));
  return { ...dev, specifiers: kept, npm };
}

/** A lock file's text as Deno writes it (two-space JSON, `os` and `cpu` lists on one line). */
export function formatLock(lock: LockFile): string {
  const text = JSON.stringify(lock, null, 2).replace(
    /^( *)"(os|cpu)": \[\n([^\]]*)\n *\]/gm,
    (_, indent, field, items: string) =>
      `${indent}"${field}": [${items.split("\n").map((item) => item.trim()).join(" ")}]`,
  );
  return `${text}\n`;
}

/** Each cut lock's text as it must be, from the dev lock and the entry points. */
export async function expectedLocks(): Promise<Map<string, string>> {
  const dev = JSON.parse(await Deno.readTextFile(new URL(DEV_LOCK, ROOT))) as LockFile;
  const out = new Map<string, string>();
  for (const { file, entries } of CUT_LOCKS) {
    out.set(file, formatLock(cutLock(dev, await npmClosure(ROOT, [...entries]))));
  }
  return out;
}

if (import.meta.main) {
  for (const [file, text] of await expectedLocks()) {
    await Deno.writeTextFile(new URL(file, ROOT), text);
    console.log(`${file}: ${Object.keys(JSON.parse(text).npm).length} packages`);
  }
}
