import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ModelNotFoundError } from '../errors.js';
import { openPytorchCheckpoint } from './pytorch.js';
import { openSafetensors } from './safetensors.js';
import { openShardedCheckpoint } from './sharded.js';
import type { StoredCheckpoint } from './stored-checkpoint.js';

export type CheckpointFormat = 'safetensors' | 'pytorch';

/** The checkpoint file a load starts from. */
export interface CheckpointFileChoice {
  /** Its path in the repository or folder (`model.safetensors`, `sub/pytorch_model.bin.index.json`). */
  readonly file: string;
  readonly format: CheckpointFormat;
  /** True for an index: its shards (`readShardedIndex(...).shards`, beside it) are needed too. */
  readonly sharded: boolean;
}

export interface CheckpointSelectionOptions {
  /**
   * transformers' `use_safetensors`: undefined prefers safetensors and falls back to `pytorch_model.bin`;
   * true accepts only safetensors; false only `pytorch_model.bin`.
   */
  useSafetensors?: boolean;
  /** transformers' `variant` (`'fp16'` -> `model.fp16.safetensors`, `model.safetensors.index.fp16.json`). */
  variant?: string;
  /** A folder of the repository that holds the checkpoint (transformers' `subfolder`). */
  subfolder?: string;
}

/** transformers' `_add_variant`: the variant goes before the last extension. */
function withVariant(name: string, variant: string | undefined): string {
  if (!variant) return name;
  const parts = name.split('.');
  return [...parts.slice(0, -1), variant, parts[parts.length - 1]].join('.');
}

/** The candidates in the order transformers 4.37's `from_pretrained` tries them. */
function candidates(options: CheckpointSelectionOptions): CheckpointFileChoice[] {
  const prefix = options.subfolder ? `${options.subfolder.replace(/\/+$/, '')}/` : '';
  const choice = (name: string, format: CheckpointFormat, sharded: boolean): CheckpointFileChoice => ({
    file: prefix + withVariant(name, options.variant),
    format,
    sharded,
  });
  const safetensors = [
    choice('model.safetensors', 'safetensors', false),
    choice('model.safetensors.index.json', 'safetensors', true),
  ];
  const pytorch = [
    choice('pytorch_model.bin', 'pytorch', false),
    choice('pytorch_model.bin.index.json', 'pytorch', true),
  ];
  if (options.useSafetensors === true) return safetensors;
  if (options.useSafetensors === false) return pytorch;
  return [...safetensors, ...pytorch];
}

/**
 * Which checkpoint file a load of a repository or folder holding `fileNames` (paths relative to its root, as
 * the Hub's file listing gives them) starts from, in transformers' order: `model.safetensors`, then its sharded
 * index, then `pytorch_model.bin`, then its sharded index (a single file is preferred to an index of the same
 * format, as transformers does). Undefined when there is none. For an index, the shards it names are needed too:
 * fetch the index, then `readShardedIndex(path).shards`.
 *
 * @example
 * selectCheckpointFile(['config.json', 'pytorch_model.bin', 'tf_model.h5']);
 * // { file: 'pytorch_model.bin', format: 'pytorch', sharded: false }
 */
export function selectCheckpointFile(
  fileNames: Iterable<string>,
  options: CheckpointSelectionOptions = {},
): CheckpointFileChoice | undefined {
  const names = new Set(fileNames);
  return candidates(options).find((candidate) => names.has(candidate.file));
}

/** Why there is no checkpoint, for the error: what was looked for, and what is there instead. */
function noCheckpoint(
  where: string,
  names: readonly string[],
  options: CheckpointSelectionOptions,
): ModelNotFoundError {
  const looked = candidates(options).map((candidate) => candidate.file);
  const other = names.filter((name) =>
    /(^|\/)(tf_model\.h5|flax_model\.msgpack|model\.ckpt\.index)$/.test(name),
  );
  return new ModelNotFoundError(
    `${where} has no checkpoint: none of ${looked.join(', ')}${
      other.length
        ? ` (it has ${other.join(', ')}: TensorFlow or Flax weights, which ortvision cannot read)`
        : ''
    }`,
  );
}

