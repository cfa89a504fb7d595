import type { Checkpoint, WeightInfo } from '../checkpoint/checkpoint.js';
import { CheckpointError } from '../errors.js';
import { type DataType, Tensor } from '../tensor/tensor.js';

/**
 * A `Checkpoint` over tensors held in memory, for tests of graph builders and layers: float32 weights with the
 * checks and error messages of a file checkpoint (`file` is `name`).
 *
 * @example
 * ```ts
 * const checkpoint = memoryCheckpoint({ 'dense.weight': new Tensor('float32', new Float32Array(6), [2, 3]) });
 * checkpoint.info('dense.weight').shape; // [2, 3]
 * ```
 */
export function memoryCheckpoint(
  weights: Readonly<Record<string, Tensor<'float32'>>>,
  name = 'memory.safetensors',
): Checkpoint {
  let closed = false;
  const get = (key: string): Tensor<'float32'> => {
    const tensor = weights[key];
    if (!tensor) throw new CheckpointError(`${name} has no weight '${key}'`);
    return tensor;
  };
  return {
    files: [name],
    keys: () => Object.keys(weights),
    has: (key) => Object.hasOwn(weights, key),
    info(key): WeightInfo {
      return { key, dtype: 'float32', shape: [...get(key).dims], file: name };
    },
    async read(key): Promise<Tensor<DataType>> {
      return this.readFloat32(key);
    },
    async readFloat32(key): Promise<Tensor<'float32'>> {
      if (closed) throw new CheckpointError(`${name} was closed; open it again to read '${key}'`);
      const tensor = get(key);
      // A copy, as a file read would give: transforms may reuse the array they get.
      return new Tensor('float32', tensor.data.slice(), tensor.dims);
    },
    async close() {
      closed = true;
    },
  };
}
