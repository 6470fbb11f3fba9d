/**
 * The library as another project sees it: a throw-away consumer project in a temporary folder
 * (its own deno.json, no import map, not under this repository) imports `mod.ts` by `file:` URL
 * and over HTTP, and classifies the sample photo in a child `deno run` with the permissions the
 * README documents. The child shares the parent's DENO_DIR, so the pinned npm packages are not
 * downloaded again.
 *
 * @module
 */
import { assert, assertEquals } from "./_assert.ts";
import { serveDir } from "./weights/_server.ts";

const REPO = new URL("../", import.meta.url);
const SAMPLE = new URL("samples/african_elephant.jpg", REPO);
const BUNDLED = new URL("weights/mobilenet_v1_0.75_224/manifest.json", REPO);

/** What a consumer writes: import, load, classify, print the top class as JSON, dispose. */
function consumerScript(moduleUrl: string): string {
  return [
    `import { loadMobileNet } from ${JSON.stringify(moduleUrl)};`,
    // No shard cache: the HTTP case must fetch every shard, and a test leaves nothing behind.
    "const model = await loadMobileNet({ cache: false });",
    "try {",
    "  const [top] = await model.classify(await Deno.readFile(Deno.args[0]), { topK: 1 });",
    "  console.log(JSON.stringify(top));",
    "} finally {",
    "  await model.dispose();",
    "}",
    "",
  ].join("\n");
}

/** Writes the consumer project and runs it with `flags`; returns the child's exit and output. */
async function runConsumer(moduleUrl: string, flags: string[]) {
  const dir = await Deno.makeTempDir({ prefix: "mobilenet-edge-consumer-" });
  try {
    await Deno.writeTextFile(`${dir}/deno.json`, JSON.stringify({ name: "@example/consumer" }));
    await Deno.writeTextFile(`${dir}/main.ts`, consumerScript(moduleUrl));
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", ...flags, "main.ts", SAMPLE.pathname],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Asserts that the child printed the African elephant (ImageNet class 386) as top-1. */
function assertElephant(run: { code: number; stdout: string; stderr: string }): void {
  assertEquals(run.code, 0, `consumer failed:\n${run.stderr}`);
  const top = JSON.parse(run.stdout.trim());
  assertEquals(top.index, 386);
  assertEquals(top.label, "African elephant");
  assert(top.probability > 0.5, `probability ${top.probability}`);
}

/** The folder where the child's DENO_DIR keeps modules fetched from a loopback port. */
async function remoteCacheDir(port: number): Promise<string | undefined> {
  const { stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output();
  const cache = JSON.parse(new TextDecoder().decode(stdout)).modulesCache;
  return typeof cache === "string" ? `${cache}/http/127.0.0.1_PORT${port}` : undefined;
}

Deno.test("another project imports mod.ts by file: URL and classifies the sample photo", async () => {
  const run = await runConsumer(new URL("mod.ts", REPO).href, ["--allow-read", "--allow-env"]);
  assertElephant(run);
});

Deno.test("another project imports mod.ts over HTTP; the bundled weights come over HTTP too", async () => {
  const server = serveDir(REPO);
  const host = server.url.host;
  try {
    const run = await runConsumer(new URL("mod.ts", server.url).href, [
      `--allow-import=${host}`,
      `--allow-net=${host}`,
      "--allow-read",
      "--allow-env",
    ]);
    assertElephant(run);
    // The weights were resolved relative to the served module, not read from this disk.
    const manifest = JSON.parse(await Deno.readTextFile(BUNDLED));
    const shards = manifest.shards.map((s: { file: string }) =>
      `weights/mobilenet_v1_0.75_224/${s.file}`
    );
    assertEquals(server.count("weights/mobilenet_v1_0.75_224/manifest.json"), 1);
    for (const shard of shards) assertEquals(server.count(shard), 1, shard);
    assert(server.count("src/image/jpeg/turbo_wasm.ts") === 1, "the modules came over HTTP");
  } finally {
    await server.close();
    // The child cached the served modules under this one-off port; nothing else will use them.
    const stale = await remoteCacheDir(Number(server.url.port));
    if (stale) await Deno.remove(stale, { recursive: true }).catch(() => {});
  }
});
