/**
 * Agreement with the reference pipeline (tfjs-layers on the CPU backend, see
 * tests/fixtures/README.md): the stored input tensors give the reference logits and
 * probabilities, fused and unfused, for both bundled models; the photos give the reference's
 * top-1 wherever its margin is clear.
 */
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import { assertAllClose, assertEquals } from "../_assert.ts";
import { readImage, readInput, readReference } from "../_fixtures.ts";
import { buildArchitecture } from "../../src/model/architecture.ts";
import { MobileNetNetwork } from "../../src/model/mobilenet.ts";
import { initBackend } from "../../src/backend/wasm.ts";
import { loadWeights } from "../../src/weights/loader.ts";
import { loadMobileNet } from "../../mod.ts";

const MODELS = ["0.75_224", "0.25_224"] as const;

for (const model of MODELS) {
  for (const fused of [true, false]) {
    Deno.test(`${model} ${fused ? "fused" : "unfused"}: stored inputs give the reference logits (5e-3) and probabilities (2e-4)`, async () => {
      await initBackend();
      const { manifest, tensors } = await loadWeights(
        new URL(`../../weights/mobilenet_v1_${model}/`, import.meta.url),
      );
      const network = new MobileNetNetwork(buildArchitecture({ alpha: manifest.model.alpha }), {
        fused,
      });
      for (const [name, data] of tensors) network.addWeight(name, data);
      const reference = (await readReference(model)).filter((e) => e.logits);
      assertEquals(reference.length, 5);
      let worstLogit = 0;
      let worstProb = 0;
      for (const entry of reference) {
        const input = tf.tensor4d(await readInput(entry.file), [1, 224, 224, 3]);
        const logits = network.run(input, "logits");
        const probs = network.run(input, "probabilities");
        worstLogit = Math.max(
          worstLogit,
          assertAllClose(logits.dataSync(), entry.logits!, 5e-3, `${entry.file} logits`),
        );
        worstProb = Math.max(
          worstProb,
          assertAllClose(probs.dataSync(), entry.probs!, 2e-4, `${entry.file} probabilities`),
        );
        tf.dispose([input, logits, probs]);
      }
      network.dispose();
      console.log(
        `  max |logit diff| ${worstLogit.toExponential(2)}, max |prob diff| ${
          worstProb.toExponential(2)
        }`,
      );
    });
  }

  Deno.test(`${model}: photos (stretch) give the reference top-1 wherever its top-1/top-2 gap > 0.02`, async () => {
    const mobilenet = await loadMobileNet({ model, resize: "stretch" });
    const reference = await readReference(model);
    assertEquals(reference.length, 41);
    let checked = 0;
    let same = 0;
    for (const entry of reference) {
      const [top] = await mobilenet.classify(await readImage(entry.file), { topK: 1 });
      if (top.index === entry.top5_indices[0]) same++;
      if (entry.top5_probs[0] - entry.top5_probs[1] > 0.02) {
        checked++;
        assertEquals(top.index, entry.top5_indices[0], `${entry.file}: top-1`);
      }
    }
    mobilenet.dispose();
    console.log(
      `  same top-1 as reference: ${same}/41 (${checked} with a clear margin, all equal)`,
    );
  });
}

Deno.test("the sample elephant photo's top-1 is African elephant (default 0.75 model)", async () => {
  const bytes = await Deno.readFile(new URL("../../samples/african_elephant.jpg", import.meta.url));
  // The reference pipeline stretches.
  const mobilenet = await loadMobileNet({ resize: "stretch" });
  const [top, second] = await mobilenet.classify(bytes, { topK: 2 });
  mobilenet.dispose();
  assertEquals([top.index, top.label], [386, "African elephant"]);
  assertEquals([second.index, second.label], [385, "Indian elephant"]);
  // The reference gives 0.708; our decoder differs slightly from jpeg-js.
  assertAllClose([top.probability], [0.708], 0.03, "African elephant probability");
});
