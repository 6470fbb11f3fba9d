/**
 * Counting live tensors in tests. Reads tfjs' engine counter, which exists whether or not a
 * backend runs (`tf.memory()` throws once the last model has shut the backend down).
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";

/** Tensors alive now, on any backend. */
export function liveTensors(): number {
  return tf.engine().state.numTensors;
}
