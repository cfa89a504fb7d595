import type { Checkpoint, WeightInfo } from '../checkpoint/checkpoint.js';
import { CheckpointError } from '../errors.js';

/**
 * A checkpoint as a graph builder reads it: every key the graph asks for is checked for presence and shape (a
 * `CheckpointError` naming file, key, the shape found and the shape the config implies) and recorded, so the
 * caller can tell which keys the graph left unused.
 *
 * @example
 * ```ts
 * const weights = new GraphWeights(await openSafetensors('model.safetensors'));
 * weights.info('classifier.weight', [1000, 768]); // CheckpointError if the shape differs
 * weights.unusedKeys(); // every key but classifier.weight
 * ```
 */
export class GraphWeights {
  readonly checkpoint: Checkpoint;
  readonly #used = new Set<string>();

  constructor(checkpoint: Checkpoint) {
    this.checkpoint = checkpoint;
  }

  /**
   * The key's info (with `key` as given, whatever the checkpoint stores it under), after checking that it exists
   * and, when `shape` is given, that it has that shape. Floating weights only: the graph builders compute in float32.
   */
  info(key: string, shape?: readonly number[]): WeightInfo {
    const info = this.checkpoint.info(key);
    if (shape && (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i]))) {
      throw new CheckpointError(
        `${info.file}: '${key}' has shape [${info.shape.join(', ')}], but the config implies [${shape.join(', ')}]`,
      );
    }
    this.#used.add(key);
    // The key as asked for: a key-mapping checkpoint (StateDict) reports the stored key, which it would map again
    // if a builder read the weight by it.
    return { ...info, key };
  }

  has(key: string): boolean {
    return this.checkpoint.has(key);
  }

  /** Reads a weight as float32 (checked with `info` first, so the graph knows its shape before reading). */
  async readFloat32(key: string): Promise<Float32Array> {
    return (await this.checkpoint.readFloat32(key)).data;
  }

  /** Checkpoint keys no part of the graph asked for, in checkpoint order. */
  unusedKeys(): string[] {
    return this.checkpoint.keys().filter((key) => !this.#used.has(key));
  }
}
