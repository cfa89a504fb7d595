import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CheckpointError } from '../errors.js';
import { readJsonObject } from '../hub/read-json.js';
import { readPytorchIndex } from './pytorch.js';
import { readSafetensorsIndex } from './safetensors.js';
import { StoredCheckpoint, type StoredWeight } from './stored-checkpoint.js';

/** A sharded checkpoint's index (`model.safetensors.index.json`, `pytorch_model.bin.index.json`). */
export interface ShardedCheckpointIndex {
  /** The index file. */
  readonly file: string;
  /** Its `metadata` (e.g. `total_size`), as written. */
  readonly metadata: Readonly<Record<string, unknown>>;
  /** Every key and the shard file name that holds it. */
  readonly weightMap: ReadonlyMap<string, string>;
  /** The shard file names, sorted, as transformers loads them. */
  readonly shards: readonly string[];
}

function checkShardName(file: string, shard: string): void {
  // Shards are names beside the index; an index must not send a reader elsewhere on the disk.
  if (
    shard === '' ||
    shard.startsWith('/') ||
    shard.includes('\\') ||
    shard.split('/').some((part) => part === '..' || part === '.' || part === '')
  ) {
    throw new CheckpointError(
      `${file} names the shard ${JSON.stringify(shard)}, which is not a file name beside the index`,
    );
  }
}

/**
 * Reads a sharded checkpoint's index: `{ metadata, weight_map: { key: shard } }`. Each shard name must be a
 * file name relative to the index's folder.
 *
 * @example
 * const index = await readShardedIndex('model/model.safetensors.index.json');
 * index.shards; // ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']
 */
export async function readShardedIndex(file: string): Promise<ShardedCheckpointIndex> {
  let json: Record<string, unknown>;
  try {
    json = await readJsonObject(file);
  } catch (error) {
    throw new CheckpointError((error as Error).message, { cause: error });
  }
  const { metadata = {}, weight_map: weightMap } = json;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
    throw new CheckpointError(`${file} has no weight_map object: not a sharded checkpoint index`);
  }
  const map = new Map<string, string>();
  for (const [key, shard] of Object.entries(weightMap)) {
    if (typeof shard !== 'string') {
      throw new CheckpointError(
        `${file}: weight_map['${key}'] is ${JSON.stringify(shard)}, expected a shard file name`,
      );
    }
    checkShardName(file, shard);
    map.set(key, shard);
  }
  return {
    file,
    metadata: typeof metadata === 'object' && metadata !== null ? (metadata as Record<string, unknown>) : {},
    weightMap: map,
    shards: [...new Set(map.values())].sort(),
  };
}

export interface OpenShardedOptions {
  /**
   * Where a shard named in the index is on disk (e.g. a resolved Hub cache path); default: beside the index.
   */
  shardPath?: (shard: string) => string;
}

// By the name the index gives, not the path: a resolved path (a Hub cache blob) may have no extension.
async function readShard(shard: string, path: string): Promise<StoredWeight[]> {
  return shard.endsWith('.safetensors') ? readSafetensorsIndex(path) : readPytorchIndex(path);
}

/**
 * Opens a sharded checkpoint through its index: every shard is indexed (safetensors or torch zip, by the
 * extension of its name in the index) and checked against the index, so that a missing shard, a key the index places in a shard that does
 * not hold it, or a key a shard holds that the index does not list is a `CheckpointError` naming the file and
 * key, before any weight is read.
 *
 * @example
 * const checkpoint = await openShardedCheckpoint('model/pytorch_model.bin.index.json');
 * checkpoint.files; // the shards, in the index's order
 */
export async function openShardedCheckpoint(
  indexFile: string,
  options: OpenShardedOptions = {},
): Promise<StoredCheckpoint> {
  const index = await readShardedIndex(indexFile);
  const locate = options.shardPath ?? ((shard: string) => join(dirname(indexFile), shard));
  const files: string[] = [];
  const weights: StoredWeight[] = [];
  for (const shard of index.shards) {
    const path = locate(shard);
    try {
      await stat(path);
    } catch (error) {
      throw new CheckpointError(`${indexFile} names the shard ${shard}, which is missing (${path})`, {
        cause: error,
      });
    }
    const stored = await readShard(shard, path);
    const held = new Set<string>();
    for (const weight of stored) {
      const listed = index.weightMap.get(weight.key);
      if (listed !== shard) {
        throw new CheckpointError(
          listed === undefined
            ? `${path} holds '${weight.key}', which ${indexFile} does not list`
            : `${path} holds '${weight.key}', which ${indexFile} places in ${listed}`,
        );
      }
      held.add(weight.key);
    }
    for (const [key, listed] of index.weightMap) {
      if (listed === shard && !held.has(key)) {
        throw new CheckpointError(`${indexFile} places '${key}' in ${shard}, but ${path} does not hold it`);
      }
    }
    files.push(path);
    weights.push(...stored);
  }
  return new StoredCheckpoint(files, weights, indexFile);
}
