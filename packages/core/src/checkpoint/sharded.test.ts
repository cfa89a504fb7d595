import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { writeTorchCheckpoint } from '../testing/torch-checkpoint.js';
import { writeSafetensors } from './safetensors-writer.js';
import { openShardedCheckpoint, readShardedIndex } from './sharded.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ortvision-sharded-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const vector = (...values: number[]) => new Tensor('float32', new Float32Array(values), [values.length]);

async function writeIndex(name: string, weightMap: Record<string, string>): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, JSON.stringify({ metadata: { total_size: 20 }, weight_map: weightMap }));
  return file;
}

async function writeTwoSafetensorsShards(): Promise<string> {
  await writeSafetensors(join(dir, 'model-00001-of-00002.safetensors'), { a: vector(1, 2), b: vector(3) });
  await writeSafetensors(join(dir, 'model-00002-of-00002.safetensors'), { c: vector(4, 5) });
  return writeIndex('model.safetensors.index.json', {
    a: 'model-00001-of-00002.safetensors',
    c: 'model-00002-of-00002.safetensors',
    b: 'model-00001-of-00002.safetensors',
  });
}

describe('sharded checkpoints', () => {
  it('reads the index: metadata, weight map and the sorted shard names', async () => {
    const index = await readShardedIndex(await writeTwoSafetensorsShards());
    expect(index.metadata).toEqual({ total_size: 20 });
    expect(index.shards).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    expect(index.weightMap.get('c')).toBe('model-00002-of-00002.safetensors');
  });

  it('opens safetensors and torch zip shards as one checkpoint named by its index', async () => {
    const safetensors = await openShardedCheckpoint(await writeTwoSafetensorsShards());
    expect(safetensors.keys()).toEqual(['a', 'b', 'c']);
    expect(safetensors.files).toEqual([
      join(dir, 'model-00001-of-00002.safetensors'),
      join(dir, 'model-00002-of-00002.safetensors'),
    ]);
    expect(safetensors.info('c').file).toBe(join(dir, 'model-00002-of-00002.safetensors'));
    expect([...(await safetensors.readFloat32('c')).data]).toEqual([4, 5]);
    expect(() => safetensors.info('d')).toThrow(
      `${join(dir, 'model.safetensors.index.json')} has no weight 'd'`,
    );
    await safetensors.close();

    await writeTorchCheckpoint(join(dir, 'pytorch_model-00001-of-00002.bin'), { x: vector(1) });
    await writeTorchCheckpoint(join(dir, 'pytorch_model-00002-of-00002.bin'), { y: vector(2, 3) });
    const torch = await openShardedCheckpoint(
      await writeIndex('pytorch_model.bin.index.json', {
        x: 'pytorch_model-00001-of-00002.bin',
        y: 'pytorch_model-00002-of-00002.bin',
      }),
    );
    expect([...(await torch.readFloat32('y')).data]).toEqual([2, 3]);
    await torch.close();
  });

  it('finds shards where the caller says (resolved Hub cache paths)', async () => {
    const elsewhere = join(dir, 'blobs');
    await mkdir(elsewhere);
    await writeSafetensors(join(elsewhere, 'abc123'), { a: vector(9) });
    const index = await writeIndex('model.safetensors.index.json', { a: 'model-00001-of-00001.safetensors' });
    const checkpoint = await openShardedCheckpoint(index, { shardPath: () => join(elsewhere, 'abc123') });
    expect([...(await checkpoint.readFloat32('a')).data]).toEqual([9]);
    await checkpoint.close();
  });

  it('names a missing shard, a key the index lists but its shard lacks, and a key the index does not list', async () => {
    const index = await writeTwoSafetensorsShards();
    await rm(join(dir, 'model-00002-of-00002.safetensors'));
    await expect(openShardedCheckpoint(index)).rejects.toThrow(CheckpointError);
    await expect(openShardedCheckpoint(index)).rejects.toThrow(
      `${index} names the shard model-00002-of-00002.safetensors, which is missing (${join(dir, 'model-00002-of-00002.safetensors')})`,
    );

    await writeSafetensors(join(dir, 'model-00002-of-00002.safetensors'), { c: vector(4, 5) });
    const lacking = await writeIndex('lacking.index.json', {
      a: 'model-00001-of-00002.safetensors',
      b: 'model-00001-of-00002.safetensors',
      c: 'model-00002-of-00002.safetensors',
      d: 'model-00002-of-00002.safetensors',
    });
    await expect(openShardedCheckpoint(lacking)).rejects.toThrow(
      `${lacking} places 'd' in model-00002-of-00002.safetensors, but ${join(dir, 'model-00002-of-00002.safetensors')} does not hold it`,
    );

    const unlisted = await writeIndex('unlisted.index.json', {
      a: 'model-00001-of-00002.safetensors',
      c: 'model-00002-of-00002.safetensors',
    });
    await expect(openShardedCheckpoint(unlisted)).rejects.toThrow(
      `${join(dir, 'model-00001-of-00002.safetensors')} holds 'b', which ${unlisted} does not list`,
    );
    const misplaced = await writeIndex('misplaced.index.json', {
      a: 'model-00001-of-00002.safetensors',
      b: 'model-00002-of-00002.safetensors',
      c: 'model-00002-of-00002.safetensors',
    });
    await expect(openShardedCheckpoint(misplaced)).rejects.toThrow(
      `holds 'b', which ${misplaced} places in model-00002-of-00002.safetensors`,
    );
  });

  it('refuses an index without a weight map, and shard names that leave the index folder', async () => {
    const empty = join(dir, 'empty.index.json');
    await writeFile(empty, JSON.stringify({ metadata: {} }));
    await expect(readShardedIndex(empty)).rejects.toThrow(`${empty} has no weight_map object`);
    const outside = await writeIndex('escape.index.json', { a: '../../etc/passwd' });
    await expect(readShardedIndex(outside)).rejects.toThrow(
      `${outside} names the shard "../../etc/passwd", which is not a file name beside the index`,
    );
    const absolute = await writeIndex('absolute.index.json', { a: '/etc/passwd' });
    await expect(readShardedIndex(absolute)).rejects.toThrow(/names the shard "\/etc\/passwd"/);
    const broken = join(dir, 'broken.index.json');
    await writeFile(broken, '{"weight_map": ');
    await expect(readShardedIndex(broken)).rejects.toThrow(CheckpointError);
    await expect(readShardedIndex(join(dir, 'absent.index.json'))).rejects.toThrow(
      /absent\.index\.json does not exist/,
    );
  });
});
