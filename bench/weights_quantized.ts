/**
 * Quantized weights against float32: for each bundled model, writes float16, uint8 per tensor
 * and uint8 per channel copies (kernels quantized, vectors float32) to a temporary directory,
 * loads them, and classifies the 41 development photos (tests/fixtures/images, "stretch"):
 * total shard bytes, top-1 agreement with the float32 model, top-1 accuracy against the labels,
 * and the largest probability difference. Prints a table.
 *
 * Run: deno run --allow-read --allow-write --allow-env bench/weights_quantized.ts
 *
 * @module
 */
import { loadMobileNet } from "../mod.ts";
import { loadWeights } from "../src/weights/loader.ts";
import { type WriteOptions, writeWeights } from "../src/weights/writer.ts";

const fixtures = new URL("../tests/fixtures/", import.meta.url);
const rows = (await Deno.readTextFile(new URL("labels.csv", fixtures))).trim().split("\n")
  .slice(1).map((line) => {
    const [file, index] = line.split(",");
    return { file, index: Number(index) };
  });
const photos = await Promise.all(
  rows.map((r) => Deno.readFile(new URL(`images/${r.file}`, fixtures))),
);

async function probabilities(model: string | URL): Promise<Float32Array[]> {
  const m = await loadMobileNet({ model, resize: "stretch" });
  const out = [];
  for (const bytes of photos) {
    const p = await m.classify(bytes, { topK: 1000 });
    const probs = new Float32Array(1000);
    for (const { index, probability } of p) probs[index] = probability;
    out.push(probs);
  }
  m.dispose();
  return out;
}

const argmax = (p: Float32Array) => p.reduce((best, v, i) => (v > p[best] ? i : best), 0);

console.log(
  "| model | storage | bytes | vs float32 | top-1 = float32 | top-1 correct | max abs prob diff |",
);
console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
for (const name of ["0.75_224", "0.25_224"]) {
  const dir = new URL(`../weights/mobilenet_v1_${name}/`, import.meta.url);
  const source = await loadWeights(dir);
  const tensors = source.manifest.tensors.map((e) => ({
    name: e.name,
    shape: e.shape,
    data: source.tensors.get(e.name)!,
  }));
  const reference = await probabilities(dir);
  const floatBytes = source.manifest.shards.reduce((n, s) => n + s.byteLength, 0);
  const variants: [string, WriteOptions][] = [
    ["float32", {}],
    ["float16", { dtype: "float16" }],
    ["uint8 per tensor", { dtype: "uint8" }],
    ["uint8 per channel", { dtype: "uint8", perChannel: true }],
  ];
  for (const [label, options] of variants) {
    const out = await Deno.makeTempDir({ prefix: "mobilenet-quant-" });
    try {
      const written = await writeWeights(source.manifest.model, tensors, options);
      for (const [i, s] of written.manifest.shards.entries()) {
        await Deno.writeFile(`${out}/${s.file}`, written.shards[i]);
      }
      await Deno.writeTextFile(`${out}/manifest.json`, JSON.stringify(written.manifest));
      const bytes = written.shards.reduce((n, s) => n + s.byteLength, 0);
      const probs = await probabilities(out);
      let agree = 0, correct = 0, worst = 0;
      probs.forEach((p, i) => {
        if (argmax(p) === argmax(reference[i])) agree++;
        if (argmax(p) === rows[i].index) correct++;
        for (let c = 0; c < 1000; c++) worst = Math.max(worst, Math.abs(p[c] - reference[i][c]));
      });
      console.log(
        `| ${name} | ${label} | ${bytes.toLocaleString("en")} | ${
          (bytes / floatBytes * 100).toFixed(1)
        }% | ${agree}/${photos.length} | ${correct}/${photos.length} | ${worst.toExponential(1)} |`,
      );
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  }
}
