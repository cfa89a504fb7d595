import type { Checkpoint, WeightInfo } from '../checkpoint/checkpoint.js';
import { isWeightDtype } from '../checkpoint/dtypes.js';
import { CheckpointError, FixtureFormatError } from '../errors.js';
import type { WeightsShapes } from './random-checkpoint.js';

/**
 * A `Checkpoint` with the keys, dtypes and shapes of a `weights-shapes.json` and no data: graph builders only read
 * a checkpoint's index while describing, so a full-size model's graph can be described (its key set and every
 * shape checked against a real config) in a unit test without writing or holding its weights. Reading a weight
 * throws a `CheckpointError`.
 *
 * @example
 * ```ts
 * const checkpoint = shapesCheckpoint(await readWeightsShapes('tooling/bench/models/google/vit-base-patch16-224/weights-shapes.json'));
 * const described = describeCheckpointGraphs(ViTForImageClassification, config, checkpoint, 'fp32');
 * ```
 */
export function shapesCheckpoint(shapes: WeightsShapes, name = 'shapes.safetensors'): Checkpoint {
  const infos = new Map<string, WeightInfo>();
  for (const [key, { dtype, shape }] of Object.entries(shapes.tensors)) {
    if (!isWeightDtype(dtype)) {
      throw new FixtureFormatError(
        `weights-shapes: '${key}' has dtype ${JSON.stringify(dtype)}, which is not a checkpoint dtype`,
      );
    }
    infos.set(key, { key, dtype, shape: [...shape], file: name });
  }
  const info = (key: string): WeightInfo => {
    const found = infos.get(key);
    if (!found) throw new CheckpointError(`${name} has no weight '${key}'`);
    return found;
  };
  const read = async (key: string): Promise<never> => {
    info(key);
    throw new CheckpointError(`${name} holds shapes only: '${key}' cannot be read`);
  };
  return {
    files: [name],
    keys: () => [...infos.keys()],
    has: (key) => infos.has(key),
    info,
    read,
    readFloat32: read,
    close: async () => {},
  };
}
