import { ModelSession, type NamedTensors } from '../runtime/session.js';
import type { Tensor } from '../tensor/tensor.js';
import { type Comparison, compareTensors } from './compare.js';
import { fixturePath } from './fixtures.js';
import { type ModelCase, loadFixture } from './manifest.js';
import { readNpy } from './npy.js';

/** Anything with a model class's `forward` on named tensors. */
export interface ForwardModel {
  forward(inputs: never): Promise<NamedTensors>;
}

/**
 * Runs a fixture's model case through a model class (feeds from the case's .npy files) and compares each expected
 * output at the case's atol/rtol. An output the model does not return counts as a shape mismatch.
 */
export async function checkModelCase(
  model: ForwardModel,
  fixture: string,
  testCase: ModelCase,
): Promise<{ output: string; comparison: Comparison }[]> {
  const feeds: Record<string, Tensor> = {};
  for (const [input, file] of Object.entries(testCase.feeds))
    feeds[input] = await readNpy(fixturePath(fixture, file));
  const outputs: Record<string, Tensor | undefined> = await model.forward(feeds as never);
  const results: { output: string; comparison: Comparison }[] = [];
  for (const [output, file] of Object.entries(testCase.expected)) {
    const expected = await readNpy(fixturePath(fixture, file));
    const actual = outputs[output];
    const comparison: Comparison = actual
      ? compareTensors(actual, expected, { atol: testCase.atol, rtol: testCase.rtol })
      : {
          ok: false,
          worstAbsError: Number.POSITIVE_INFINITY,
          worstIndex: -1,
          worstPosition: [],
          worstActual: Number.NaN,
          worstExpected: Number.NaN,
          countBeyond: expected.size,
          total: expected.size,
          shapeMismatch: `no output '${output}' (got ${Object.keys(outputs).join(', ') || 'nothing'})`,
        };
    results.push({ output, comparison });
  }
  return results;
}

/** One expected output of one model case, compared. */
export interface ModelCaseResult {
  readonly case: string;
  readonly output: string;
  readonly comparison: Comparison;
  /** What the graph returned for this output (to compare a q8 or fp16 build with fp32 on the same case). */
  readonly actual?: Tensor;
}

/**
 * Runs every model case of a fixture that targets `graph` (a manifest graph key such as 'onnx/model.onnx') on the
 * ONNX file at `graphPath` (a graph built from the fixture's checkpoint, say) and compares each expected output at
 * the case's tolerance. A fixture without such a case gives an empty list: assert on its length.
 *
 * @example
 * ```ts
 * for (const r of await checkGraphModelCases('vit-cls', '/tmp/vit-cls/model.onnx')) {
 *   if (!r.comparison.ok) console.log(r.case, r.output, describeComparison(r.comparison));
 * }
 * ```
 */
export async function checkGraphModelCases(
  fixture: string,
  graphPath: string,
  graph = 'onnx/model.onnx',
): Promise<ModelCaseResult[]> {
  const { manifest } = await loadFixture(fixturePath(fixture));
  const session = await ModelSession.create(graphPath);
  try {
    let outputs: NamedTensors = {};
    const model = {
      forward: async (feeds: NamedTensors) => {
        outputs = await session.run(feeds);
        return outputs;
      },
    };
    const results: ModelCaseResult[] = [];
    for (const testCase of manifest.model.filter((c) => c.graph === graph)) {
      for (const { output, comparison } of await checkModelCase(model, fixture, testCase)) {
        results.push({ case: testCase.name, output, comparison, actual: outputs[output] });
      }
    }
    return results;
  } finally {
    await session.dispose();
  }
}
