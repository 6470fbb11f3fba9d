/**
 * A child process for `huge_pages_test.ts`: advises a fresh WASM memory, writes 8 MiB of it,
 * and prints what `adviseHugePages` said and the memory's `AnonHugePages` from
 * `/proc/self/smaps` (kB, with `--allow-all`); then loads the bundled 0.25 model, runs one fixed input, and prints
 * `backendInfo().hugePages` and the probabilities.
 *
 * @module
 */
import { adviseHugePages } from "../src/huge_pages.ts";
import { backendInfo, loadMobileNet } from "../mod.ts";

const memory = new WebAssembly.Memory({ initial: 256 });
const said = adviseHugePages(memory);
new Uint8Array(memory.buffer, 0, 8 << 20).fill(1);
/** The memory's `AnonHugePages` in kB, or -1 (`/proc/self/smaps` needs `--allow-all`). */
function anonHugeKb(): number {
  try {
    const pointer = Deno.UnsafePointer.of(memory.buffer as ArrayBuffer);
    const start = `${Deno.UnsafePointer.value(pointer).toString(16)}-`;
    const smaps = Deno.readTextFileSync("/proc/self/smaps").split("\n");
    const at = smaps.findIndex((line) => line.startsWith(start));
    const huge = smaps.slice(at + 1).find((line) => line.startsWith("AnonHugePages:"));
    return at < 0 ? -1 : Number(huge?.match(/(\d+) kB/)?.[1] ?? -1);
  } catch {
    return -1;
  }
}
const model = await loadMobileNet({ model: "0.25_224", threads: 1 });
const data = new Float32Array(224 * 224 * 3).map((_, i) => Math.sin(i) * 0.9);
const probabilities = model.predict({ data, shape: [1, 224, 224, 3] });
console.log(JSON.stringify({
  said,
  anonHugeKb: anonHugeKb(),
  backend: backendInfo()?.hugePages,
  probabilities: [...probabilities],
}));
await model.dispose();
