import type { FileHandle } from 'node:fs/promises';
import { CheckpointError } from '../errors.js';
import type { DataType, Tensor } from '../tensor/tensor.js';
import type { Checkpoint, WeightInfo } from './checkpoint.js';
import { elementCount, isFloatDtype, itemSize, tensorFromBytes } from './dtypes.js';
import { openForReading, readInto } from './files.js';

/** A weight whose bytes lie contiguously in a file: what safetensors and torch's zip format both store. */
export interface StoredWeight extends WeightInfo {
  /** Byte offset of its first element in `file`. */
  readonly offset: number;
  /**
   * Element strides from `offset`, for a torch tensor saved as a strided view of its storage (a transposed or
   * sliced weight); absent when the elements lie contiguously in row-major order.
   */
  readonly strides?: readonly number[];
}

/**
 * A checkpoint over weights stored raw at known offsets of one or more files (safetensors files, the storages of
 * torch zip checkpoints, the shards of either). Readers parse their format's index into `StoredWeight`s and hand
 * them here; reading, dtype conversion and the checks against the file's size live in this one place.
 */
export class StoredCheckpoint implements Checkpoint {
  readonly files: readonly string[];
  readonly source: string;
  #weights: Map<string, StoredWeight>;
  #handles = new Map<string, Promise<FileHandle>>();
  #closed = false;

  /**
   * `weights` in file order; a key stored twice is a `CheckpointError` naming both files. `source` is the file
   * messages name for the whole checkpoint (default: the only file, or the list of files).
   */
  constructor(files: readonly string[], weights: readonly StoredWeight[], source?: string) {
    this.files = Object.freeze([...files]);
    this.source = source ?? (files.length === 1 ? files[0]! : `the checkpoint (${files.join(', ')})`);
    this.#weights = new Map();
    for (const weight of weights) {
      const earlier = this.#weights.get(weight.key);
      if (earlier) {
        throw new CheckpointError(
          `${weight.file}: key '${weight.key}' is stored twice (also in ${earlier.file})`,
        );
      }
      this.#weights.set(weight.key, weight);
    }
  }

  keys(): readonly string[] {
    return [...this.#weights.keys()];
  }

  has(key: string): boolean {
    return this.#weights.has(key);
  }

  info(key: string): WeightInfo {
    const weight = this.#weights.get(key);
    if (!weight) {
      throw new CheckpointError(`${this.source} has no weight '${key}'`);
    }
    const { offset: _offset, strides: _strides, ...info } = weight;
    return info;
  }

  async read(key: string): Promise<Tensor<DataType>> {
    if (this.#closed) throw new CheckpointError(`${this.source} was closed; open it again to read '${key}'`);
    const weight = this.#weights.get(key);
    if (!weight) throw new CheckpointError(`${this.source} has no weight '${key}'`);
    const where = `${weight.file}: '${key}'`;
    const count = elementCount(weight.shape, where);
    const size = itemSize(weight.dtype);
    if (!weight.strides) {
      return tensorFromBytes(weight.dtype, weight.shape, await this.#readBytes(weight, count * size, where));
    }
    // A strided view: read the span it covers, then gather its elements in row-major order.
    const span = count === 0 ? 0 : stridedSpan(weight.shape, weight.strides) * size;
    const source = await this.#readBytes(weight, span, where);
    return tensorFromBytes(weight.dtype, weight.shape, gather(source, weight.shape, weight.strides, size));
  }

  async #readBytes(weight: StoredWeight, byteLength: number, where: string): Promise<Uint8Array> {
    // A fresh ArrayBuffer is aligned for every typed array; a pooled Buffer is not.
    const bytes = new Uint8Array(byteLength);
    const done = await readInto(await this.#handle(weight.file), bytes, weight.offset);
    if (done < byteLength) {
      throw new CheckpointError(
        `${where} needs bytes ${weight.offset}..${weight.offset + byteLength} but the file ends after ${weight.offset + done}: it is truncated`,
      );
    }
    return bytes;
  }

  async readFloat32(key: string): Promise<Tensor<'float32'>> {
    const info = this.info(key);
    if (!isFloatDtype(info.dtype)) {
      throw new CheckpointError(`${info.file}: '${key}' is ${info.dtype}, expected a floating-point weight`);
    }
    return (await this.read(key)) as Tensor<'float32'>;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const handles = [...this.#handles.values()];
    this.#handles.clear();
    await Promise.all(handles.map(async (handle) => (await handle.catch(() => undefined))?.close()));
  }

  #handle(file: string): Promise<FileHandle> {
    let handle = this.#handles.get(file);
    if (!handle) {
      handle = openForReading(file).catch((error: unknown) => {
        this.#handles.delete(file);
        throw error;
      });
      this.#handles.set(file, handle);
    }
    return handle;
  }
}

/** Elements from the first to one past the last that a strided view touches. */
function stridedSpan(shape: readonly number[], strides: readonly number[]): number {
  let last = 0;
  for (let i = 0; i < shape.length; i++) last += (shape[i]! - 1) * strides[i]!;
  return last + 1;
}

/** Copies the elements of a strided view (`size` bytes each) into a new row-major buffer. */
function gather(
  source: Uint8Array,
  shape: readonly number[],
  strides: readonly number[],
  size: number,
): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(count * size);
  // Copy in 1-, 2- or 4-byte words (an 8-byte element is two words) through typed views of both buffers, which
  // are fresh and therefore aligned.
  const word = size >= 4 ? 4 : size;
  const words = size / word;
  const View = word === 4 ? Uint32Array : word === 2 ? Uint16Array : Uint8Array;
  const from = new View(source.buffer as ArrayBuffer, source.byteOffset, source.byteLength / word);
  const to = new View(out.buffer, 0, out.byteLength / word);
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  let at = 0;
  for (let i = 0; i < count; i++) {
    for (let w = 0; w < words; w++) to[i * words + w] = from[at * words + w]!;
    // Odometer over the shape, moving `at` by each dimension's stride.
    for (let d = rank - 1; d >= 0; d--) {
      index[d]!++;
      at += strides[d]!;
      if (index[d]! < shape[d]!) break;
      at -= strides[d]! * shape[d]!;
      index[d] = 0;
    }
  }
  return out;
}
