// A user's program for tests/vendor_test.ts: their own tfjs-core (npm) first, then this library
// (whose tfjs is src/vendor/tfjs.js). Prints the top class of a tensor made with their copy and of
// the same values as plain data, and whether both copies see one engine.
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import { loadMobileNet } from "../mod.ts";

const model = await loadMobileNet({ model: "0.25_224", threads: 1 });
const data = new Float32Array(224 * 224 * 3).map((_, i) => Math.sin(i / 7));
const theirs = tf.tensor4d(data, [1, 224, 224, 3]);
const fromTensor = model.predict(theirs);
const fromData = model.predict({ data, shape: [1, 224, 224, 3] });
const same = fromTensor.every((v, i) => v === fromData[i]);
console.log(JSON.stringify({ same, backend: tf.getBackend(), tensors: tf.memory().numTensors }));
theirs.dispose();
await model.dispose();
