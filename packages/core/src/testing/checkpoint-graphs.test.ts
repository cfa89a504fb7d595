import { describe, expect, it } from 'vitest';
import { CheckpointError, FixtureFormatError, InvalidArgumentError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import {
  type GraphCaseResult,
  fixtureCheckpointWith,
  relativeErrors,
  runFixtureModelCases,
  worstRelativeError,
} from './checkpoint-graphs.js';
import { weightsShapesCheckpoint } from './shapes-checkpoint.js';

describe('weightsShapesCheckpoint', () => {
  const checkpoint = weightsShapesCheckpoint(
    {
      tensors: {
        'fc.weight': { dtype: 'float32', shape: [3, 2] },
        'bn.num_batches_tracked': { dtype: 'int64', shape: [] },
      },
    },
    'real.json',
  );

  it('answers keys, dtypes and shapes like a checkpoint file', () => {
    expect(checkpoint.keys()).toEqual(['fc.weight', 'bn.num_batches_tracked']);
    expect(checkpoint.has('fc.weight')).toBe(true);
    expect(checkpoint.info('fc.weight')).toEqual({
      key: 'fc.weight',
      dtype: 'float32',
      shape: [3, 2],
      file: 'real.json',
    });
    expect(() => checkpoint.info('fc.bias')).toThrowError(
      new CheckpointError("real.json has no weight 'fc.bias'"),
    );
  });

  it('refuses every read: describing a graph must not need one', async () => {
    await expect(checkpoint.readFloat32('fc.weight')).rejects.toThrowError(
      new CheckpointError("real.json holds shapes only: 'fc.weight' cannot be read"),
    );
  });

  it('refuses a dtype no checkpoint holds', () => {
    expect(() =>
      weightsShapesCheckpoint({ tensors: { z: { dtype: 'complex64', shape: [1] } } }),
    ).toThrowError(FixtureFormatError);
  });
});

describe('worstRelativeError', () => {
  it('is the largest difference over the largest magnitude of the first', () => {
    expect(worstRelativeError(Float32Array.of(2, -4), Float32Array.of(2.5, -4))).toBe(0.125);
    expect(worstRelativeError([0, 0], [0, 0])).toBe(0);
    expect(() => worstRelativeError([1], [1, 2])).toThrowError(InvalidArgumentError);
  });
});

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
