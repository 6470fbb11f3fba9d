/**
 * The docs, checked: every example output shown in README.md, docs/*.md and weights/*.md that
 * is marked `<!-- doc-test ... -->` (how: tests/docs/_markdown.ts) is run, and the test fails
 * when the output shown is stale (compared as tests/docs/_compare.ts says: times, timestamps
 * and the scratch path normalised, decimals within 1e-4); every relative link must resolve to a
 * file, and its anchor to a heading.
 *
 * The examples run as a user runs them, in a scratch directory standing for the user's (it
 * prints as /home/pi): `samples/` (the repository's), `photos/` (dog.jpg and zebra.jpg of the
 * fixtures, and notes.txt), `frames/empty/` and `frames/package/` (8 generated front-door
 * frames each, bench/teach_scene.ts) and `now.png` (a new frame with a package on the
 * doorstep). Each command goes through `sh`; `deno task` there is this project's (`-q`: the
 * docs leave out its `Task ...` line). `localhost:8000` is a real `deno task serve` on a free
 * loopback port, started once the examples that teach heads have run, with the heads they
 * wrote in `MOBILENET_EDGE_HEADS`. Two examples run at a time.
 */
import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { anchors, type Example, examples, jsonValues, relativeLinks } from "./docs/_markdown.ts";
import { compareJson, compareText, normalise } from "./docs/_compare.ts";
import { png } from "./head/_frames.ts";
import { sceneFrame } from "../bench/teach_scene.ts";
import { type ServeProcess, startServe, waitReady } from "./edge/_serve.ts";
import { freePort } from "./edge/_helpers.ts";
import { request } from "./docs/_curl.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const DOCS = [
  "README.md",
  ...[...Deno.readDirSync(`${ROOT}docs`)].map((e) => `docs/${e.name}`).filter((n) =>
    n.endsWith(".md")
  ).sort(),
  "weights/FORMAT.md",
  "weights/HEAD_FORMAT.md",
];
const TEXT = new Map(DOCS.map((name) => [name, Deno.readTextFileSync(`${ROOT}${name}`)]));
const TIMEOUT_MS = 120_000;

/** Where the examples run, and how. */
interface Context {
  dir: string;
  env: Record<string, string>;
  server?: Promise<ServeProcess>;
}

/** The scratch directory of the module doc, with a `bin/` put first on the PATH. */
async function scratch(): Promise<Context> {
  const dir = await Deno.makeTempDir({ prefix: "docs_test_" });
  await Deno.symlink(`${ROOT}samples`, `${dir}/samples`);
  await Deno.mkdir(`${dir}/photos`);
  await Deno.copyFile(`${ROOT}tests/fixtures/images/dog.jpg`, `${dir}/photos/dog.jpg`);
  await Deno.copyFile(
    `${ROOT}tests/fixtures/images/n02391049_zebra.JPEG`,
    `${dir}/photos/zebra.jpg`,
  );
  await Deno.writeTextFile(`${dir}/photos/notes.txt`, "not a photo\n");
  const frame = (seed: number, parcel: boolean) =>
    png(sceneFrame({ width: 320, height: 180, seed, packageSeed: parcel ? seed : undefined }));
  for (const [state, parcel, seed] of [["empty", false, 300], ["package", true, 400]] as const) {
    await Deno.mkdir(`${dir}/frames/${state}`, { recursive: true });
    for (let i = 0; i < 8; i++) {
      await Deno.writeFile(`${dir}/frames/${state}/00${i}.png`, await frame(seed + i, parcel));
    }
  }
  await Deno.writeFile(`${dir}/now.png`, await frame(906, true));
  return { dir, env: await commands(dir) };
}

/** `bin/deno` (tasks of this project, quiet), `bin/curl` where curl is missing; the env. */
async function commands(dir: string): Promise<Record<string, string>> {
  await Deno.mkdir(`${dir}/bin`);
  const deno = Deno.execPath();
  await Deno.writeTextFile(
    `${dir}/bin/deno`,
    `#!/bin/sh\nif [ "$1" = task ]; then shift; exec '${deno}' task -q --config '${ROOT}deno.json' "$@"; fi\nexec '${deno}' "$@"\n`,
    { mode: 0o755 },
  );
  const env = Deno.env.toObject();
  delete env.INIT_CWD; // deno task sets it to the directory the command runs in
  delete env.HOST; // the edge's defaults, as the docs show them
  delete env.PORT;
  const hasCurl = await new Deno.Command("sh", { args: ["-c", "command -v curl"], stdout: "null" })
    .output().then((o) => o.success);
  if (!hasCurl) {
    await Deno.writeTextFile(
      `${dir}/bin/curl`,
      `#!/bin/sh\nexec '${deno}' run --allow-read --allow-net '${ROOT}tests/docs/_curl.ts' "$@"\n`,
      { mode: 0o755 },
    );
  }
  return { ...env, PATH: `${dir}/bin:${env.PATH ?? "/usr/bin:/bin"}`, NO_COLOR: "1" };
}

