import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LabelScore } from '@ortvision/core';
import { HubServer, fixtureImagePath, fixturePath } from '@ortvision/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
    const [best] = (await classify(fixtureImagePath('digits/digit_1022_4.png'), { topK: 1 })) as LabelScore[];
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
    const [again] = (await offline(fixtureImagePath('digits/digit_1022_4.png'), { topK: 1 })) as LabelScore[];
    expect(again).toEqual(best);
    expect(server.requests.length).toBe(requestsBefore);
    await offline.dispose();
  });
});
