/**
 * Cold-load times of the bundled weights: from disk (a `file:` directory), from a local HTTP
 * server (127.0.0.1, unthrottled, no cache), and from the shard cache (the same server, every
 * shard already cached: only the manifest is requested), for the directory cache and the Web
 * Cache API. Each time is a whole `loadMobileNet` (manifest, shards, sha256, dequantize, upload)
 * after the backend has started; prints medians.
 *
 * Run: deno run --allow-read --allow-write --allow-env --allow-net bench/weights_load.ts [runs]
 *
 * @module
 */
import { loadMobileNet, type LoadMobileNetOptions } from "../mod.ts";
import { serveDir } from "../tests/weights/_server.ts";

const runs = Number(Deno.args[0] ?? 9);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function time(options: LoadMobileNetOptions): Promise<number> {
  const t0 = performance.now();
  const model = await loadMobileNet(options);
  const ms = performance.now() - t0;
  model.dispose();
  return ms;
}

(await loadMobileNet({ model: "0.25_224" })).dispose(); // backend start-up is not measured

const rows: string[][] = [];
for (const name of ["0.75_224", "0.25_224"]) {
  const dir = new URL(`../weights/mobilenet_v1_${name}/`, import.meta.url);
  const server = serveDir(dir);
  const cacheDir = await Deno.makeTempDir({ prefix: "mobilenet-bench-cache-" });
  const cacheName = `mobilenet-edge-bench-${crypto.randomUUID()}`;
  try {
    const cases: [string, LoadMobileNetOptions][] = [
      ["disk (file:)", { model: dir }],
      ["localhost HTTP, no cache", { model: server.url, cache: false }],
      ["cache: directory", { model: server.url, cache: { dir: cacheDir } }],
      ["cache: Web Cache API", { model: server.url, cache: { name: cacheName } }],
    ];
    for (const [label, options] of cases) {
      await time(options); // warm-up (and fills the cache)
      const before = server.requests.filter((r) => r.startsWith("shard-")).length;
      const times = [];
      for (let i = 0; i < runs; i++) times.push(await time(options));
      const shardRequests = server.requests.filter((r) => r.startsWith("shard-")).length - before;
      rows.push([name, label, median(times).toFixed(1), String(shardRequests)]);
    }
  } finally {
    await server.close();
    await caches.delete(cacheName);
    await Deno.remove(cacheDir, { recursive: true });
  }
}
console.log(`cold loadMobileNet, median of ${runs} runs (backend already started)\n`);
console.log("| model | from | median ms | shard requests during the runs |");
console.log("| --- | --- | ---: | ---: |");
for (const r of rows) console.log(`| ${r.join(" | ")} |`);