/** Runs `command` with `sh` in the scratch directory (stderr into stdout when `merged`). */
async function shell(command: string, merged: boolean, context: Context) {
  let text = command;
  if (text.includes("localhost:8000")) {
    if (!context.server) throw new Error("no server for a localhost:8000 example");
    const { url } = await context.server;
    text = text.replaceAll("http://localhost:8000", url);
  }
  // A process group of its own (setsid), so that a timeout ends what the command started.
  const child = new Deno.Command("setsid", {
    args: ["sh", "-c", merged ? `exec 2>&1\n${text}` : text],
    cwd: context.dir,
    // A server that a stale example starts listens on loopback, on a port of its own.
    env: text.includes("--print-flags")
      ? context.env
      : { ...context.env, HOST: "127.0.0.1", PORT: String(freePort()) },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      Deno.kill(-child.pid, "SIGKILL");
    } catch { /* already gone */ }
  }, TIMEOUT_MS);
  const { code, stdout, stderr } = await child.output();
  clearTimeout(timer);
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code, stdout: decode(stdout), stderr: decode(stderr) };
}

/** Runs one example; returns what is stale about it, or undefined. */
async function check(example: Example, context: Context): Promise<string | undefined> {
  const stale = (command: string, found: string, stderr: string) =>
    `${example.where}: $ ${command}\n${found}${stderr ? `\n  stderr: ${stderr.slice(-600)}` : ""}`;
  if (example.kind === "transcript") {
    for (const step of example.steps) {
      const ran = await shell(step.command, example.merged, context);
      const found = compareText(normalise(step.expected), normalise(ran.stdout, context.dir));
      if (found) return stale(step.command, found, ran.stderr);
    }
    return undefined;
  }
  if (example.kind === "json") {
    const ran = await shell(example.command, false, context);
    let actual: unknown[];
    try {
      actual = jsonValues(ran.stdout, "the output");
    } catch (error) {
      return stale(example.command, `${error}: ${ran.stdout.slice(0, 300)}`, ran.stderr);
    }
    const found = compareJson(example.expected, actual, context.dir);
    return found ? stale(example.command, found, ran.stderr) : undefined;
  }
  return await script(example, context);
}

/** Runs a TypeScript example with the README's permissions; compares its stdout. */
async function script(
  example: Extract<Example, { kind: "script" }>,
  context: Context,
): Promise<string | undefined> {
  const file = `${context.dir}/example_${example.where.replace(/\W/g, "_")}.ts`;
  await Deno.writeTextFile(
    file,
    example.code.replaceAll(`"./mod.ts"`, JSON.stringify(`${ROOT}mod.ts`)),
  );
  const ran = await shell(
    `deno run --allow-read --allow-env --config '${ROOT}deno.json' '${file}'`,
    false,
    context,
  );
  const found = compareText(normalise(example.expected), normalise(ran.stdout, context.dir));
  return found ? `${example.where}: the example's output\n${found}\n${ran.stderr}` : undefined;
}

/** `run(fn)` runs at most `n` functions at a time, in the order they were given. */
function limiter(n: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

const mentions = (example: Example, word: string) =>
  example.kind === "transcript"
    ? example.steps.some((s) => s.command.includes(word))
    : example.kind === "json"
    ? example.command.includes(word)
    : example.code.includes(word);

/** The edge server of the examples, with the heads the teaching examples wrote. */
async function serve(dir: string): Promise<ServeProcess> {
  await Deno.mkdir(`${dir}/heads`);
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.endsWith(".json")) {
      await Deno.copyFile(`${dir}/${entry.name}`, `${dir}/heads/${entry.name}`);
    }
  }
  const server = await startServe({ MOBILENET_EDGE_HEADS: `${dir}/heads` });
  try {
    await waitReady(server.url);
  } catch (error) {
    throw new Error(`${error}\n${await server.stop()}`);
  }
  return server;
}

