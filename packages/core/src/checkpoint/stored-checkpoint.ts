import { type FileHandle, open } from 'node:fs/promises';
import { CheckpointError } from '../errors.js';
import type { DataType, Tensor } from '../tensor/tensor.js';
import type { Checkpoint, WeightInfo } from './checkpoint.js';
import { elementCount, isFloatDtype, itemSize, tensorFromBytes } from './dtypes.js';

/** A weight whose bytes lie contiguously in a file: what safetensors and torch's zip format both store. */
export interface StoredWeight extends WeightInfo {
  /** Byte offset of its first element in `file`. */
  readonly offset: number;
}

/**
 * A checkpoint over weights stored raw at known offsets of one or more files (safetensors files, the storages of
 * torch zip checkpoints, the shards of either). Readers parse their format's index into `StoredWeight`s and hand
 * them here; reading, dtype conversion and the checks against the file's size live in this one place.
 */
export class StoredCheckpoint implements Checkpoint {
  readonly files: readonly string[];
  #weights: Map<string, StoredWeight>;
  #handles = new Map<string, Promise<FileHandle>>();
  #closed = false;

  /** `weights` in file order; a key stored twice is a `CheckpointError` naming both files. */
  constructor(files: readonly string[], weights: readonly StoredWeight[]) {
    this.files = Object.freeze([...files]);
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
      throw new CheckpointError(`${this.#describe()} has no weight '${key}'`);
    }
    const { offset: _offset, ...info } = weight;
    return info;
  }

  async read(key: string): Promise<Tensor<DataType>> {
    if (this.#closed)
      throw new CheckpointError(`${this.#describe()} was closed; open it again to read '${key}'`);
    const weight = this.#weights.get(key);
    if (!weight) throw new CheckpointError(`${this.#describe()} has no weight '${key}'`);
    const where = `${weight.file}: '${key}'`;
    const byteLength = elementCount(weight.shape, where) * itemSize(weight.dtype);
    // A fresh ArrayBuffer is aligned for every typed array; a pooled Buffer is not.
    const bytes = new Uint8Array(byteLength);
    const handle = await this.#handle(weight.file);
    let done = 0;
    while (done < byteLength) {
      const { bytesRead } = await handle.read(bytes, done, byteLength - done, weight.offset + done);
      if (bytesRead === 0) {
        throw new CheckpointError(
          `${where} needs bytes ${weight.offset}..${weight.offset + byteLength} but the file ends after ${weight.offset + done}: it is truncated`,
        );
      }
      done += bytesRead;
    }
    return tensorFromBytes(weight.dtype, weight.shape, bytes);
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
      handle = open(file, 'r').catch((error: NodeJS.ErrnoException) => {
        this.#handles.delete(file);
        throw new CheckpointError(`cannot open ${file}: ${error.message}`, { cause: error });
      });
      this.#handles.set(file, handle);
    }
    return handle;
  }

  #describe(): string {
    return this.files.length === 1 ? this.files[0]! : `the checkpoint (${this.files.join(', ')})`;
  }
}
