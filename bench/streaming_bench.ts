/**
 * Time to first result over a slow link: a local HTTP server (127.0.0.1) throttled to 2 MB/s
 * for all responses together, no cache. "load, then run" awaits `loadMobileNet` (every weight)
 * and then classifies the sample photo; "streamed" uses `stream: true` and classifies at once,
 * so decoding, preprocessing and the backbone overlap the download. Also the headless embedding
 * (which needs no classifier shards). Prints medians and the ratio streamed / load-then-run.
 *
 * Run: deno run --allow-read --allow-env --allow-net bench/streaming_bench.ts [runs] [bytes/s]
 *
 * @module
 */
import { loadMobileNet, type LoadMobileNetOptions } from "../mod.ts";
import { serveDir } from "../tests/weights/_server.ts";

const runs = Number(Deno.args[0] ?? 5);
const rate = Number(Deno.args[1] ?? 2e6);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const photo = await Deno.readFile(new URL("../samples/african_elephant.jpg", import.meta.url));

(await loadMobileNet({ model: "0.25_224" })).dispose(); // backend start-up is not measured

async function firstResult(
  options: LoadMobileNetOptions,
  task: "classify" | "embed",
): Promise<{ ms: number; afterLoadMs: number }> {
  const t0 = performance.now();
  const model = await loadMobileNet({ ...options, cache: false });
  let loadedAt = 0;
  const loaded = model.loaded.then(() => (loadedAt = performance.now()));
  if (task === "classify") await model.classify(photo);
  else await model.embed(photo);
  const done = performance.now();
  await loaded;
  model.dispose();
  // How long the result took after the last weight was in (0 if it came first).
  return { ms: done - t0, afterLoadMs: Math.max(0, done - loadedAt) };
}

console.log(`time to first result at ${rate / 1e6} MB/s, median of ${runs} runs\n`);
console.log(
  "| model | task | load, then run (ms) | streamed (ms) | streamed / load-then-run " +
    "| after the last weight: load-then-run / streamed (ms) |",
);
console.log("| --- | --- | ---: | ---: | ---: | ---: |");
for (const name of ["0.75_224", "0.25_224"]) {
  const dir = new URL(`../weights/mobilenet_v1_${name}/`, import.meta.url);
  const server = serveDir(dir, { bytesPerSecond: rate });
  try {
    for (const task of ["classify", "embed"] as const) {
      const base: LoadMobileNetOptions = { model: server.url, headless: task === "embed" };
      const full = [];
      const streamed = [];
      for (let i = 0; i < runs; i++) {
        full.push(await firstResult(base, task));
        streamed.push(await firstResult({ ...base, stream: true }, task));
      }
      const a = median(full.map((r) => r.ms));
      const b = median(streamed.map((r) => r.ms));
      const tailA = median(full.map((r) => r.afterLoadMs));
      const tailB = median(streamed.map((r) => r.afterLoadMs));
      const what = task === "embed" ? "embed (headless)" : "classify";
      console.log(
        `| ${name} | ${what} | ${a.toFixed(0)} | ${b.toFixed(0)} | ${(b / a).toFixed(3)} ` +
          `| ${tailA.toFixed(1)} / ${tailB.toFixed(1)} |`,
      );
    }
  } finally {
    await server.close();
  }
}
