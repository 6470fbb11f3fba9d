/**
 * The fuzzer's child process: decodes the inputs its parent sends, one after another, and
 * reports before and after each one (so the parent knows which input a hang or an abort belongs
 * to), with the CPU time it took. On request it classifies a reference photo with the real
 * model, so the parent can check that the answer never changes however hostile the inputs were.
 *
 * `deno run --allow-read --allow-env tools/fuzz/child.ts [--no-model] [--target-module URL]`;
 * started by `runner.ts`, not by hand.
 *
 * @module
 */
import process from "node:process";
import { encodeGif } from "../../tests/image/_gif.ts";
import type { Format } from "./mutator.ts";
import { type ChildEvent, FrameReader, LINE_PREFIX, OP } from "./protocol.ts";
import type { Target } from "./targets.ts";

const enc = new TextEncoder();

function send(event: ChildEvent): void {
  const line = enc.encode(`${LINE_PREFIX}${JSON.stringify(event)}\n`);
  for (let at = 0; at < line.length;) at += Deno.stdout.writeSync(line.subarray(at));
}

const args = Deno.args;
const moduleAt = args.indexOf("--target-module");
const targetModule = moduleAt >= 0
  ? args[moduleAt + 1]
  : new URL("./targets.ts", import.meta.url).href;
const { createTarget } = await import(targetModule) as {
  createTarget(format: Format): Target;
};
const PHOTO = new URL("../../samples/african_elephant.jpg", import.meta.url);
const photo = await Deno.readFile(PHOTO);

// Warm up: compile the decoders' WASM now, not during the first input.
await createTarget("jpeg").run(photo);
await createTarget("gif").run(encodeGif(new Uint8Array(4 * 4 * 3), 4, 4));

let classify: (() => Promise<string>) | undefined;
if (!args.includes("--no-model")) {
  const { loadMobileNet } = await import("../../mod.ts");
  const model = await loadMobileNet({ threads: 1 });
  classify = async () => JSON.stringify(await model.classify(photo, { topK: 5 }));
}

// Keep the event loop alive, so that an input that awaits forever is a hang (the parent's wall
// bound), not an exit.
setInterval(() => {}, 1 << 30);
send({ ev: "ready", pid: Deno.pid });
const frames = new FrameReader(Deno.stdin.readable);
for (let id = 0;; id++) {
  const frame = await frames.next();
  if (!frame || frame.op === OP.quit) break;
  if (frame.op === OP.check) {
    send({ ev: "check", answer: classify ? await classify() : "no model" });
    continue;
  }
  send({ ev: "start", id });
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const verdict = await createTarget(frame.format).run(frame.payload);
  const used = process.cpuUsage(cpu);
  send({
    ev: "done",
    id,
    verdict,
    cpuMs: Math.round((used.user + used.system) / 1000),
    wallMs: Math.round(performance.now() - t0),
  });
}
Deno.exit(0);
