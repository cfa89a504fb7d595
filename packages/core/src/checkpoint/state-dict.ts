import { CheckpointError } from '../errors.js';
import type { DataType, Tensor } from '../tensor/tensor.js';
import type { Checkpoint, WeightInfo } from './checkpoint.js';

export interface StateDictOptions {
  /** The model class being built, for messages (`'ViTForImageClassification'`). */
  model?: string;
  /** The model's `base_model_prefix` (`'vit'`, `'levit'`); absent or `''`: keys are used as stored. */
  baseModelPrefix?: string;
  /**
   * Whether the model's own keys start with `baseModelPrefix`: true for a head model that holds the base model
   * under that attribute (`ViTForImageClassification.vit`), false for the base model itself (`ViTModel`).
   */
  expectsPrefix?: boolean;
  /**
   * Checkpoint keys the model may leave unread without `checkUnused` objecting: HF's
   * `_keys_to_ignore_on_load_unexpected`, buffers the builder recomputes. A string is a regular expression
   * source; either matches anywhere in the key (Python's `re.search`), as stored after the gamma/beta fix.
   * `num_batches_tracked` and `position_ids` buffers are always ignorable.
   */
  ignoreUnused?: readonly (RegExp | string)[];
  /**
   * Weights tied to another (an output embedding sharing the input embedding's matrix): model key -> the model
   * key whose value it takes when the checkpoint lacks it, as `save_pretrained` drops tied copies.
   */
  tiedWeights?: Readonly<Record<string, string>>;
}

/** A checkpoint key `checkUnused` let pass, and why. */
export interface IgnoredWeight {
  readonly key: string;
  readonly reason: string;
}

// Buffers no graph needs from the file: BatchNorm's step counter (unused in eval) and the position-id ranges
// that transformers made non-persistent (older checkpoints still carry them; transformers drops them too).
const ALWAYS_IGNORABLE = [/(^|\.)num_batches_tracked$/, /(^|\.)position_ids$/];

/**
 * transformers' `_fix_key` (modeling_utils.py, 4.37): checkpoints from before the rename store LayerNorm
 * parameters as `gamma`/`beta`. Like transformers, every occurrence is replaced, `beta` winning over `gamma`.
 */
function fixLegacyName(key: string): string {
  if (key.includes('beta')) return key.replaceAll('beta', 'bias');
  if (key.includes('gamma')) return key.replaceAll('gamma', 'weight');
  return key;
}

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((dim, i) => dim === b[i]);
}

/**
 * A checkpoint as a model of a given class reads it: the key fixes transformers 4.37.2 applies when loading
 * (`_load_pretrained_model`), shape-checked reads, and a record of what was read, so that a graph builder can end
 * with `checkUnused()` and be sure it used every weight it was given.
 *
 * Keys are asked for in the model's own naming (its `state_dict()` keys) and found in the checkpoint by:
 * - the legacy-name fix: stored `gamma`/`beta` answer for `weight`/`bias`;
 * - the base-model prefix, decided as transformers does from whether any stored key starts with
 *   `baseModelPrefix`: a head model reading a base-model checkpoint finds `vit.x` at `x` (its head weights are
 *   then missing), and a base model reading a head-model checkpoint finds `x` at `vit.x` (the head's weights are
 *   then left over, which `checkUnused` accepts, as transformers does with a warning);
 * - `tiedWeights`, for tied copies `save_pretrained` dropped.
 *
 * Errors are `CheckpointError`s naming the file and key: a missing key (with the key it was looked for under), a
 * shape other than the expected one, and in `checkUnused` every stored weight the model did not read that is
 * not ignorable. Transformers only warns about unused weights; a graph builder that leaves weights unread has
 * most likely mis-described the architecture, so here it is an error.
 *
 * @example
 * const checkpoint = await openCheckpoint('./levit-128S');
 * const weights = new StateDict(checkpoint, {
 *   model: 'LevitForImageClassificationWithTeacher',
 *   baseModelPrefix: 'levit',
 *   expectsPrefix: true,
 * });
 * const kernel = await weights.readFloat32('levit.patch_embeddings.embedding_layer_1.convolution.weight', [16, 3, 3, 3]);
 * // ... read every weight the graph needs ...
 * weights.checkUnused(); // throws, naming them, if the checkpoint holds weights the graph did not use
 */
