import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import {
  type GraphCaseResult,
  boundaryDifferences,
  fixtureCheckpointWith,
  relativeErrors,
  runFixtureModelCases,
} from './checkpoint-graphs.js';
import { fixturePath } from './fixtures.js';

describe('runFixtureModelCases', () => {
  it('refuses to leave a case out when its graph was not built, unless asked for a partial run', async () => {
    await expect(runFixtureModelCases('vit-cls', {})).rejects.toThrowError(
      /^model case '.+' runs onnx\/model\.onnx, which was not built \(built: \)$/,
    );
    expect(await runFixtureModelCases('vit-cls', {}, { partial: true })).toEqual([]);
  });
});

describe('relativeErrors', () => {
  const result = (values: number[], output = 'logits'): GraphCaseResult => ({
    case: 'c',
    graph: 'onnx/model.onnx',
    output,
    comparison: {
      ok: true,
      worstAbsError: 0,
      worstIndex: -1,
      worstPosition: [],
      worstActual: 0,
      worstExpected: 0,
      countBeyond: 0,
      total: values.length,
    },
    actual: new Tensor('float32', Float32Array.from(values), [values.length]),
  });

  it('compares each output with the same output of the reference, leaving out the values skip names', () => {
    const reference = [result([-1e6, 2, -4])];
    const variant = [result([-1e6, 2.5, -4])];
    expect(relativeErrors(reference, variant)).toEqual([{ case: 'c', output: 'logits', error: 0.5 / 1e6 }]);
    expect(relativeErrors(reference, variant, (v) => v === -1e6)).toEqual([
      { case: 'c', output: 'logits', error: 0.125 },
    ]);
    expect(() => relativeErrors(reference, [result([1, 2, 3], 'boxes')])).toThrowError(InvalidArgumentError);
  });
});

describe('fixtureCheckpointWith', () => {
  it('holds a fixture’s weights under new keys, leaving out those renamed to undefined', async () => {
    const checkpoint = await fixtureCheckpointWith('vit-cls', (key) =>
      key.startsWith('classifier.') ? undefined : key.replace(/^vit\./, ''),
    );
    expect(checkpoint.keys().some((key) => key.startsWith('classifier.') || key.startsWith('vit.'))).toBe(
      false,
    );
    expect(checkpoint.info('embeddings.cls_token').shape).toEqual([1, 1, 32]);
  });
});

describe('boundaryDifferences', () => {
  it('names every input and output that differs in name, type, rank, batch dimension or fixed size', async () => {
    const cls = fixturePath('vit-cls', 'onnx', 'model.onnx');
    expect(await boundaryDifferences(cls, cls)).toEqual([]);
    expect(await boundaryDifferences(fixturePath('vit-mim', 'onnx', 'model.onnx'), cls)).toEqual([
      "input 'bool_masked_pos' is not in the exported graph",
      "output 'logits' is missing",
      "output 'reconstruction' is not in the exported graph",
    ]);
  });
});
