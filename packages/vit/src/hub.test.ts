import { copyFile, cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LabelScore } from '@ortvision/core';
import { HubServer, fixtureImagePath, fixturePath } from '@ortvision/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ViTForImageClassification } from './modeling.js';
import { imageClassification } from './tasks.js';

// The fixture folders have the Hub ONNX repos' layout (config.json, preprocessor_config.json, onnx/model.onnx):
// served by a local stand-in for the Hub, a Hub id loads without renaming anything.
describe('imageClassification from a Hub id', () => {
  let server: HubServer;
  let cacheDir: string;
  beforeAll(async () => {
    server = await HubServer.start({
      repoId: 'ortvision-test/vit-digits',
      folder: fixturePath('vit-digits'),
    });
    cacheDir = await mkdtemp(join(tmpdir(), 'ortvision-vit-hub-'));
  });
  afterAll(async () => {
    await server.close();
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('downloads config, processor config and graph into the cache, then runs offline from it', async () => {
    const downloaded: string[] = [];
    const classify = await imageClassification('ortvision-test/vit-digits', {
      endpoint: server.endpoint,
      cacheDir,
      onProgress: ({ file }) => downloaded.push(file),
    });
    const [best] = await classify(fixtureImagePath('digits/digit_1022_4.png'), { topK: 1 });
    expect(best!.label).toBe('4');
    await classify.dispose();
    expect(new Set(downloaded)).toEqual(
      new Set(['config.json', 'preprocessor_config.json', 'onnx/model.onnx']),
    );

    const requestsBefore = server.requests.length;
    const offline = await imageClassification('ortvision-test/vit-digits', {
      cacheDir,
      localFilesOnly: true,
    });
    const [again] = await offline(fixtureImagePath('digits/digit_1022_4.png'), { topK: 1 });
    expect(again).toEqual(best);
    expect(server.requests.length).toBe(requestsBefore);
    await offline.dispose();
  });
});

describe('Hub ONNX repository layout', () => {
  it('loads the quantized variant from onnx/model_quantized.onnx when dtype is q8, without renaming anything', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ortvision-vit-layout-'));
    await cp(fixturePath('vit-cls'), dir, { recursive: true });
    // The file stands in for a quantized export: what is tested is which file each dtype picks.
    await copyFile(join(dir, 'onnx', 'model.onnx'), join(dir, 'onnx', 'model_quantized.onnx'));
    await rm(join(dir, 'onnx', 'model.onnx'));
    const model = await ViTForImageClassification.fromPretrained(dir, { dtype: 'q8' });
    expect(model.config.model_type).toBe('vit');
    await model.dispose();
    await expect(ViTForImageClassification.fromPretrained(dir)).rejects.toThrowError(
      /none of onnx\/model\.onnx.*\(it has: .*onnx\/model_quantized\.onnx/,
    );
    await rm(dir, { recursive: true, force: true });
  });
});
