/**
 * The weights format: converting TF.js layers files, writing shards, loading them back
 * bit-identically, and refusing broken sets with an error that names the problem.
 */
import { minimalManifest } from "./_manifest.ts";
import { liveTensors } from "../_tensors.ts";
import { assert, assertEquals, assertRejects } from "../_assert.ts";
import { readTfjsLayers } from "../../src/weights/convert/tfjs_layers.ts";
import { writeWeights } from "../../src/weights/writer.ts";
import { loadWeights, openWeights } from "../../src/weights/loader.ts";
import {
  FORMAT_VERSION,
  FORMAT_VERSION_FLOAT32,
  validateManifest,
} from "../../src/weights/manifest.ts";
import { sha256Hex } from "../../src/weights/sha256.ts";
import { WeightsError } from "../../src/errors.ts";
import { concatBytes } from "../../src/_util.ts";
import { loadMobileNet } from "../../mod.ts";

const TFJS = new URL("../fixtures/tfjs_layers/mobilenet_v1_0.25_224/model.json", import.meta.url);
const BUNDLED = new URL("../../weights/mobilenet_v1_0.25_224/", import.meta.url);

async function saveTo(dir: string, written: Awaited<ReturnType<typeof writeWeights>>) {
  await Promise.all(
    written.shards.map((s, i) => Deno.writeFile(`${dir}/${written.manifest.shards[i].file}`, s)),
  );
  await Deno.writeTextFile(`${dir}/manifest.json`, JSON.stringify(written.manifest));
}

async function copyBundled(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "mobilenet-weights-" });
  for await (const entry of Deno.readDir(BUNDLED)) {
    await Deno.copyFile(new URL(entry.name, BUNDLED), `${dir}/${entry.name}`);
  }
  return dir;
}

