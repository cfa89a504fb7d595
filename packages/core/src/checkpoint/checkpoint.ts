import type { DataType, Tensor } from '../tensor/tensor.js';

/** The element types a checkpoint may store, named as ortvision names tensor dtypes (safetensors' F16 = 'float16'). */
export type WeightDtype =
  | 'float64'
  | 'float32'
  | 'float16'
  | 'bfloat16'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint8'
  | 'bool';

/** Where one weight lives and what it is, known without reading its bytes. */
export interface WeightInfo {
  /** The state-dict key as stored (`vit.encoder.layer.0.attention.attention.query.weight`). */
  readonly key: string;
  readonly dtype: WeightDtype;
  readonly shape: readonly number[];
  /** The file that holds it (one shard of a sharded checkpoint). */
  readonly file: string;
}

/**
 * A model's weights, opened lazily: the index of keys is read up front, each tensor's bytes only when asked for,
 * so a graph can be built while holding about one weight at a time.
 *
 * Floating weights are read as float32 whatever they are stored as (float16 and bfloat16 widened exactly, float64
 * rounded as numpy's astype does); integer and bool weights keep their type (int16 widened to int32).
 */
export interface Checkpoint {
  /** The files behind it, in the order their keys were indexed. */
  readonly files: readonly string[];
  /**
   * The file messages should name for the checkpoint as a whole: its one file, or the index of a sharded
   * checkpoint. Optional so that older implementations stay valid; readers fall back to `files`.
   */
  readonly source?: string;
  /** Every key, in file order. */
  keys(): readonly string[];
  has(key: string): boolean;
  /** The key's dtype, shape and file; `CheckpointError` naming the key when there is none. */
  info(key: string): WeightInfo;
  /** Reads one weight: float32 for floating dtypes, the stored integer type otherwise. */
  read(key: string): Promise<Tensor<DataType>>;
  /** Reads one floating weight as float32; `CheckpointError` for an integer or bool weight. */
  readFloat32(key: string): Promise<Tensor<'float32'>>;
  /** Closes the files. Reads after it throw. */
  close(): Promise<void>;
}
