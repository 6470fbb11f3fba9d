/**
 * The part both ONNX Runtime runners share (`ort_runner.ts`: onnxruntime-web, `native_runner.ts`:
 * onnxruntime-node, which have the same session API): for each case, our network exported with
 * {@linkcode exportOnnx}, one session, `run` timed on the stored input.
 *
 * @module
 */
import { buildArchitecture } from "../../src/model/architecture.ts";
import { exportOnnx, ONNX_INPUT_NAME } from "../export/onnx.ts";
import { benchInput, CASES, caseWeights, INPUT_SHAPE } from "./cases.ts";
import { type CaseReport, type RunnerOptions, timeCalls } from "./measure.ts";

/** An ONNX Runtime inference session, as the runners use it. */
export interface OnnxSession {
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown }>>;
  release(): Promise<void>;
}

/**
 * Times every case of {@linkcode CASES}: `create` makes a session from the exported model bytes,
 * `tensor` the runtime's float32 tensor of the input.
 */
export async function timeOnnxCases(
  create: (model: Uint8Array) => Promise<OnnxSession>,
  tensor: (data: Float32Array, shape: number[]) => unknown,
  options: RunnerOptions,
): Promise<CaseReport[]> {
  const data = await benchInput();
  const cases: CaseReport[] = [];
  for (const c of CASES) {
    const model = exportOnnx(buildArchitecture({ alpha: c.alpha }), await caseWeights(c), {
      batch: INPUT_SHAPE[0],
    });
    const start = performance.now();
    const session = await create(model);
    const setupMs = performance.now() - start;
    const { stats, times, last } = await timeCalls(async () => {
      const results = await session.run({ [ONNX_INPUT_NAME]: tensor(data, [...INPUT_SHAPE]) });
      return results.probabilities.data as Float32Array;
    }, options);
    cases.push({ id: c.id, setupMs, stats, times, probs: [...last] });
    await session.release();
  }
  return cases;
}
