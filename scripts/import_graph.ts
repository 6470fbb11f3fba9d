/**
 * What our source files import, read from their text: the files of ours (static and dynamic
 * imports) and the `npm:` packages. `tests/layout_test.ts` checks the folder rules with it, and
 * `scripts/locks.ts` cuts the runtime lock files to the packages their entry points reach.
 *
 * @module
 */

/** The imports of one file: root-relative paths of ours, and `npm:name@version` packages. */
export interface FileImports {
  /** Our files it imports statically (`import … from`, `export … from`, `import "…"`). */
  staticOnes: string[];
  /** Our files it imports, static and dynamic (`import("…")`). */
  all: string[];
  /** The npm packages it names (`npm:name@version`, without a subpath), in any import form. */
  npm: string[];
}

/** `npm:` specifiers in string literals: the package (scope, name, version) without subpath. */
const NPM = /["']npm:((?:@[\w.-]+\/)?[\w.-]+@[^/"'\s]+)/g;

/** The imports of `file` (a path relative to `root`). */
export async function importsOf(root: URL, file: string): Promise<FileImports> {
  const text = await Deno.readTextFile(new URL(file, root));
  const resolve = (spec: string) =>
    new URL(spec, new URL(file, root)).pathname.slice(root.pathname.length);
  const ours = (re: RegExp) =>
    [...text.matchAll(re)].map((m) => m[1]).filter((s) => s.startsWith(".")).map(resolve);
  const staticOnes = [
    ...ours(/^(?:import|export)[^;]*?\sfrom\s+"([^"]+)"/gms),
    ...ours(/^import\s+"([^"]+)"/gm),
  ];
  const npm = [...new Set([...text.matchAll(NPM)].map((m) => `npm:${m[1]}`))];
  return { staticOnes, all: [...staticOnes, ...ours(/import\(\s*"([^"]+)"\s*\)/g)], npm };
}

/**
 * The npm packages that `entries` (root-relative paths) reach through our files, static and
 * dynamic imports alike (Deno installs both), sorted.
 */
export async function npmClosure(root: URL, entries: string[]): Promise<string[]> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file) || !/\.[cm]?[jt]s$/.test(file)) continue;
    seen.add(file);
    const { all, npm } = await importsOf(root, file);
    for (const name of npm) packages.add(name);
    queue.push(...all);
  }
  return [...packages].sort();
}
