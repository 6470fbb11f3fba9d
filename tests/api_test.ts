/**
 * The public API as `deno doc` and an importer see it: a small `mod.ts` led by `loadMobileNet`,
 * camera ingest as its own entry without its internals, and a module doc whose `--allow-env`
 * list names what the library reads.
 *
 * @module
 */
import { assert, assertEquals } from "./_assert.ts";
import * as core from "../mod.ts";
import * as ingest from "../src/ingest/mod.ts";
import * as image from "../src/image/mod.ts";

const ROOT = new URL("../", import.meta.url);

/** The symbols `deno doc` lists for an entry, in order, and its module doc. */
async function docOf(entry: string): Promise<{ names: string[]; moduleDoc: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", entry],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(code, 0, new TextDecoder().decode(stderr));
  const nodes = JSON.parse(new TextDecoder().decode(stdout)).nodes;
  const [module] = Object.values(nodes) as {
    module_doc?: { doc?: string };
    symbols: { name: string }[];
  }[];
  return { names: module.symbols.map((s) => s.name), moduleDoc: module.module_doc?.doc ?? "" };
}

/** The camera stack's machinery: parsers, schedulers, clocks, redaction, log formatting. */
const INGEST_INTERNALS = [
  "JpegSplitter",
  "MultipartParser",
  "multipartBoundary",
  "Backoff",
  "LatestFrameScheduler",
  "Redactor",
  "redactUrl",
  "redactingLogger",
  "systemClock",
  "formatLogRecord",
];

Deno.test("api: mod.ts is small, loadMobileNet first, the camera stack elsewhere", async () => {
  const { names } = await docOf("mod.ts");
  assert(names.length <= 64, `${names.length} symbols: ${names.join(" ")}`);
  assertEquals(names[0], "loadMobileNet");
  for (
    const name of ["MobileNet", "decodeImage", "teach", "Head", "HeadError", "CodedError"]
  ) assert(names.includes(name), name);
  for (const name of ["runIngest", "createSource", ...INGEST_INTERNALS]) {
    assert(!names.includes(name), name);
    assert(!(name in core), name);
  }
});

Deno.test("api: the ./ingest entry has the loop, sources and sinks, not their internals", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  assertEquals(config.exports, {
    ".": "./mod.ts",
    "./ingest": "./src/ingest/mod.ts",
    "./image": "./src/image/mod.ts",
  });
  const { names } = await docOf("src/ingest/mod.ts");
  for (const name of ["runIngest", "createSource", "HttpSource", "JsonLinesSink", "MqttSink"]) {
    assert(names.includes(name), name);
  }
  // Redactor is exported as a type only (an option's type); no internal is a value here
  for (const name of INGEST_INTERNALS) assert(!(name in ingest), name);
  assert(!("loadMobileNet" in ingest), "the model comes from mod.ts");
});

Deno.test("api: the ./image entry decodes images and loads neither tfjs nor the network", async () => {
  const { names } = await docOf("src/image/mod.ts");
  assertEquals(names.sort(), [
    "CodedError",
    "DecodeOptions",
    "ImageDecodeError",
    "ImageDecodeErrorCode",
    "OrientationMode",
    "Pixels",
    "decodeImage",
  ]);
  assertEquals(image.decodeImage, core.decodeImage, "the same function as mod.ts's");
  const { stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "src/image/mod.ts"],
    cwd: ROOT,
    stdout: "piped",
  }).output();
  const graph = JSON.parse(new TextDecoder().decode(stdout));
  const specifiers: string[] = graph.modules.map((m: { specifier: string }) => m.specifier);
  assert(specifiers.some((s) => s.endsWith("src/image/decode.ts")));
  for (const s of specifiers) {
    assert(!s.includes("tfjs") && !s.includes("src/model/") && !s.includes("src/backend/"), s);
  }
});

Deno.test("api: the module doc's --allow-env list is what the library reads", async () => {
  const files: string[] = [];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(new URL(dir, ROOT))) {
      const path = `${dir}${entry.name}`;
      if (entry.isDirectory && !["src/cli", "src/ingest"].includes(path)) await walk(`${path}/`);
      else if (path.endsWith(".ts")) files.push(path);
    }
  };
  await walk("src/");
  const text = (await Promise.all(files.map((f) => Deno.readTextFile(new URL(f, ROOT))))).join();
  const constants = new Map(
    [...text.matchAll(/const (\w+_ENV) = "(\w+)"/g)].map((m) => [m[1], m[2]]),
  );
  const read = new Set(
    [...text.matchAll(/\b(?:env|readEnv)\(\s*(\w+_ENV)\s*\)/g)].map((m) => constants.get(m[1])),
  );
  assert(read.size >= 4, [...read].join());
  const { moduleDoc } = await docOf("mod.ts");
  const documented = new Set([...moduleDoc.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]));
  // imagescript's decoders read IMAGESCRIPT_WASM_SIMD themselves when they load
  assertEquals([...documented].sort(), [...read, "IMAGESCRIPT_WASM_SIMD"].sort());
});
