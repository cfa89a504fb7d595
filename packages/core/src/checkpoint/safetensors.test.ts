import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointError } from '../errors.js';
import { fixturePath } from '../testing/fixtures.js';
import { openSafetensors } from './safetensors.js';

/** A safetensors file from a header object and the data bytes that follow it. */
function safetensorsBytes(header: Record<string, unknown>, data: Uint8Array): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([prefix, json, data]);
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ortvision-safetensors-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('openSafetensors', () => {
  it('indexes the vit-cls checkpoint and reads a weight with its shape', async () => {
    const checkpoint = await openSafetensors(fixturePath('vit-cls', 'model.safetensors'));
    try {
      expect(checkpoint.keys()[0]).toBe('vit.embeddings.cls_token');
      expect(checkpoint.info('vit.embeddings.patch_embeddings.projection.weight')).toMatchObject({
        dtype: 'float32',
        shape: [32, 3, 8, 8],
      });
      const cls = await checkpoint.readFloat32('vit.embeddings.cls_token');
      expect(cls.dims).toEqual([1, 1, 32]);
      // The first 4 bytes of the data section (after the 8-byte prefix and the header) are cls_token[0].
      const bytes = await readFile(fixturePath('vit-cls', 'model.safetensors'));
      const start = 8 + Number(bytes.readBigUInt64LE(0));
      expect(cls.data[0]).toBe(bytes.readFloatLE(start));
    } finally {
      await checkpoint.close();
    }
  });

  it('widens F16 and BF16 exactly and keeps I64', async () => {
    const f16 = new Uint16Array([0x3c00, 0xc000, 0x0001, 0x7c00, 0x3555]); // 1, -2, 2^-24, inf, 0.333251953125
    const bf16 = new Uint16Array([0x3f80, 0xc040]); // 1, -3
    const i64 = new BigInt64Array([-5n, 1n << 40n]);
    const data = Buffer.concat([Buffer.from(f16.buffer), Buffer.from(bf16.buffer), Buffer.from(i64.buffer)]);
    const file = join(dir, 'mixed.safetensors');
    await writeFile(
      file,
      safetensorsBytes(
        {
          __metadata__: { format: 'pt' },
          half: { dtype: 'F16', shape: [5], data_offsets: [0, 10] },
          brain: { dtype: 'BF16', shape: [2], data_offsets: [10, 14] },
          ids: { dtype: 'I64', shape: [2, 1], data_offsets: [14, 30] },
        },
        data,
      ),
    );
    const checkpoint = await openSafetensors(file);
    expect([...(await checkpoint.readFloat32('half')).data]).toEqual([
      1,
      -2,
      2 ** -24,
      Infinity,
      0.333251953125,
    ]);
    expect([...(await checkpoint.readFloat32('brain')).data]).toEqual([1, -3]);
    const ids = await checkpoint.read('ids');
    expect(ids.dtype).toBe('int64');
    expect(ids.dims).toEqual([2, 1]);
    expect([...(ids.data as BigInt64Array)]).toEqual([-5n, 1n << 40n]);
    await expect(checkpoint.readFloat32('ids')).rejects.toThrow(
      /'ids' is int64, expected a floating-point weight/,
    );
    await checkpoint.close();
  });

  it('names the file and key of an unknown dtype, a truncated file and a missing key', async () => {
    const fp8 = join(dir, 'fp8.safetensors');
    await writeFile(
      fp8,
      safetensorsBytes({ w: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)),
    );
    await expect(openSafetensors(fp8)).rejects.toThrow(CheckpointError);
    await expect(openSafetensors(fp8)).rejects.toThrow(
      `${fp8}: 'w' has dtype "F8_E4M3", which ortvision cannot read`,
    );

    const full = safetensorsBytes(
      { w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } },
      new Uint8Array(16),
    );
    const cut = join(dir, 'cut.safetensors');
    await writeFile(cut, full.subarray(0, full.length - 3));
    await expect(openSafetensors(cut)).rejects.toThrow(
      /'w' ends at byte \d+ but the file has \d+: it is truncated/,
    );
    await writeFile(cut, full.subarray(0, 5));
    await expect(openSafetensors(cut)).rejects.toThrow(/is truncated: 5 bytes/);

    const ok = join(dir, 'ok.safetensors');
    await writeFile(ok, full);
    const checkpoint = await openSafetensors(ok);
    expect(() => checkpoint.info('v')).toThrow(`${ok} has no weight 'v'`);
    await checkpoint.close();
    await expect(checkpoint.read('w')).rejects.toThrow(/was closed/);
  });

  it('refuses offsets that disagree with the shape', async () => {
    const file = join(dir, 'bad.safetensors');
    await writeFile(
      file,
      safetensorsBytes({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }, new Uint8Array(16)),
    );
    await expect(openSafetensors(file)).rejects.toThrow(
      /data_offsets \[0, 16\] do not hold 12 bytes of float32 \[3\]/,
    );
  });
});
