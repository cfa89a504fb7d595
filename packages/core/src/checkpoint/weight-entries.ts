import { InvalidArgumentError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import type { WeightDtype } from './checkpoint.js';
import { elementCount, isWeightDtype, itemSize } from './dtypes.js';

/**
 * The bytes of one weight as a typed array whose elements are the stored dtype's (little-endian): a
 * Float32Array for float32, a Uint16Array of raw bits for float16 and bfloat16, a BigInt64Array for int64, ...
 */
export type WeightData =
  | Float64Array
  | Float32Array
  | Uint16Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array;

/**
 * One weight to write. `data` may be a function, called once when the writer reaches the weight, so that a
 * large checkpoint is produced one weight at a time: only `key`, `dtype` and `shape` are needed up front.
 */
export interface WeightEntry {
  readonly key: string;
  readonly dtype: WeightDtype;
  readonly shape: readonly number[];
  readonly data: WeightData | (() => WeightData | Promise<WeightData>);
}

/** What a checkpoint writer accepts: ortvision tensors by key, or weight entries (sync or async iterable). */
export type WeightSource =
  | Readonly<Record<string, Tensor>>
  | Iterable<WeightEntry>
  | AsyncIterable<WeightEntry>;

function isIterable(source: object): source is Iterable<WeightEntry> | AsyncIterable<WeightEntry> {
  return Symbol.iterator in source || Symbol.asyncIterator in source;
}

function entryOfTensor(key: string, tensor: Tensor): WeightEntry {
  if (!(tensor instanceof Tensor)) {
    throw new InvalidArgumentError(`'${key}' is not a Tensor; pass Tensors by key or WeightEntry objects`);
  }
  // Tensor dtypes are a subset of the stored ones, with the same names.
  return { key, dtype: tensor.dtype, shape: tensor.dims, data: tensor.data as WeightData };
}

/**
 * The entries of a source, in order, with every key, dtype and shape checked; their data is not produced yet.
 * A key given twice, a negative or fractional dimension, or an unknown dtype is an `InvalidArgumentError`.
 */
export async function collectEntries(source: WeightSource): Promise<WeightEntry[]> {
  const entries: WeightEntry[] = [];
  if (isIterable(source)) {
    for await (const entry of source) entries.push(entry);
  } else {
    for (const [key, tensor] of Object.entries(source)) entries.push(entryOfTensor(key, tensor));
  }
  const seen = new Set<string>();
  for (const entry of entries) {
    if (typeof entry.key !== 'string' || entry.key === '') {
      throw new InvalidArgumentError(
        `a weight key must be a non-empty string, got ${JSON.stringify(entry.key)}`,
      );
    }
    if (seen.has(entry.key)) throw new InvalidArgumentError(`weight '${entry.key}' is given twice`);
    seen.add(entry.key);
    if (!isWeightDtype(entry.dtype)) {
      throw new InvalidArgumentError(
        `weight '${entry.key}' has an unknown dtype ${JSON.stringify(entry.dtype)}`,
      );
    }
    if (!Array.isArray(entry.shape) || !entry.shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0)) {
      throw new InvalidArgumentError(
        `weight '${entry.key}' has shape ${JSON.stringify(entry.shape)}, expected an array of integers >= 0`,
      );
    }
  }
  return entries;
}

/** Bytes one entry occupies. */
export function entryByteLength(entry: WeightEntry): number {
  return elementCount(entry.shape, `'${entry.key}'`) * itemSize(entry.dtype);
}

/** Produces an entry's data as bytes, checking that there are exactly as many as its dtype and shape need. */
export async function entryBytes(entry: WeightEntry): Promise<Uint8Array> {
  const data = typeof entry.data === 'function' ? await entry.data() : entry.data;
  const expected = entryByteLength(entry);
  if (!ArrayBuffer.isView(data) || data.byteLength !== expected) {
    throw new InvalidArgumentError(
      `weight '${entry.key}' (${entry.dtype} [${entry.shape.join(', ')}]) needs ${expected} bytes of data, got ${
        ArrayBuffer.isView(data) ? `${data.byteLength}` : typeof data
      }`,
    );
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