Deno.test("TF.js layers -> our format -> loaded tensors are bit-identical, in network order", async () => {
  const source = await readTfjsLayers(TFJS);
  assertEquals(source.config, {
    architecture: "mobilenet_v1",
    alpha: 0.25,
    depthMultiplier: 1,
    resolution: 224,
    classes: 1000,
    includeTop: true,
    labels: "imagenet",
  });
  const written = await writeWeights(source.config, source.tensors, { shardSize: 64 * 1024 });
  // Plain float32 sets are written as version 1, readable by every release.
  assertEquals(written.manifest.formatVersion, FORMAT_VERSION_FLOAT32);
  assertEquals(written.manifest.tensors[0].name, "conv1/kernel");
  assertEquals(written.manifest.tensors.at(-1)!.name, "conv_preds/bias");
  // conv_preds/kernel (1 MB) spans several 64 KiB shards.
  assert(written.manifest.shards.length > 20);
  for (const [i, shard] of written.shards.entries()) {
    assertEquals(await sha256Hex(shard), written.manifest.shards[i].sha256);
  }
  const dir = await Deno.makeTempDir();
  try {
    await saveTo(dir, written);
    const loaded = await loadWeights(dir);
    assertEquals(loaded.tensors.size, 137);
    for (const t of source.tensors) {
      const got = loaded.tensors.get(t.name)!;
      assertEquals(
        new Uint8Array(got.buffer, got.byteOffset, got.byteLength),
        new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
        t.name,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("release() frees the shards' buffer: the tensors yielded before are empty after it", async () => {
  const opened = await openWeights(BUNDLED);
  const seen: Float32Array[] = [];
  for await (const { data } of opened.tensors()) seen.push(data);
  assertEquals(seen.length, 137);
  assertEquals(seen.reduce((n, d) => n + d.length, 0), 475544);
  opened.release();
  assert(seen.every((d) => d.length === 0 && d.buffer.byteLength === 0));
  opened.release(); // a second release does nothing
});

Deno.test("the bundled weights equal a fresh conversion of the TF.js files", async () => {
  const source = await readTfjsLayers(TFJS);
  const bundled = await loadWeights(BUNDLED);
  for (const t of source.tensors) assertEquals(bundled.tensors.get(t.name), t.data, t.name);
});

Deno.test("broken weight sets are refused with the problem named, leaving no tensor", async (t) => {
  (await loadMobileNet({ model: "0.25_224" })).dispose(); // start the backend first
  const cases: [string, (dir: string) => Promise<void>, string, string][] = [
    ["missing shard", (dir) => Deno.remove(`${dir}/shard-001.bin`), "NOT_FOUND", "shard-001.bin"],
    [
      "corrupt shard",
      async (dir) => {
        const bytes = await Deno.readFile(`${dir}/shard-000.bin`);
        bytes[1000] ^= 0xff;
        await Deno.writeFile(`${dir}/shard-000.bin`, bytes);
      },
      "HASH_MISMATCH",
      "shard-000.bin",
    ],
    [
      "truncated shard",
      async (dir) => {
        const bytes = await Deno.readFile(`${dir}/shard-001.bin`);
        await Deno.writeFile(`${dir}/shard-001.bin`, bytes.subarray(0, 1000));
      },
      "TRUNCATED",
      "1000 bytes",
    ],
    [
      "shard with a byte more",
      async (dir) => {
        const bytes = await Deno.readFile(`${dir}/shard-001.bin`);
        await Deno.writeFile(`${dir}/shard-001.bin`, concatBytes([bytes, Uint8Array.of(0)]));
      },
      "HASH_MISMATCH",
      "more than the",
    ],
    [
      "newer format version",
      async (dir) => {
        const m = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
        m.formatVersion = FORMAT_VERSION + 1;
        await Deno.writeTextFile(`${dir}/manifest.json`, JSON.stringify(m));
      },
      "UNSUPPORTED_VERSION",
      `version ${FORMAT_VERSION + 1}`,
    ],
    [
      "shape not fitting the declared alpha",
      async (dir) => {
        const m = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
        m.model.alpha = 0.5;
        await Deno.writeTextFile(`${dir}/manifest.json`, JSON.stringify(m));
      },
      "SHAPE_MISMATCH",
      "conv1/kernel",
    ],
    [
      "manifest that is not JSON",
      (dir) => Deno.writeTextFile(`${dir}/manifest.json`, "{oops"),
      "BAD_MANIFEST",
      "JSON",
    ],
  ];
  for (const [name, breakIt, code, mention] of cases) {
    await t.step(name, async () => {
      const dir = await copyBundled();
      try {
        await breakIt(dir);
        for (const stream of [false, true]) {
          const before = liveTensors();
          const error = await assertRejects(async () => {
            const model = await loadMobileNet({ model: dir, stream });
            await model.loaded; // a streaming load reports a broken shard here
          }, WeightsError);
          assertEquals(error.code, code, error.message);
          assert(error.message.includes(mention), `${error.message} should mention ${mention}`);
          assertEquals(liveTensors(), before, "no tensor left on the backend");
        }
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  }
});

Deno.test("manifest validation names the bad field", () => {
  const good = minimalManifest();
  validateManifest(good);
  const bad = (patch: (m: typeof good) => void, mention: string) => {
    const m = structuredClone(good);
    patch(m);
    try {
      validateManifest(m);
    } catch (error) {
      assert(error instanceof WeightsError);
      assert((error as Error).message.includes(mention), (error as Error).message);
      return;
    }
    throw new Error(`expected a failure mentioning ${mention}`);
  };
  bad((m) => (m.format = "other"), "format");
  bad((m) => (m.shards[0].file = "../etc/passwd"), "relative file name");
  bad((m) => (m.shards[0].sha256 = "xyz"), "sha256");
  bad((m) => (m.tensors[0].byteLength = 4), "does not fit shape");
  bad((m) => (m.tensors[0].offset = 8), "offset");
  bad((m) => m.tensors.push({ ...m.tensors[0] }), "appears twice");
  // the optional int8 calibration (no format version: older readers ignore it)
  const int8 = (value: unknown) => (m: typeof good) => Object.assign(m, { int8: value });
  validateManifest({
    ...good,
    int8: { scales: { conv_pw_1: 0.05 }, means: { conv_pw_1: [0, 1.5] } },
  });
  bad(int8("yes"), "int8 must be an object");
  bad(int8({ means: {} }), "int8.scales must be an object");
  bad(int8({ scales: { conv_pw_1: 0 } }), "int8.scales.conv_pw_1");
  bad(int8({ scales: { conv_pw_1: "0.05" } }), "int8.scales.conv_pw_1");
  bad(int8({ scales: {}, means: { conv_pw_2: [1, null] } }), "int8.means.conv_pw_2");
  bad(int8({ scales: {}, calibration: 3 }), "int8.calibration");
});

Deno.test("bad load options are refused before anything is read", async () => {
  await assertRejects(() => loadWeights(BUNDLED, { concurrency: 0 }), RangeError, "concurrency");
  await assertRejects(() => loadWeights(BUNDLED, { retries: -1 }), RangeError, "retries");
  await assertRejects(() => loadWeights(BUNDLED, { timeoutMs: NaN }), RangeError, "timeoutMs");
  await assertRejects(
    () => loadWeights("http://127.0.0.1:9/weights/", { cache: "yes" as never }),
    TypeError,
    "cache must be",
  );
});
