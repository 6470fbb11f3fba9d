/**
 * The folders show the architecture, and this keeps it so: which folder may import which (the
 * "Layout" of docs/architecture.md), and no import cycle in `src/`. Static and dynamic imports of our own files
 * are read from the source text.
 */
import { assert, assertEquals } from "./_assert.ts";
import { type FileImports, importsOf } from "../scripts/import_graph.ts";

const ROOT = new URL("../", import.meta.url);

/** Every `.ts` file below `dir` (relative to the root), recursively. */
async function tsFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(new URL(dir, ROOT))) {
    const path = `${dir}${entry.name}`;
    if (entry.isDirectory) out.push(...await tsFiles(`${path}/`));
    else if (path.endsWith(".ts")) out.push(path);
  }
  return out;
}

const files = [...await tsFiles("src/"), ...await tsFiles("edge/"), "mod.ts"];
const graph = new Map<string, FileImports>();
for (const file of files) graph.set(file, await importsOf(ROOT, file));

/** The imports of files under `prefix` that `allowed` refuses, as "file -> import". */
function breaches(prefix: string, allowed: (target: string) => boolean): string[] {
  return [...graph].filter(([file]) => file.startsWith(prefix)).flatMap(([file, { all }]) =>
    all.filter((target) => !allowed(target)).map((target) => `${file} -> ${target}`)
  );
}

Deno.test("layout: each folder imports only what docs/architecture.md says it may", () => {
  const under = (...prefixes: string[]) => (t: string) =>
    prefixes.some((p) => (p.endsWith("/") ? t.startsWith(p) : t === p));
  // the leaf helpers import nothing of ours
  assertEquals(breaches("src/_util.ts", () => false), []);
  assertEquals(breaches("src/errors.ts", () => false), []);
  assertEquals(breaches("src/huge_pages.ts", (t) => t === "src/_util.ts"), []);
  // tfjs, bundled (src/vendor/tfjs.js), and its emscripten glue (wasm_glue.js): nothing of ours
  assertEquals(breaches("src/vendor/", under("src/vendor/")), []);
  // the model: tfjs ops, errors and the leaf helpers only
  const tfjs = "src/vendor/tfjs.js";
  assertEquals(
    breaches("src/model/", under("src/model/", "src/errors.ts", "src/_util.ts", tfjs)),
    [],
  );
  // the backend: nothing of ours but the leaf helpers (and tfjs, and tfjs' emscripten glue)
  const leaves = ["src/_util.ts", "src/huge_pages.ts"];
  const glue = "src/vendor/wasm_glue.js";
  assertEquals(breaches("src/backend/", under("src/backend/", ...leaves, tfjs, glue)), []);
  // the core never imports its adapters (the CLI, the edge endpoint)
  assertEquals(
    breaches("src/", (t) => !t.startsWith("edge/") && !t.startsWith("src/cli/")).filter(
      (b) => !b.startsWith("src/cli/"),
    ),
    [],
  );
  // heads are core: the CLI, the edge endpoint and ingest call them, never the other way
  assertEquals(
    breaches(
      "src/head/",
      (t) => !["src/cli/", "edge/", "src/ingest/"].some((p) => t.startsWith(p)),
    ),
    [],
  );
  // camera ingest is an adapter too: its own entry (deno.json "./ingest"), never imported by the
  // core (nor by mod.ts), so that the library does not carry the camera stack
  assertEquals(
    breaches("src/", (t) => !t.startsWith("src/ingest/")).filter(
      (b) => !b.startsWith("src/ingest/") && !b.startsWith("src/cli/"),
    ),
    [],
  );
  assertEquals(breaches("mod.ts", (t) => !t.startsWith("src/ingest/")), []);
  // the edge endpoint is a thin adapter over the public entries (plus the leaf helpers)
  assertEquals(
    breaches("edge/", under("edge/", "mod.ts", "src/image/mod.ts", "src/_util.ts")),
    [],
  );
});

Deno.test("layout: no import cycle in src/, edge/ and mod.ts (static imports)", () => {
  const cycles: string[] = [];
  const state = new Map<string, "open" | "done">();
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === "done") return;
    if (state.get(file) === "open") {
      cycles.push([...path.slice(path.indexOf(file)), file].join(" -> "));
      return;
    }
    state.set(file, "open");
    for (const next of graph.get(file)?.staticOnes ?? []) visit(next, [...path, file]);
    state.set(file, "done");
  };
  for (const file of graph.keys()) visit(file, []);
  assertEquals(cycles, []);
});

Deno.test("layout: nothing that mod.ts, the classify command or the edge endpoint load imports node: or npm: code up front", async () => {
  // Either loads Deno's Node layer (some 30 ms of a cold start), npm: CommonJS its CommonJS
  // loader too; they are imported where they are needed (`import()`), or as types only.
  const seen = new Set<string>();
  const queue = ["mod.ts", "src/cli/classify.ts", "edge/main.ts"];
  const found: string[] = [];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file) || !file.endsWith(".ts")) continue;
    seen.add(file);
    const text = await Deno.readTextFile(new URL(file, ROOT));
    const upFront = /^(?:import|export)(?!\s+type\b)[^;]*?\sfrom\s+"((?:node|npm):[^"]+)"/gms;
    for (const m of text.matchAll(upFront)) found.push(`${file} -> ${m[1]}`);
    for (const m of text.matchAll(/^import\s+"((?:node|npm):[^"]+)"/gm)) {
      found.push(`${file} -> ${m[1]}`);
    }
    queue.push(...(graph.get(file)?.staticOnes ?? []));
  }
  assert(seen.size > 50, `only ${seen.size} files reached`);
  assertEquals(found, []);
});