Deno.test("every example output shown in the docs is what the code prints now", async () => {
  const all = DOCS.flatMap((name) => examples(name, TEXT.get(name)!));
  assert(all.length >= 10, `only ${all.length} marked examples`);
  const context = await scratch();
  const run = limiter(2);
  const teaching = all.filter((e) => mentions(e, "task teach") && !mentions(e, "localhost"));
  const local = all.filter((e) => !teaching.includes(e) && !mentions(e, "localhost"));
  const results = new Map<Example, Promise<string | undefined>>();
  for (const e of [...teaching, ...local]) results.set(e, run(() => check(e, context)));
  context.server = Promise.allSettled(teaching.map((e) => results.get(e))).then(() =>
    serve(context.dir)
  );
  context.server.catch(() => {}); // reported by the examples that need it
  for (const e of all.filter((e) => mentions(e, "localhost"))) {
    results.set(e, context.server.then(() => run(() => check(e, context))));
  }
  const stale = (await Promise.allSettled(all.map((e) => results.get(e)!)))
    .map((r, i) => r.status === "fulfilled" ? r.value : `${all[i].where}: ${r.reason}`)
    .filter((r) => r !== undefined);
  await context.server.then((s) => s.stop(), () => {});
  await Deno.remove(context.dir, { recursive: true });
  assertEquals(stale, [], `stale examples in the docs:\n\n${stale.join("\n\n")}`);
});

Deno.test("every relative link of the docs resolves to a file, and its anchor to a heading", () => {
  const broken: string[] = [];
  for (const [name, text] of TEXT) {
    const base = new URL(name, `file://${ROOT}`);
    for (const { target, line } of relativeLinks(text)) {
      const [path, anchor] = target.split("#");
      const url = new URL(path || name.split("/").pop()!, base);
      let linked: string | undefined;
      try {
        linked = Deno.statSync(url).isFile && url.pathname.endsWith(".md")
          ? Deno.readTextFileSync(url)
          : "";
      } catch {
        broken.push(`${name}:${line}: ${target}: no such file`);
        continue;
      }
      if (anchor && linked && !anchors(linked).has(anchor)) {
        broken.push(`${name}:${line}: ${target}: no such heading`);
      }
    }
  }
  assertEquals(broken, []);
});

Deno.test("the comparison ignores times and paths, and catches a changed answer", () => {
  const shown =
    "samples/african_elephant.jpg (500x375, 119.5 ms)\n   386  African elephant  0.7024";
  const now =
    "samples/african_elephant.jpg (500x375, 619.9 ms)\n   386  African elephant  0.8566\n";
  const found = compareText(normalise(shown), normalise(now));
  assert(found?.includes("line 2 differs"), String(found));
  assertEquals(
    compareText(normalise(shown), normalise(now.replace("0.8566", "0.7025"))),
    undefined,
  );
  assertEquals(
    compareJson({ file: "/home/pi/x.jpg", timings: { totalMs: 1 } }, {
      file: "/tmp/docs_1/x.jpg",
      timings: { totalMs: 250.5 },
    }, "/tmp/docs_1"),
    undefined,
  );
  assert(compareJson({ predictions: [{ index: 386 }] }, { predictions: [{ index: 385 }] }));
});

Deno.test("the stand-in for curl sends what curl sends for the docs' flags", async () => {
  const [url, init] = await request([
    "-H",
    "content-type: image/jpeg",
    "--data-binary",
    `@${ROOT}samples/african_elephant.jpg`,
    "http://localhost:8000/v1/classify?top=3",
  ]);
  assertEquals([url, init.method], ["http://localhost:8000/v1/classify?top=3", "POST"]);
  assertEquals(new Headers(init.headers).get("content-type"), "image/jpeg");
  assertEquals((init.body as Uint8Array).length, 189739);
  const [, form] = await request(["-F", `file=@${ROOT}samples/african_elephant.jpg`, "http://x/"]);
  const file = (form.body as FormData).get("file") as File;
  assertEquals([form.method, file.name, file.type, file.size], [
    "POST",
    "african_elephant.jpg",
    "image/jpeg",
    189739,
  ]);
  await assertRejects(() => request(["--insecure", "http://x/"]), Error, "unsupported curl flag");
});
