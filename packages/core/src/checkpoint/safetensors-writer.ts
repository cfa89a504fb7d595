import { InvalidArgumentError } from '../errors.js';
import type { WeightDtype } from './checkpoint.js';
import { writeAll, writeFileAtomically } from './files.js';
import { SAFETENSORS_DTYPES } from './safetensors.js';
import { type WeightSource, collectEntries, entryByteLength, entryBytes } from './weight-entries.js';

const NAMES = Object.fromEntries(
  Object.entries(SAFETENSORS_DTYPES).map(([name, dtype]) => [dtype, name]),
) as Record<WeightDtype, string>;

export interface WriteSafetensorsOptions {
  /**
   * The header's `__metadata__` (string values only). Default `{ format: 'pt' }`, which transformers'
   * `load_state_dict` requires of a safetensors checkpoint.
   */
  metadata?: Readonly<Record<string, string>>;
}

/**
 * Writes a `.safetensors` file: the header first (every key, dtype, shape and byte range, in the order given),
 * then each weight's bytes, produced one at a time when `data` is a function, so a checkpoint larger than memory
 * can be written. The same input always gives the same bytes. The file is written beside `path` and renamed
 * into place when complete, so an interrupted write leaves no half-written `path`.
 *
 * @example
 * await writeSafetensors('model.safetensors', {
 *   'classifier.weight': new Tensor('float32', new Float32Array(10 * 32), [10, 32]),
 * });
 * // or lazily, one weight in memory at a time:
 * await writeSafetensors('big.safetensors', [
 *   { key: 'w', dtype: 'float32', shape: [4096, 4096], data: () => new Float32Array(4096 * 4096) },
 * ]);
 */
export async function writeSafetensors(
  path: string,
  tensors: WeightSource,
  options: WriteSafetensorsOptions = {},
): Promise<void> {
  const entries = await collectEntries(tensors);
  const metadata = options.metadata ?? { format: 'pt' };
  for (const [name, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') {
      throw new InvalidArgumentError(`safetensors metadata '${name}' must be a string, got ${typeof value}`);
    }
  }
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const entry of entries) {
    if (entry.key === '__metadata__') {
      throw new InvalidArgumentError(
        `'__metadata__' is reserved by the safetensors format and cannot be a weight key`,
      );
    }
    const end = offset + entryByteLength(entry);
    header[entry.key] = { dtype: NAMES[entry.dtype], shape: [...entry.shape], data_offsets: [offset, end] };
    offset = end;
  }
  // Padded with spaces to a multiple of 8, as the safetensors library does, so that the data starts aligned.
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const text = Buffer.from(json, 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(text.length));
  await writeFileAtomically(path, async (handle) => {
    await writeAll(handle, prefix);
    await writeAll(handle, text);
    for (const entry of entries) await writeAll(handle, await entryBytes(entry));
  });
}
