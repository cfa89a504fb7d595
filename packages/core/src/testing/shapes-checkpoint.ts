import type { Checkpoint, WeightInfo } from '../checkpoint/checkpoint.js';
import { isWeightDtype } from '../checkpoint/dtypes.js';
import { CheckpointError, FixtureFormatError } from '../errors.js';
import type { WeightsShapes } from './random-checkpoint.js';

/**
 * A `Checkpoint` holding the keys, dtypes and shapes of a `weights-shapes.json` and no data: graph builders
 * describe a graph from the index alone, so a real model's key set (AltCLIP's 3.5 GB included) can be checked
 * against a builder in milliseconds. Reading a weight throws a `CheckpointError`, which also proves a description
 * reads nothing.
 *
 * @example
 * ```ts
 * const shapes = await readWeightsShapes('tooling/bench/models/BAAI/AltCLIP/weights-shapes.json');
 * describeCheckpointGraphs(AltCLIPModel, config, weightsShapesCheckpoint(shapes), 'fp32'); // throws on any mismatch
 * ```
 */
export function weightsShapesCheckpoint(shapes: WeightsShapes, name = 'weights-shapes.json'): Checkpoint {
  const infos = new Map<string, WeightInfo>();
  for (const [key, { dtype, shape }] of Object.entries(shapes.tensors)) {
    if (!isWeightDtype(dtype)) {
      throw new FixtureFormatError(
        `${name}: '${key}' has dtype ${JSON.stringify(dtype)}, which is not a checkpoint dtype`,
      );
    }
    infos.set(key, { key, dtype, shape: [...shape], file: name });
  }
  const noData = (key: string): never => {
    throw new CheckpointError(`${name} holds shapes only: '${key}' cannot be read`);
  };
  return {
    files: [name],
    keys: () => [...infos.keys()],
    has: (key) => infos.has(key),
    info(key) {
      const info = infos.get(key);
      if (!info) throw new CheckpointError(`${name} has no weight '${key}'`);
      return info;
    },
    read: async (key) => noData(key),
    readFloat32: async (key) => noData(key),
    async close() {},
  };
}
