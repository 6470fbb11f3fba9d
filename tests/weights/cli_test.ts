/**
 * The weights side of the commands: `convert`'s flags (dtype, per-channel, shard size, bad
 * values) and the progress lines `classify --verbose` prints for weights loaded over HTTP.
 */
import { assert, assertEquals } from "../_assert.ts";
import { serveDir } from "./_server.ts";
import { main as convert } from "../../src/cli/convert.ts";
import { taskFrom } from "../cli/_task.ts";

const TFJS_DIR = new URL("../fixtures/tfjs_layers/mobilenet_v1_0.25_224/", import.meta.url);
const H5 = new URL("../fixtures/keras_h5/mobilenet_2_5_224_tf_no_top.h5", import.meta.url);
const BUNDLED = new URL("../../weights/mobilenet_v1_0.25_224/", import.meta.url);
const CLASSIFY = new URL("../../src/cli/classify.ts", import.meta.url);

async function quietly(fn: () => Promise<number>): Promise<{ code: number; output: string }> {
  const lines: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  console.error = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    return { code: await fn(), output: lines.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

Deno.test("convert: --dtype and --per-channel write version-2 manifests; bad flags exit 2; a missing input is named", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mobilenet-convert-" });
  try {
    const run = (...args: string[]) => quietly(() => convert(args));
    const f16 = await run(TFJS_DIR.pathname, `${dir}/f16`, "--dtype", "float16");
    assertEquals(f16.code, 0, f16.output);
    const m16 = JSON.parse(await Deno.readTextFile(`${dir}/f16/manifest.json`));
    assertEquals(m16.formatVersion, 2);
    assertEquals(m16.tensors[0].quantization, { dtype: "float16" });
    assert(m16.generatedBy.includes("as float16"), m16.generatedBy);

    const u8 = await run(H5.pathname, `${dir}/u8`, "--dtype=uint8", "--per-channel");
    assertEquals(u8.code, 0, u8.output);
    const m8 = JSON.parse(await Deno.readTextFile(`${dir}/u8/manifest.json`));
    assertEquals(m8.tensors[0].quantization.axis, 3);
    assertEquals(
      m8.tensors.find((t: { name: string }) => t.name.endsWith("depthwise_kernel"))
        .quantization.axis,
      2,
    );

    for (
      const [args, mention] of [
        [["--dtype", "int4"], "--dtype must be one of"],
        [["--per-channel"], "--per-channel needs --dtype uint8"],
        [["--shard-size", "100"], "at least 1024"],
        [["--shard-size", "1.5"], "positive integer"],
        [["--resolution", "160"], "--resolution is for HDF5 input"],
      ] as const
    ) {
      const result = await run(TFJS_DIR.pathname, `${dir}/bad`, ...args);
      assertEquals(result.code, 2, `${args}: ${result.output}`);
      assert(result.output.includes(mention), result.output);
    }
    assertEquals((await run("only-one-argument")).code, 2);
    // A missing input is named as given, not as the model.json of a directory it is not.
    const missing = await run(`${dir}/missing.h5`, `${dir}/out`);
    assertEquals(missing.code, 1, missing.output);
    assertEquals(
      missing.output,
      `convert: cannot read ${dir}/missing.h5: no such file or directory`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task convert: relative paths are the user's directory's", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mobilenet-convert-cwd-" });
  try {
    await Deno.symlink(TFJS_DIR.pathname, `${dir}/model`);
    const { code, stdout, stderr } = await taskFrom(dir, "convert", "model", "out");
    assertEquals(code, 0, stderr);
    assert(stdout.startsWith(`wrote ${dir}/out: alpha=0.25`), stdout);
    assertEquals(JSON.parse(await Deno.readTextFile(`${dir}/out/manifest.json`)).model.alpha, 0.25);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("classify --verbose shows the load's progress and retries for a URL", async () => {
  const server = serveDir(BUNDLED, {
    fault: (file, previous) =>
      file === "manifest.json" && previous === 0 ? { status: 503 } : undefined,
  });
  // A fresh DENO_DIR: the command's Web Cache (which lives there) starts empty and is thrown away.
  const denoDir = await Deno.makeTempDir({ prefix: "mobilenet-denodir-" });
  try {
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-env",
        "--allow-net",
        CLASSIFY.pathname,
        "--model",
        server.url.href,
        "--verbose",
        "--json",
      ],
      env: { DENO_DIR: denoDir, NO_COLOR: "1" },
      stdout: "null",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(stderr);
    assertEquals(code, 0, text);
    assert(/weights: manifest: HTTP 503, attempt 2 in \d+ ms/.test(text), text);
    assert(/weights: \[#+\]\s+100%\s+1\.9\/1\.9 MB\s+2\/2 shards\s+1 retry/.test(text), text);
    assertEquals(server.count("shard-000.bin"), 1);
  } finally {
    await server.close();
    await Deno.remove(denoDir, { recursive: true });
  }
});
