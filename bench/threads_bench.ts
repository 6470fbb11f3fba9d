/**
 * MobileNet v1 1.0/224 (random weights) and 0.75/224 (the bundled weights) at batch 1 on each
 * WASM backend configuration:
 * threaded SIMD with 2 threads, the same pool switched to 1 thread, the single-thread SIMD
 * binary, plain WASM, and the default (`threads: "auto"` with calibration and watchdog).
 *
 * Three ways to run it:
 *
 * - `deno bench --allow-read --allow-env bench/threads_bench.ts` — Deno's bench runner.
 * - `deno run --allow-read --allow-env bench/threads_bench.ts --report [rounds]` — medians per
 *   configuration, the configurations interleaved round by round (fairer on a shared machine),
 *   with the ratios to single-thread. Start `yes > /dev/null &` first to measure with a busy core.
 * - `deno run --allow-read --allow-env bench/threads_bench.ts --startup <threads|auto>` — one process
 *   that starts the backend, builds the model and runs one inference, for `/usr/bin/time -v`
 *   (peak RSS, wall time); prints its own phase times.
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import {
  backendInfo,
  type BackendOptions,
  initBackend,
  setThreads,
  shutdownBackend,
} from "../src/backend/wasm.ts";
import { createMobileNet } from "../src/load.ts";
import { randomWeights } from "../src/model/random_weights.ts";
import { loadWeights } from "../src/weights/loader.ts";
import type { MobileNet } from "../src/mobilenet.ts";
import { median } from "../src/_util.ts";

interface Config {
  /** Options of initBackend. */
  init: BackendOptions;
  /** Active threads set after the start (same pool). */
  set?: number;
}

const CONFIGS: Record<string, Config> = {
  "threaded-simd, 2 threads": { init: { threads: 2 } },
  "threaded-simd pool, 1 thread": { init: { threads: 2 }, set: 1 },
  "simd, 1 thread": { init: { threads: 1 } },
  "plain wasm, 1 thread": { init: { simd: false } },
  "default (auto + watchdog)": { init: {} },
};
const BASELINE = "simd, 1 thread";
const ARCH = { alpha: 1, resolution: 224 } as const;
const MODELS = ["1.0/224", "0.75/224"] as const;
type ModelName = typeof MODELS[number];

const weights = new Map<ModelName, Map<string, Float32Array>>();

async function weightsOf(model: ModelName): Promise<Map<string, Float32Array>> {
  if (!weights.has(model)) {
    weights.set(
      model,
      model === "1.0/224" ? randomWeights(ARCH, 1) : (await loadWeights(
        new URL("../weights/mobilenet_v1_0.75_224/", import.meta.url),
      )).tensors,
    );
  }
  return weights.get(model)!;
}

let current: { name: string; model: MobileNet; input: tf.Tensor4D } | undefined;

async function ensure(
  name: string,
  which: ModelName = "1.0/224",
): Promise<{ model: MobileNet; input: tf.Tensor4D }> {
  const key = `${name} ${which}`;
  if (current?.name === key) return current;
  if (current) {
    current.input.dispose();
    await current.model.dispose();
    current = undefined;
  }
  await shutdownBackend();
  const config = CONFIGS[name];
  await initBackend(config.init);
  const model = await createMobileNet(await weightsOf(which), {
    alpha: which === "1.0/224" ? 1 : 0.75,
  });
  if (config.set) await setThreads(config.set);
  const input = tf.randomUniform([1, 224, 224, 3], -1, 1, "float32", 5) as tf.Tensor4D;
  model.predict(input); // first run: XNNPACK operators and weight packing
  current = { name: key, model, input };
  return current;
}

function infer(_name: string, model: MobileNet, input: tf.Tensor4D): void {
  // predict reports its own time to the watchdog when one runs (the "auto" configuration).
  model.predict(input);
}

async function report(rounds: number, perRound: number): Promise<void> {
  const names = Object.keys(CONFIGS);
  const times = new Map<string, number[]>(names.map((n) => [n, []]));
  const threadsSeen = new Map<string, Set<number>>(names.map((n) => [n, new Set()]));
  const notes = new Map<string, string>();
  for (let round = 0; round < rounds; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length]);
    for (const name of order) {
      const { model, input } = await ensure(name);
      for (let i = 0; i < perRound; i++) {
        const t0 = performance.now();
        infer(name, model, input);
        times.get(name)!.push(performance.now() - t0);
        threadsSeen.get(name)!.add(backendInfo()!.threads);
      }
      const info = backendInfo()!;
      if (info.calibration) {
        const c = info.calibration;
        notes.set(
          name,
          `calibration ${c.threadedMs.toFixed(1)}/${c.singleMs.toFixed(1)} ms -> ${c.chosen}`,
        );
      }
    }
  }
  const base = median(times.get(BASELINE)!);
  console.log(
    `MobileNet 1.0/224 batch 1, ${rounds} rounds x ${perRound} inferences, ` +
      `${navigator.hardwareConcurrency} logical cores`,
  );
  for (const name of names) {
    const t = times.get(name)!;
    const m = median(t);
    console.log(
      `${name.padEnd(30)} median ${m.toFixed(1).padStart(6)} ms  p90 ${
        t.sort((a, b) => a - b)[Math.floor(t.length * 0.9)].toFixed(1).padStart(6)
      } ms  ${(m / base).toFixed(2)}x of ${BASELINE}  threads ${
        [...threadsSeen.get(name)!].join("/")
      }${notes.has(name) ? `  (${notes.get(name)})` : ""}`,
    );
  }
  current?.model.dispose();
  current?.input.dispose();
  current = undefined;
  await shutdownBackend();
}

async function startup(threads: number | "auto"): Promise<void> {
  const t0 = performance.now();
  const info = await initBackend({ threads });
  const t1 = performance.now();
  const model = await createMobileNet(randomWeights(ARCH, 1), ARCH);
  const t2 = performance.now();
  const input = tf.randomUniform([1, 224, 224, 3], -1, 1, "float32", 5) as tf.Tensor4D;
  model.predict(input);
  const t3 = performance.now();
  console.log(JSON.stringify({
    binary: info.binary,
    threads: info.threads,
    backendMs: +(t1 - t0).toFixed(1),
    modelMs: +(t2 - t1).toFixed(1),
    firstInferenceMs: +(t3 - t2).toFixed(1),
    totalMs: +(t3 - t0).toFixed(1),
  }));
  // No shutdownBackend(): the process must exit on its own, as a CLI would.
}

const [mode, arg, arg2] = Deno.args;
if (mode === "--startup") {
  await startup(arg === "auto" ? "auto" : Number(arg ?? 2));
} else if (mode === "--report") {
  await report(Number(arg ?? 5), Number(arg2 ?? 20));
} else {
  for (const which of MODELS) {
    for (const name of Object.keys(CONFIGS)) {
      Deno.bench({
        name: `${which} ${name}`,
        group: `mobilenet ${which} batch 1`,
        baseline: name === BASELINE,
        async fn(b) {
          const { model, input } = await ensure(name, which);
          b.start();
          infer(name, model, input);
          b.end();
        },
      });
    }
  }
}