/** A checkpoint file under another name (`vit.safetensors`, `weights.pt`), by its extension. */
function byExtension(file: string): CheckpointFileChoice {
  if (file.endsWith('.index.json')) {
    return {
      file,
      format: file.endsWith('.safetensors.index.json') ? 'safetensors' : 'pytorch',
      sharded: true,
    };
  }
  return { file, format: file.endsWith('.safetensors') ? 'safetensors' : 'pytorch', sharded: false };
}

async function openChosen(
  path: string,
  choice: CheckpointFileChoice,
  shardPath?: (shard: string) => string,
): Promise<StoredCheckpoint> {
  if (choice.sharded) return openShardedCheckpoint(path, shardPath ? { shardPath } : {});
  return choice.format === 'safetensors' ? openSafetensors(path) : openPytorchCheckpoint(path);
}

/** Local paths of a model's files by their path in the repository, as `resolveModelFiles(...).files` gives them. */
export type ResolvedCheckpointFiles = Readonly<Record<string, string | undefined>>;

async function folderFiles(folder: string, subfolder: string | undefined): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const prefix = subfolder ? `${subfolder.replace(/\/+$/, '')}/` : '';
  for (const name of await readdir(join(folder, prefix)).catch(() => [] as string[])) {
    files.set(prefix + name, join(folder, prefix, name));
  }
  return files;
}

/**
 * Opens the checkpoint transformers would load from a model folder, from resolved files by repository path
 * (`resolveModelFiles(...).files`, e.g. Hub cache paths), or from a list of local files (by their base names),
 * choosing as `selectCheckpointFile` does. A sharded index finds its shards among the given files, else beside
 * it. A single checkpoint file under another name (`weights.pt`, `vit.safetensors`) is opened by its extension.
 * No checkpoint is a `ModelNotFoundError` saying what was looked for.
 *
 * @example
 * const checkpoint = await openCheckpoint('./levit-128S'); // model.safetensors or pytorch_model.bin, sharded or not
 * const weight = await checkpoint.readFloat32('levit.patch_embeddings.embedding_layer_1.convolution.weight');
 * await checkpoint.close();
 */
export async function openCheckpoint(
  source: string | readonly string[] | ResolvedCheckpointFiles,
  options: CheckpointSelectionOptions = {},
): Promise<StoredCheckpoint> {
  let files: Map<string, string>;
  let where: string;
  let selection = options;
  if (typeof source === 'string') {
    let isFolder: boolean;
    try {
      isFolder = (await stat(source)).isDirectory();
    } catch (error) {
      throw new ModelNotFoundError(`${source} does not exist`, { cause: error });
    }
    if (!isFolder) return openCheckpoint([source], options);
    files = await folderFiles(source, options.subfolder);
    where = source;
  } else if (Array.isArray(source)) {
    const paths = source as readonly string[];
    files = new Map(paths.map((path) => [basename(path), path]));
    where = `[${paths.join(', ')}]`;
    selection = { ...options, subfolder: undefined };
  } else {
    files = new Map(
      Object.entries(source as ResolvedCheckpointFiles).filter(
        (entry): entry is [string, string] => entry[1] !== undefined,
      ),
    );
    where = `[${[...files.keys()].join(', ')}]`;
  }
  const single = files.size === 1 && typeof source !== 'string' ? [...files.keys()][0]! : undefined;
  const choice = selectCheckpointFile(files.keys(), selection) ?? (single ? byExtension(single) : undefined);
  if (!choice) throw noCheckpoint(where, [...files.keys()], options);
  const path = files.get(choice.file)!;
  const folder = choice.file.includes('/') ? choice.file.slice(0, choice.file.lastIndexOf('/') + 1) : '';
  return openChosen(path, choice, (shard) => files.get(folder + shard) ?? join(dirname(path), shard));
}
