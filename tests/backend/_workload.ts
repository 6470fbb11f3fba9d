/**
 * A MobileNet-like workload for the backend tests: the stem and three depthwise-separable blocks
 * of MobileNet v1 at 96x96 (fused conv2d / depthwiseConv2d with bias and relu6, "same" padding,
 * strides 2,1,2,1), global average pooling and a small dense top, on fixed seeded weights.
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";

/** The workload's tensors on the current backend, and how to run it. */
export interface Workload {
  /** The fixed input, shape [1, 96, 96, 3]. */
  input: tf.Tensor4D;
  /** Runs the network on `input` and returns its output (shape [1, 10]). */
  run(): tf.Tensor2D;
  /** Runs and reads the output. */
  values(): Float32Array;
  /** Frees every tensor of the workload. */
  dispose(): void;
}

interface Layer {
  kind: "conv" | "dw";
  filter: tf.Tensor4D;
  bias: tf.Tensor1D;
  stride: number;
}

/** Builds the workload's weights (seeded `tf.randomNormal`) on the active backend. */
export function mobileNetLike(seed = 7): Workload {
  let s = seed;
  const normal = (shape: number[], std: number) => tf.randomNormal(shape, 0, std, "float32", s++);
  const layers: Layer[] = [];
  const conv = (cin: number, cout: number, k: number, stride: number) =>
    layers.push({
      kind: "conv",
      filter: normal([k, k, cin, cout], Math.sqrt(2 / (k * k * cin))) as tf.Tensor4D,
      bias: normal([cout], 0.05) as tf.Tensor1D,
      stride,
    });
  const dw = (c: number, stride: number) =>
    layers.push({
      kind: "dw",
      filter: normal([3, 3, c, 1], Math.sqrt(2 / 9)) as tf.Tensor4D,
      bias: normal([c], 0.05) as tf.Tensor1D,
      stride,
    });
  conv(3, 32, 3, 2);
  dw(32, 1);
  conv(32, 64, 1, 1);
  dw(64, 2);
  conv(64, 128, 1, 1);
  dw(128, 1);
  conv(128, 128, 1, 1);
  const dense = normal([128, 10], 0.1) as tf.Tensor2D;
  const input = normal([1, 96, 96, 3], 1) as tf.Tensor4D;
  const run = () =>
    tf.tidy(() => {
      let h: tf.Tensor4D = input;
      for (const layer of layers) {
        const args = {
          x: h,
          filter: layer.filter,
          strides: layer.stride,
          pad: "same" as const,
          bias: layer.bias,
          activation: "relu6" as const,
        };
        h = layer.kind === "conv" ? tf.fused.conv2d(args) : tf.fused.depthwiseConv2d(args);
      }
      return tf.matMul(tf.mean(h, [1, 2]) as tf.Tensor2D, dense) as tf.Tensor2D;
    });
  return {
    input,
    run,
    values() {
      const out = run();
      try {
        return out.dataSync() as Float32Array;
      } finally {
        out.dispose();
      }
    },
    dispose() {
      tf.dispose([input, dense, ...layers.flatMap((l) => [l.filter, l.bias])]);
    },
  };
}
