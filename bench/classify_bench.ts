/**
 * `deno bench`: one photo through `classify` (decode, resize, network, top-5) on the bundled
 * models, and the network alone on a preprocessed input.
 *
 * Run: deno bench --allow-read --allow-env bench/classify_bench.ts
 *
 * @module
 */
import { loadMobileNet } from "../mod.ts";

const photo = await Deno.readFile(new URL("../samples/african_elephant.jpg", import.meta.url));
const input = {
  data: new Float32Array(224 * 224 * 3),
  shape: [1, 224, 224, 3] as [1, 224, 224, 3],
};

for (const model of ["0.75_224", "0.25_224"]) {
  const mobilenet = await loadMobileNet({ model });
  await mobilenet.classify(photo);
  Deno.bench(`classify 500x375 JPEG, ${model}`, { group: model, baseline: true }, async () => {
    await mobilenet.classify(photo);
  });
  Deno.bench(`predict preprocessed 1x224x224x3, ${model}`, { group: model }, () => {
    mobilenet.predict(input);
  });
}
