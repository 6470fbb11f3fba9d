/**
 * Development tool: compares register-tile shapes of the pointwise kernel on the thirteen 1x1
 * layers of MobileNet v1 1.0/224, one thread, on a memory of its own (no tfjs). Builds each
 * shape with `build.sh` (`EMBED=0`), then times every build on every layer, interleaved, in
 * process CPU time (`process.cpuUsage`: less disturbed than wall time when the machine is shared).
 *
 * ```sh
 * deno run -A tools/pointwise_wasm/tiles.ts [--tiles 6x8,5x8,4x8,8x8,4x16] [--builds relaxed,muladd]
 *   [--block-kib 128] [--reps 30]
 * ```
 *
 * @module
 */
import process from "node:process";
import { median } from "../../src/_util.ts";
import { parseArgs } from "../../src/cli/parse_args.ts";
import { POINTWISE_LAYERS } from "../../bench/pointwise_bench.ts";

interface Kernel {
  pw_mr(): number;
  pw_nr(): number;
  pw_pack(b: number, packed: number, k: number, n: number): void;
  pw_run(...args: number[]): void;
}

const args = parseArgs(Deno.args, { string: ["tiles", "builds", "block-kib", "reps"] });
const str = (v: unknown, d: string) => (typeof v === "string" ? v : d);
const tiles = str(args.tiles, "6x8,5x8,4x8,8x8,4x16").split(",");
const builds = str(args.builds, "relaxed,muladd").split(",");
const blockBytes = Number(str(args["block-kib"], "128")) * 1024;
const reps = Number(str(args.reps, "30"));

const memory = new WebAssembly.Memory({ initial: 2048 }); // 128 MiB
const heap = new Float32Array(memory.buffer);
const kernels: [string, Kernel][] = [];
for (const tile of tiles) {
  const [mr, nr] = tile.split("x");
  const out = await Deno.makeTempDir({ prefix: `pointwise_${tile}_` });
  const built = await new Deno.Command(new URL("build.sh", import.meta.url).pathname, {
    env: { MR: mr, NR: nr, EMBED: "0", APT: "0", OUT: out },
    stdout: "null",
  }).output();
  if (!built.success) throw new Error(`build of ${tile} failed`);
  for (const build of builds) {
    const module = new WebAssembly.Module(await Deno.readFile(`${out}/${build}.wasm`));
    const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
    kernels.push([`${build} ${tile}`, exports as unknown as Kernel]);
  }
  await Deno.remove(out, { recursive: true });
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const totals = new Map<string, number>();
for (const [size, k, n] of POINTWISE_LAYERS) {
  const m = size * size;
  // A, B, bias, C, packed panels: 64-byte aligned blocks
  const at = (floats: number, from: number) => from + Math.ceil(floats / 16) * 64;
  const a = 1 << 20, b = at(m * k, a), bias = at(k * n, b), c = at(n, bias), packed = at(m * n, c);
  for (let i = 0; i < m * k; i++) heap[a / 4 + i] = Math.random() * 2 - 1;
  for (let i = 0; i < k * n; i++) heap[b / 4 + i] = Math.random() * 0.1;
  const samples = kernels.map((): number[] => []);
  for (let r = 0; r < reps; r++) {
    kernels.forEach(([, kernel], i) => {
      const mr = kernel.pw_mr(), nr = kernel.pw_nr();
      kernel.pw_pack(b, packed, k, n);
      const mc = Math.max(mr, Math.floor(blockBytes / (4 * k) / mr) * mr);
      const t0 = cpuMs();
      kernel.pw_run(a, packed, bias, c, 0, m, 0, Math.ceil(n / nr), k, n, 0, 6, mc);
      samples[i].push(cpuMs() - t0);
    });
  }
  const row = kernels.map(([name], i) => {
    const ms = median(samples[i]);
    totals.set(name, (totals.get(name) ?? 0) + ms);
    return `${name} ${((2 * m * k * n) / ms / 1e6).toFixed(1)}`;
  });
  console.log(`${size}x${size} ${k}->${n} (GFLOP/s): ${row.join(", ")}`);
}
const flops = POINTWISE_LAYERS.reduce((s, [size, k, n]) => s + 2 * size * size * k * n, 0);
for (const [name, ms] of totals) {
  console.log(
    `${name}: 13 layers ${ms.toFixed(2)} ms CPU, ${(flops / ms / 1e6).toFixed(1)} GFLOP/s`,
  );
}
