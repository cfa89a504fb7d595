import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { writeSafetensors } from './safetensors-writer.js';
import { openSafetensors } from './safetensors.js';
import type { WeightEntry } from './weight-entries.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ortvision-st-writer-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeSafetensors', () => {
  it('writes tensors the reader gives back, with an 8-byte aligned header and format metadata', async () => {
    const file = join(dir, 'model.safetensors');
    await writeSafetensors(file, {
      'a.weight': new Tensor('float32', new Float32Array([1, -2, 3.5, 0]), [2, 2]),
      'a.ids': new Tensor('int64', new BigInt64Array([5n, -6n]), [2]),
      flag: new Tensor('bool', new Uint8Array([1]), [1]),
    });
    const bytes = await readFile(file);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    expect(headerLength % 8).toBe(0);
    const header = JSON.parse(bytes.toString('utf8', 8, 8 + headerLength));
    expect(header).toEqual({
      __metadata__: { format: 'pt' },
      'a.weight': { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] },
      'a.ids': { dtype: 'I64', shape: [2], data_offsets: [16, 32] },
      flag: { dtype: 'BOOL', shape: [1], data_offsets: [32, 33] },
    });
    expect(bytes.length).toBe(8 + headerLength + 33);
    const checkpoint = await openSafetensors(file);
    expect([...(await checkpoint.readFloat32('a.weight')).data]).toEqual([1, -2, 3.5, 0]);
    expect([...((await checkpoint.read('a.ids')).data as BigInt64Array)]).toEqual([5n, -6n]);
    expect(await checkpoint.read('flag')).toMatchObject({ dtype: 'bool', data: new Uint8Array([1]) });
    await checkpoint.close();
  });

  it('produces lazy data one weight at a time, in order, from an async iterable; same input, same bytes', async () => {
    const calls: string[] = [];
    const entries = (): AsyncIterable<WeightEntry> => ({
      async *[Symbol.asyncIterator]() {
        for (const key of ['x', 'y']) {
          yield {
            key,
            dtype: 'float16',
            shape: [3],
            data: () => {
              calls.push(key);
              return new Uint16Array([0x3c00, 0x4000, 0xbc00]);
            },
          };
        }
      },
    });
    await writeSafetensors(join(dir, 'one.safetensors'), entries(), {
      metadata: { format: 'pt', note: 'test' },
    });
    await writeSafetensors(join(dir, 'two.safetensors'), entries(), {
      metadata: { format: 'pt', note: 'test' },
    });
    expect(calls).toEqual(['x', 'y', 'x', 'y']);
    expect(await readFile(join(dir, 'one.safetensors'))).toEqual(
      await readFile(join(dir, 'two.safetensors')),
    );
    const checkpoint = await openSafetensors(join(dir, 'one.safetensors'));
    expect([...(await checkpoint.readFloat32('y')).data]).toEqual([1, 2, -1]);
    await checkpoint.close();
  });

  it('leaves neither the file nor a temporary file when a weight fails or has the wrong size', async () => {
    const file = join(dir, 'model.safetensors');
    const failing: WeightEntry[] = [
      { key: 'ok', dtype: 'float32', shape: [1], data: new Float32Array(1) },
      {
        key: 'boom',
        dtype: 'float32',
        shape: [1],
        data: () => {
          throw new Error('generator failed');
        },
      },
    ];
    await expect(writeSafetensors(file, failing)).rejects.toThrow('generator failed');
    expect(await readdir(dir)).toEqual([]);

    const wrongSize: WeightEntry[] = [
      { key: 'w', dtype: 'float32', shape: [2, 2], data: new Float32Array(3) },
    ];
    await expect(writeSafetensors(file, wrongSize)).rejects.toThrow(InvalidArgumentError);
    await expect(writeSafetensors(file, wrongSize)).rejects.toThrow(
      "weight 'w' (float32 [2, 2]) needs 16 bytes of data, got 12",
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses bad keys, dtypes and shapes before writing anything', async () => {
    const file = join(dir, 'model.safetensors');
    const data = new Float32Array(1);
    await expect(
      writeSafetensors(file, [
        { key: 'w', dtype: 'float32', shape: [1], data },
        { key: 'w', dtype: 'float32', shape: [1], data },
      ]),
    ).rejects.toThrow("weight 'w' is given twice");
    await expect(
      writeSafetensors(file, [{ key: 'w', dtype: 'complex64' as never, shape: [1], data }]),
    ).rejects.toThrow(`weight 'w' has an unknown dtype "complex64"`);
    await expect(writeSafetensors(file, [{ key: 'w', dtype: 'float32', shape: [-1], data }])).rejects.toThrow(
      "weight 'w' has shape [-1], expected an array of integers >= 0",
    );
    await expect(
      writeSafetensors(file, [{ key: '__metadata__', dtype: 'float32', shape: [1], data }]),
    ).rejects.toThrow("'__metadata__' is reserved");
    expect(await readdir(dir)).toEqual([]);
  });
});
