import { CheckpointError } from '../errors.js';
import type { WeightDtype } from './checkpoint.js';
import { elementCount, itemSize } from './dtypes.js';
import { openForReading } from './files.js';
import { StoredCheckpoint, type StoredWeight } from './stored-checkpoint.js';

/** safetensors' dtype names and ours. */
export const SAFETENSORS_DTYPES: Readonly<Record<string, WeightDtype>> = {
  F64: 'float64',
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
};

// The format caps its JSON header at 100 MB; anything larger is not a safetensors file.
const MAX_HEADER_BYTES = 100_000_000;

/**
 * The index of one safetensors file: an 8-byte little-endian header length, a JSON header mapping each key to
 * `{ dtype, shape, data_offsets: [begin, end] }` (offsets relative to the end of the header), then the raw bytes.
 * Every entry is checked against the file's size and its own shape, so a truncated or inconsistent file is a
 * `CheckpointError` here rather than garbage later.
 */
export async function readSafetensorsIndex(file: string): Promise<StoredWeight[]> {
  const handle = await openForReading(file);
  try {
    const { size } = await handle.stat();
    const prefix = Buffer.alloc(8);
    const { bytesRead } = await handle.read(prefix, 0, 8, 0);
    if (bytesRead < 8)
      throw new CheckpointError(`${file} is truncated: ${size} bytes, not a safetensors file`);
    const headerBytes = Number(prefix.readBigUInt64LE(0));
    if (headerBytes > MAX_HEADER_BYTES || 8 + headerBytes > size) {
      throw new CheckpointError(
        `${file} announces a ${headerBytes}-byte header but has ${size} bytes: truncated or not a safetensors file`,
      );
    }
    const text = Buffer.alloc(headerBytes);
    await handle.read(text, 0, headerBytes, 8);
    let header: unknown;
    try {
      header = JSON.parse(text.toString('utf8'));
    } catch (error) {
      throw new CheckpointError(`${file}: the safetensors header is not JSON (${(error as Error).message})`);
    }
    if (typeof header !== 'object' || header === null || Array.isArray(header)) {
      throw new CheckpointError(`${file}: the safetensors header is not a JSON object`);
    }
    const dataStart = 8 + headerBytes;
    const weights: StoredWeight[] = [];
    for (const [key, entry] of Object.entries(header)) {
      if (key === '__metadata__') continue;
      weights.push(parseEntry(file, key, entry, dataStart, size));
    }
    return weights.sort((a, b) => a.offset - b.offset);
  } finally {
    await handle.close();
  }
}

function parseEntry(
  file: string,
  key: string,
  entry: unknown,
  dataStart: number,
  size: number,
): StoredWeight {
  const where = `${file}: '${key}'`;
  const { dtype, shape, data_offsets: offsets } = (entry ?? {}) as Record<string, unknown>;
  const weightDtype =
    typeof dtype === 'string' && Object.hasOwn(SAFETENSORS_DTYPES, dtype)
      ? SAFETENSORS_DTYPES[dtype]
      : undefined;
  if (!weightDtype) {
    throw new CheckpointError(
      `${where} has dtype ${JSON.stringify(dtype)}, which ortvision cannot read (expected one of ${Object.keys(SAFETENSORS_DTYPES).join(', ')})`,
    );
  }
  if (!Array.isArray(shape) || !Array.isArray(offsets) || offsets.length !== 2) {
    throw new CheckpointError(`${where}: the header entry lacks a shape or data_offsets`);
  }
  const [begin, end] = offsets as number[];
  const expected = elementCount(shape as number[], where) * itemSize(weightDtype);
  if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || end! - begin! !== expected) {
    throw new CheckpointError(
      `${where}: data_offsets [${begin}, ${end}] do not hold ${expected} bytes of ${weightDtype} [${(shape as number[]).join(', ')}]`,
    );
  }
  if (dataStart + end! > size) {
    throw new CheckpointError(
      `${where} ends at byte ${dataStart + end!} but the file has ${size}: it is truncated`,
    );
  }
  return { key, dtype: weightDtype, shape: [...(shape as number[])], file, offset: dataStart + begin! };
}

/**
 * Opens a `.safetensors` file.
 *
 * @example
 * const checkpoint = await openSafetensors('vit/model.safetensors');
 * const weight = await checkpoint.readFloat32('vit.embeddings.cls_token'); // Tensor float32 [1, 1, 768]
 * await checkpoint.close();
 */
export async function openSafetensors(file: string): Promise<StoredCheckpoint> {
  return new StoredCheckpoint([file], await readSafetensorsIndex(file));
}