export class StateDict implements Checkpoint {
  readonly #checkpoint: Checkpoint;
  readonly #options: StateDictOptions;
  readonly #prefix: string;
  /** How model keys map to stored ones: as is, without the prefix, or with it. */
  readonly #mode: 'same' | 'remove-prefix' | 'add-prefix';
  /** Fixed key -> stored key. */
  readonly #stored = new Map<string, string>();
  /** Stored keys another stored key's legacy rename replaced, as a Python dict assignment does. */
  readonly #shadowed = new Map<string, string>();
  readonly #used = new Set<string>();
  readonly #ignore: readonly RegExp[];

  constructor(checkpoint: Checkpoint, options: StateDictOptions = {}) {
    this.#checkpoint = checkpoint;
    this.#options = options;
    this.#prefix = options.baseModelPrefix ?? '';
    this.#ignore = [
      ...ALWAYS_IGNORABLE,
      // Without the g and y flags, whose lastIndex would make test() depend on earlier calls.
      ...(options.ignoreUnused ?? []).map((pattern) =>
        typeof pattern === 'string'
          ? new RegExp(pattern)
          : new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')),
      ),
    ];
    const renamed: [string, string][] = [];
    for (const key of checkpoint.keys()) {
      const fixed = fixLegacyName(key);
      if (fixed === key) this.#stored.set(key, key);
      else renamed.push([fixed, key]);
    }
    // transformers renames after the loop (`state_dict[new] = state_dict.pop(old)`): a renamed key wins.
    for (const [fixed, key] of renamed) {
      const previous = this.#stored.get(fixed);
      if (previous !== undefined) this.#shadowed.set(previous, key);
      this.#stored.set(fixed, key);
    }
    // As transformers tests it: a plain `startswith(prefix)`, without the dot.
    const hasPrefix =
      this.#prefix !== '' && [...this.#stored.keys()].some((key) => key.startsWith(this.#prefix));
    const expectsPrefix = this.#prefix !== '' && (options.expectsPrefix ?? false);
    this.#mode =
      !hasPrefix && expectsPrefix ? 'remove-prefix' : hasPrefix && !expectsPrefix ? 'add-prefix' : 'same';
  }

  get files(): readonly string[] {
    return this.#checkpoint.files;
  }

  get source(): string {
    return this.#checkpoint.source ?? this.#checkpoint.files.join(', ');
  }

  /** The fixed (stored-naming) key a model key is looked up under, or undefined when it cannot be there. */
  #lookupKey(key: string): string | undefined {
    const dotted = `${this.#prefix}.`;
    switch (this.#mode) {
      case 'same':
        return key;
      case 'add-prefix':
        return dotted + key;
      case 'remove-prefix': {
        if (key.startsWith(dotted)) return key.slice(dotted.length);
        if (this.#stored.has(key)) {
          throw new CheckpointError(
            `${this.source} holds '${key}', a weight of ${this.#modelName()} outside its base model, but none of its keys start with '${this.#prefix}': transformers refuses such a checkpoint as corrupted`,
          );
        }
        return undefined;
      }
    }
  }

  /** The stored key for a model key (following ties), or undefined. */
  #resolve(key: string): string | undefined {
    const lookup = this.#lookupKey(key);
    const stored = lookup === undefined ? undefined : this.#stored.get(lookup);
    if (stored !== undefined) return stored;
    const tied = this.#options.tiedWeights?.[key];
    return tied !== undefined && tied !== key ? this.#resolve(tied) : undefined;
  }

  #modelName(): string {
    return this.#options.model ?? 'the model';
  }

  #missing(key: string): CheckpointError {
    const lookup = this.#lookupKey(key);
    let why = '';
    if (lookup === undefined) {
      why = `: the checkpoint holds only the base model (its keys lack the '${this.#prefix}.' prefix), not this weight outside it`;
    } else if (lookup !== key) {
      why = ` (looked for '${lookup}': the checkpoint's keys ${this.#mode === 'add-prefix' ? 'carry' : 'lack'} the '${this.#prefix}.' prefix)`;
    }
    const tied = this.#options.tiedWeights?.[key];
    if (tied) why += `, nor the weight '${tied}' it is tied to`;
    return new CheckpointError(`${this.source} has no weight '${key}' for ${this.#modelName()}${why}`);
  }

  /** Model keys this checkpoint can answer, in stored order. */
  keys(): readonly string[] {
    const dotted = `${this.#prefix}.`;
    const keys: string[] = [];
    for (const fixed of this.#stored.keys()) {
      if (this.#mode === 'same') keys.push(fixed);
      else if (this.#mode === 'remove-prefix') keys.push(dotted + fixed);
      else if (fixed.startsWith(dotted)) keys.push(fixed.slice(dotted.length));
    }
    return keys;
  }

  has(key: string): boolean {
    return this.#resolve(key) !== undefined;
  }

  /** The stored weight behind a model key (its `key` is the stored key); `CheckpointError` when missing. */
  info(key: string): WeightInfo {
    const stored = this.#resolve(key);
    if (stored === undefined) throw this.#missing(key);
    return this.#checkpoint.info(stored);
  }

  /** The stored key for a model key, its shape checked; throws for a missing key or a wrong shape. */
  #checked(key: string, expectedShape: readonly number[] | undefined): string {
    const stored = this.#resolve(key);
    if (stored === undefined) throw this.#missing(key);
    if (expectedShape) {
      const info = this.#checkpoint.info(stored);
      if (!sameShape(info.shape, expectedShape)) {
        throw new CheckpointError(
          `${info.file}: '${stored}' has shape ${formatShape(info.shape)}, expected ${formatShape(expectedShape)} for ${this.#modelName()}${stored === key ? '' : ` (as '${key}')`}`,
        );
      }
    }
    return stored;
  }

  /** Runs a read of the stored key and counts the key as used once it succeeded. */
  async #use<T>(
    key: string,
    expectedShape: readonly number[] | undefined,
    read: (stored: string) => Promise<T>,
  ): Promise<T> {
    const stored = this.#checked(key, expectedShape);
    const tensor = await read(stored);
    this.#used.add(stored);
    return tensor;
  }

  /** Reads a weight by model key; with `expectedShape`, a different stored shape is a `CheckpointError`. */
  read(key: string, expectedShape?: readonly number[]): Promise<Tensor<DataType>> {
    return this.#use(key, expectedShape, (stored) => this.#checkpoint.read(stored));
  }

  /** Reads a floating weight as float32 by model key, shape-checked like `read`. */
  readFloat32(key: string, expectedShape?: readonly number[]): Promise<Tensor<'float32'>> {
    return this.#use(key, expectedShape, (stored) => this.#checkpoint.readFloat32(stored));
  }

  /** Stored keys read so far. */
  usedKeys(): readonly string[] {
    return [...this.#used];
  }

  /**
   * Ends a build: throws a `CheckpointError` naming every stored weight that was not read and is not ignorable
   * (see `StateDictOptions.ignoreUnused`); returns the unread ones it let pass, with the reason. Weights outside
   * the base-model prefix are let pass when a base model reads a head-model checkpoint, as transformers does.
   */
  checkUnused(): IgnoredWeight[] {
    const dotted = `${this.#prefix}.`;
    const ignored: IgnoredWeight[] = [];
    const unexpected: string[] = [];
    for (const [fixed, stored] of this.#stored) {
      if (this.#used.has(stored)) continue;
      const pattern = this.#ignore.find((regex) => regex.test(fixed));
      if (pattern) ignored.push({ key: stored, reason: `matches ${pattern}` });
      else if (this.#mode === 'add-prefix' && !fixed.startsWith(dotted)) {
        ignored.push({
          key: stored,
          reason: `outside the base model '${this.#prefix}' (a head-model checkpoint)`,
        });
      } else unexpected.push(stored);
    }
    for (const [key, by] of this.#shadowed) {
      ignored.push({ key, reason: `replaced by the legacy-named '${by}'` });
    }
    if (unexpected.length > 0) {
      const shown = unexpected.slice(0, 20).map((key) => `'${key}'`);
      throw new CheckpointError(
        `${this.source} holds ${unexpected.length} weight${unexpected.length === 1 ? '' : 's'} that ${this.#modelName()} does not use: ${shown.join(', ')}${
          unexpected.length > shown.length ? `, and ${unexpected.length - shown.length} more` : ''
        } (a checkpoint of another architecture or config?)`,
      );
    }
    return ignored;
  }

  close(): Promise<void> {
    return this.#checkpoint.close();
  }
}
