import { InvalidArgumentError } from '../../errors.js';
import type { Value } from '../graph.js';
import type { Module } from '../module.js';

export interface GroupNormOptions {
  readonly numGroups: number;
  readonly numChannels: number;
  /** torch's default is 1e-5. */
  readonly eps: number;
  /** Spatial axes of x after [batch, channels]; default 2 (images). */
  readonly spatialRank?: number;
}

/**
 * torch's `nn.GroupNorm(num_groups, num_channels, eps)` at module `m` (`m.weight`, `m.bias` [channels]) over
 * x [batch, channels, ...spatial]. ai.onnx has GroupNormalization only from opset 18, so it is written as torch's
 * exporter writes it for opset 17: x viewed as [batch, groups, rest], `InstanceNormalization` (which normalizes each
 * (batch, group) row), viewed back, then the per-channel affine (weight and bias as initializers `/per_channel`,
 * [channels, 1, ...]).
 *
 * @example
 * ```ts
 * const normed = groupNorm(projection.child(1), conv(projection.child(0), x, options), { numGroups: 32, numChannels: 256, eps: 1e-5 });
 * ```
 */
export function groupNorm(m: Module, x: Value, options: GroupNormOptions): Value {
  const { numGroups, numChannels, eps, spatialRank = 2 } = options;
  if (!Number.isInteger(numGroups) || numGroups < 1 || numChannels % numGroups !== 0) {
    throw new InvalidArgumentError(
      `group norm ${m.path}: ${numChannels} channels do not split into ${numGroups} groups`,
    );
  }
  const affineDims = [numChannels, ...Array<number>(spatialRank).fill(1)];
  const [weight, bias] = (['weight', 'bias'] as const).map((name) => {
    const key = m.weight(name, [numChannels]).key;
    return m.derived([key], [{ suffix: 'per_channel', dtype: 'float32', dims: affineDims }], async (read) => [
      await read(key),
    ])[0]!;
  });
  const grouped = m.op('Reshape', [x, m.int64s('groups_shape', [0, numGroups, -1])]);
  const normed = m.op(
    'InstanceNormalization',
    [
      grouped,
      m.constant('group_scale', {
        dtype: 'float32',
        dims: [numGroups],
        data: new Float32Array(numGroups).fill(1),
      }),
      m.constant('group_bias', { dtype: 'float32', dims: [numGroups], data: new Float32Array(numGroups) }),
    ],
    { epsilon: eps },
  );
  const shaped = m.op('Reshape', [normed, m.op('Shape', [x])], {}, { label: 'Reshape_back' });
  return m.op('Add', [m.op('Mul', [shaped, weight]), bias]);
}
