import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ModelNotFoundError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { fixturePath } from '../testing/fixtures.js';
import { writeTorchCheckpoint } from '../testing/torch-checkpoint.js';
import { openCheckpoint, selectCheckpointFile } from './open-checkpoint.js';
import { writeSafetensors } from './safetensors-writer.js';

describe('selectCheckpointFile', () => {
  const all = [
    'config.json',
    'pytorch_model.bin.index.json',
    'pytorch_model.bin',
    'model.safetensors.index.json',
    'model.safetensors',
    'onnx/model.onnx',
  ];

  it("follows transformers' order: safetensors, its index, pytorch_model.bin, its index", () => {
    expect(selectCheckpointFile(all)).toEqual({
      file: 'model.safetensors',
      format: 'safetensors',
      sharded: false,
    });
    expect(selectCheckpointFile(all.filter((name) => name !== 'model.safetensors'))).toEqual({
      file: 'model.safetensors.index.json',
      format: 'safetensors',
      sharded: true,
    });
    expect(
      selectCheckpointFile(['pytorch_model.bin.index.json', 'pytorch_model.bin', 'tf_model.h5']),
    ).toEqual({
      file: 'pytorch_model.bin',
      format: 'pytorch',
      sharded: false,
    });
    expect(selectCheckpointFile(['pytorch_model.bin.index.json'])?.sharded).toBe(true);
    expect(selectCheckpointFile(['config.json', 'onnx/model.onnx', 'tf_model.h5'])).toBeUndefined();
  });

  it('honours useSafetensors, variant and subfolder as transformers does', () => {
    expect(selectCheckpointFile(all, { useSafetensors: false })?.file).toBe('pytorch_model.bin');
    expect(selectCheckpointFile(['pytorch_model.bin'], { useSafetensors: true })).toBeUndefined();
    expect(
      selectCheckpointFile(['model.safetensors', 'model.fp16.safetensors'], { variant: 'fp16' })?.file,
    ).toBe('model.fp16.safetensors');
    expect(selectCheckpointFile(['model.safetensors.index.fp16.json'], { variant: 'fp16' })).toEqual({
      file: 'model.safetensors.index.fp16.json',
      format: 'safetensors',
      sharded: true,
    });
    expect(
      selectCheckpointFile(['model.safetensors', 'text/pytorch_model.bin'], { subfolder: 'text' })?.file,
    ).toBe('text/pytorch_model.bin');
  });
});

describe('openCheckpoint', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ortvision-open-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('opens the fixtures: model.safetensors in vit-cls, pytorch_model.bin in levit-cls', async () => {
    const vit = await openCheckpoint(fixturePath('vit-cls'));
    expect(vit.files).toEqual([fixturePath('vit-cls', 'model.safetensors')]);
    expect(vit.has('vit.embeddings.cls_token')).toBe(true);
    await vit.close();
    const levit = await openCheckpoint(fixturePath('levit-cls'));
    expect(levit.files).toEqual([fixturePath('levit-cls', 'pytorch_model.bin')]);
    expect(levit.info('levit.patch_embeddings.embedding_layer_1.convolution.weight').shape).toEqual([
      2, 3, 3, 3,
    ]);
    await levit.close();
  });

  it('prefers model.safetensors over pytorch_model.bin in one folder', async () => {
    await writeSafetensors(join(dir, 'model.safetensors'), {
      w: new Tensor('float32', new Float32Array([1]), [1]),
    });
    await writeTorchCheckpoint(join(dir, 'pytorch_model.bin'), {
      w: new Tensor('float32', new Float32Array([2]), [1]),
    });
    const checkpoint = await openCheckpoint(dir);
    expect([...(await checkpoint.readFloat32('w')).data]).toEqual([1]);
    await checkpoint.close();
    const bin = await openCheckpoint(dir, { useSafetensors: false });
    expect([...(await bin.readFloat32('w')).data]).toEqual([2]);
    await bin.close();
  });

  it('opens resolved files by repository path, a sharded index finding its shards among them', async () => {
    // Hub cache blobs have no extensions: the names come from the repository paths.
    await writeSafetensors(join(dir, 'blob-1'), { a: new Tensor('float32', new Float32Array([1]), [1]) });
    await writeSafetensors(join(dir, 'blob-2'), { b: new Tensor('float32', new Float32Array([2]), [1]) });
    await writeFile(
      join(dir, 'blob-index'),
      JSON.stringify({ metadata: {}, weight_map: { a: 'model-1.safetensors', b: 'model-2.safetensors' } }),
    );
    const checkpoint = await openCheckpoint({
      'config.json': join(dir, 'config'),
      'model.safetensors.index.json': join(dir, 'blob-index'),
      'model-1.safetensors': join(dir, 'blob-1'),
      'model-2.safetensors': join(dir, 'blob-2'),
      'pytorch_model.bin': undefined,
    });
    expect(checkpoint.source).toBe(join(dir, 'blob-index'));
    expect([...(await checkpoint.readFloat32('b')).data]).toEqual([2]);
    await checkpoint.close();
  });

  it('opens a list of local files by base name, and a single file under another name by its extension', async () => {
    await mkdir(join(dir, 'a'));
    await copyFile(fixturePath('levit-cls', 'pytorch_model.bin'), join(dir, 'a', 'weights.pt'));
    const single = await openCheckpoint([join(dir, 'a', 'weights.pt')]);
    expect(single.keys().length).toBe(168);
    await single.close();
    await copyFile(fixturePath('vit-cls', 'model.safetensors'), join(dir, 'a', 'vit.safetensors'));
    const byPath = await openCheckpoint(join(dir, 'a', 'vit.safetensors'));
    expect(byPath.has('classifier.weight')).toBe(true);
    await byPath.close();
    const list = await openCheckpoint([
      fixturePath('vit-cls', 'config.json'),
      fixturePath('vit-cls', 'model.safetensors'),
    ]);
    expect(list.files).toEqual([fixturePath('vit-cls', 'model.safetensors')]);
    await list.close();
  });

  it('says what it looked for when there is no checkpoint, and names TensorFlow weights it cannot read', async () => {
    await writeFile(join(dir, 'config.json'), '{}');
    await writeFile(join(dir, 'tf_model.h5'), '');
    await expect(openCheckpoint(dir)).rejects.toThrow(ModelNotFoundError);
    await expect(openCheckpoint(dir)).rejects.toThrow(
      `${dir} has no checkpoint: none of model.safetensors, model.safetensors.index.json, pytorch_model.bin, pytorch_model.bin.index.json (it has tf_model.h5: TensorFlow or Flax weights, which ortvision cannot read)`,
    );
    await expect(openCheckpoint(join(dir, 'absent'))).rejects.toThrow(
      `${join(dir, 'absent')} does not exist`,
    );
  });
});
