/**
 * Child of `tests/vendor_test.ts`: runs the classify command on the sample photo (0.25/224) with
 * every getter of a Node global that Deno loads lazily (`process`, `Buffer`, `setImmediate`,
 * `clearImmediate`), and WebGPU's `GPUBuffer`, watched, and prints `{ code, trapped, touched }`: the command's exit code,
 * the globals watched, and each read of one with where it came from. Reading any of them loads
 * Deno's Node layer (some 30 ms of a cold start; `GPUBuffer` its WebGPU layer, 3-4 ms), as does
 * importing a `node:` module (the static imports are checked by `tests/layout_test.ts`). The
 * timers (`setTimeout`) load part of the Node layer too (some 9 ms), but the library needs them.
 */
const touched: string[] = [];
const trapped: string[] = [];
for (const name of ["process", "Buffer", "setImmediate", "clearImmediate", "GPUBuffer"]) {
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, name);
  const get = descriptor?.get;
  if (!descriptor || !get) continue;
  trapped.push(name);
  Object.defineProperty(globalThis, name, {
    ...descriptor,
    get() {
      touched.push(`${name}: ${new Error().stack?.split("\n")[2]?.trim()}`);
      return get.call(this);
    },
  });
}
const { main } = await import("../src/cli/classify.ts");
const code = await main(["--model", "0.25_224", "samples/african_elephant.jpg"]);
console.log(JSON.stringify({ code, trapped, touched }));
