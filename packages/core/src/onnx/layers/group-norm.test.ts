import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../errors.js';
import { memoryCheckpoint } from '../../testing/memory-checkpoint.js';
import { buildModelGraph } from '../model-graph.js';
import { expectClose, runLayer, tensor } from './__fixtures__/layer-cases.js';
import { groupNorm } from './group-norm.js';

/** torch's GroupNorm: per (batch, group), (x - mean) / sqrt(var + eps) with the biased variance, then per channel. */
function groupNormReference(
  x: Float32Array,
  [batch, channels, spatial]: number[],
  groups: number,
  weight: Float32Array,
  bias: Float32Array,
  eps: number,
): number[] {
  const out = new Array(x.length).fill(0);
  const size = (channels! / groups) * spatial!;
  for (let n = 0; n < batch!; n++)
    for (let g = 0; g < groups; g++) {
      const start = (n * groups + g) * size;
      let mean = 0;
      for (let i = 0; i < size; i++) mean += x[start + i]!;
      mean /= size;
      let variance = 0;
      for (let i = 0; i < size; i++) variance += (x[start + i]! - mean) ** 2;
      variance /= size;
      for (let i = 0; i < size; i++) {
        const c = g * (channels! / groups) + Math.floor(i / spatial!);
        out[start + i] = ((x[start + i]! - mean) / Math.sqrt(variance + eps)) * weight[c]! + bias[c]!;
      }
    }
  return out;
}

describe('groupNorm', () => {
  const weights = { 'gn.weight': tensor([6], 1), 'gn.bias': tensor([6], 2) };

  it('normalizes each group of channels over the spatial axes, then scales and shifts per channel', async () => {
    const x = tensor([2, 6, 3, 5], 3, 4);
    const { y, built } = await runLayer(memoryCheckpoint(weights), x, [2, 6, 3, 5], (root, input) =>
      groupNorm(root.child('gn'), input, { numGroups: 3, numChannels: 6, eps: 1e-5 }),
    );
    const expected = groupNormReference(
      x.data,
      [2, 6, 15],
      3,
      weights['gn.weight'].data,
      weights['gn.bias'].data,
      1e-5,
    );
    expectClose(y.data, expected, 1e-5);
    expect(built.unusedKeys).toEqual([]);
    expect(built.graph.nodes.map((n) => n.opType)).toEqual([
      'Reshape',
      'InstanceNormalization',
      'Shape',
      'Reshape',
      'Mul',
      'Add',
    ]);
    expect(built.graph.initializers.map((i) => [i.value.name, i.dims])).toContainEqual([
      'gn.weight/per_channel',
      [6, 1, 1],
    ]);
  });

  it('takes any spatial rank (1-d: [batch, channels, length])', async () => {
    const x = tensor([1, 6, 7], 5);
    const { y } = await runLayer(memoryCheckpoint(weights), x, [1, 6, 7], (root, input) =>
      groupNorm(root.child('gn'), input, { numGroups: 2, numChannels: 6, eps: 1e-3, spatialRank: 1 }),
    );
    const expected = groupNormReference(
      x.data,
      [1, 6, 7],
      2,
      weights['gn.weight'].data,
      weights['gn.bias'].data,
      1e-3,
    );
    expectClose(y.data, expected, 1e-5);
  });

  it('refuses channels that do not split into the groups', () => {
    expect(() =>
      buildModelGraph('layer', memoryCheckpoint(weights), {}, (root) => {
        groupNorm(root.child('gn'), root.graph.input('x', 'float32', [1, 6, 2, 2]), {
          numGroups: 4,
          numChannels: 6,
          eps: 1e-5,
        });
      }),
    ).toThrowError(new InvalidArgumentError('group norm gn: 6 channels do not split into 4 groups'));
  });
});
