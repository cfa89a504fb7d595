import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc32, writeZip } from '../testing/zip-writer.js';
import { readStoredZipEntry, readZipDirectory, zipEntryDataOffset } from './zip.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ortvision-zip-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function zipBytes(zip64: boolean): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  await writeZip(
    (chunk) => {
      chunks.push(chunk);
    },
    [
      { name: 'archive/data.pkl', data: Buffer.from('pickle') },
      { name: 'archive/data/0', data: () => new Uint8Array(1000).fill(7) },
      { name: 'archive/version', data: Buffer.from('3\n') },
    ],
    { zip64 },
  );
  return Buffer.concat(chunks);
}

describe('zip directory', () => {
  it('computes the zip CRC-32 (check value of "123456789"), continuable across chunks', () => {
    const text = new TextEncoder().encode('123456789');
    expect(crc32(text)).toBe(0xcbf43926);
    expect(crc32(text.subarray(4), crc32(text.subarray(0, 4)))).toBe(0xcbf43926);
  });

  it.each([false, true])('reads entries and 64-byte aligned data offsets (zip64: %s)', async (zip64) => {
    const file = join(dir, `a-${zip64}.zip`);
    const bytes = await zipBytes(zip64);
    await writeFile(file, bytes);
    const handle = await open(file, 'r');
    try {
      const entries = await readZipDirectory(handle, file, bytes.length);
      expect(entries.map((entry) => [entry.name, entry.method, entry.size])).toEqual([
        ['archive/data.pkl', 0, 6],
        ['archive/data/0', 0, 1000],
        ['archive/version', 0, 2],
      ]);
      // The central directory carries no padding; the local header's extra field does.
      const offset = await zipEntryDataOffset(handle, file, entries[1]!);
      expect(offset % 64).toBe(0);
      expect(bytes.subarray(offset, offset + 1000).every((byte) => byte === 7)).toBe(true);
      expect((await readStoredZipEntry(handle, file, entries[0]!)).toString()).toBe('pickle');
    } finally {
      await handle.close();
    }
  });

  it('names a directory that points past its end record, and a missing local header', async () => {
    const bytes = await zipBytes(false);
    const file = join(dir, 'bad.zip');
    const corrupt = Buffer.from(bytes);
    // The end record's directory offset (byte 16 of the last 22) pushed forward by 100 bytes.
    corrupt.writeUInt32LE(corrupt.readUInt32LE(corrupt.length - 6) + 100, corrupt.length - 6);
    await writeFile(file, corrupt);
    const handle = await open(file, 'r');
    await expect(readZipDirectory(handle, file, corrupt.length)).rejects.toThrow(
      /the zip directory \(bytes \d+\.\.\d+\) runs past its end record at \d+: the file is truncated or corrupt/,
    );
    await handle.close();

    await writeFile(file, bytes);
    const again = await open(file, 'r');
    const entries = await readZipDirectory(again, file, bytes.length);
    await expect(zipEntryDataOffset(again, file, { ...entries[1]!, localHeaderOffset: 3 })).rejects.toThrow(
      `${file}: the local header of zip entry archive/data/0 is missing: the zip is corrupt`,
    );
    await again.close();
  });
});
