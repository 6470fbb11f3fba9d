/**
 * A child process for `probe_test.ts`: an edge platform that pretends to have threads
 * (`_edge_globals.ts`) from its first line on. For each thread option given as an argument
 * (`auto`, `2`, ...), it loads the default model, classifies the sample photo and prints one JSON
 * line of what the backend ran on; then it disposes the model and puts the globals back.
 *
 * @module
 */
import { emulateEdgeGlobals } from "./_edge_globals.ts";

const restore = emulateEdgeGlobals();
// Imported only now, so that no module of ours sees the real globals.
const { backendInfo, loadMobileNet } = await import("../../mod.ts");
const { liveWorkerCount } = await import("../../src/backend/wasm.ts");
const bytes = await Deno.readFile(new URL("../../samples/african_elephant.jpg", import.meta.url));
for (const arg of Deno.args) {
  const threads = arg === "auto" ? "auto" : Number(arg);
  const model = await loadMobileNet({ threads, resize: "stretch" }); // the reference numbers stretch
  try {
    const [top] = await model.classify(bytes, { topK: 1 });
    const info = backendInfo()!;
    console.log(JSON.stringify({
      threads: arg,
      binary: info.binary,
      simd: info.simd,
      active: info.threads,
      maxThreads: info.maxThreads,
      adaptive: info.adaptive,
      reason: info.reason,
      workers: liveWorkerCount(),
      top,
    }));
  } finally {
    await model.dispose();
  }
}
restore();
