import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type LoadProgress, classifyOptionsFromKwargs } from '@ortvision/core';
import {
  type CheckpointFolders,
  HubServer,
  type LoadableForwardModelClass,
  checkModelCases,
  checkPipelineCases,
  checkpointFolders,
  failedCases,
  fixturePath,
  fixtureVariant,
  loadFixture,
} from '@ortvision/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LevitForImageClassification,
  LevitForImageClassificationWithTeacher,
  LevitModel,
} from './modeling.js';
import { imageClassification, imageFeatureExtraction } from './tasks.js';

// Issue 18, done when: a LeViT folder as the original Hub repositories hold it (config.json,
// preprocessor_config.json and the checkpoint, no onnx/) works through every public class and task helper, and a Hub
// id in facebook/levit-256's layout (pytorch_model.bin only) loads, builds, caches, and loads again offline without
// building.

const classes: Record<string, LoadableForwardModelClass> = {
  LevitModel,
  LevitForImageClassification,
  LevitForImageClassificationWithTeacher,
};

// Copies of the fixtures without onnx/ (config, preprocessor config, checkpoint).
let folders: CheckpointFolders;
beforeAll(async () => {
  folders = await checkpointFolders('levit');
});
afterAll(() => folders.remove());

describe('a LeViT folder with the checkpoint and no onnx/', () => {
  it.each(['levit-cls', 'levit-teacher', 'levit-base'])(
    '%s: its class builds the graph and answers every model case',
    async (name) => {
      const { manifest } = await loadFixture(fixturePath(name));
      const ModelClass = classes[manifest.graphs['onnx/model.onnx']!.describes]!;
      const model = await ModelClass.fromPretrained(await folders.folder(name));
      try {
        expect(failedCases(await checkModelCases(model, name))).toEqual([]);
      } finally {
        await model.dispose();
      }
    },
  );

  it.each(['levit-cls', 'levit-teacher'])(
    '%s: imageClassification answers every pipeline case',
    async (name) => {
      const classify = await imageClassification(await folders.folder(name));
      try {
        const results = await checkPipelineCases(name, 'image-classification', (testCase, images) =>
          classify(images.length === 1 ? images[0]! : images, classifyOptionsFromKwargs(testCase.kwargs)),
        );
        expect(failedCases(results)).toEqual([]);
      } finally {
        await classify.dispose();
      }
    },
  );

  it('levit-base: imageFeatureExtraction answers its pipeline case', async () => {
    const embed = await imageFeatureExtraction(await folders.folder('levit-base'));
    try {
      const results = await checkPipelineCases('levit-base', 'image-feature-extraction', async (_c, images) =>
        (await embed(images)).toNested(),
      );
      expect(failedCases(results)).toEqual([]);
    } finally {
      await embed.dispose();
    }
  });
});

describe('a Hub id in the layout of facebook/levit-256 (pytorch_model.bin only, no onnx/)', () => {
  let server: HubServer;
  beforeAll(async () => {
    const folder = await fixtureVariant('levit-teacher', join(folders.dir, 'hub-repo'), { onnx: null });
    server = await HubServer.start({ repoId: 'facebook/levit-256', folder });
  });
  afterAll(() => server.close());

  it('loads, builds, caches, and loads again offline without building', async () => {
    expect(server.fileNames().sort()).toEqual([
      'config.json',
      'preprocessor_config.json',
      'pytorch_model.bin',
    ]);
    const cacheDir = join(folders.dir, 'hub-cache');
    const graphCacheDir = join(folders.dir, 'graph-cache');
    const first: LoadProgress[] = [];
    const classify = await imageClassification('facebook/levit-256', {
      endpoint: server.endpoint,
      cacheDir,
      graphCacheDir,
      onProgress: (progress) => first.push(progress),
    });
    const answers = (run: typeof classify) =>
      checkPipelineCases('levit-teacher', 'image-classification', (testCase, images) =>
        run(images.length === 1 ? images[0]! : images, classifyOptionsFromKwargs(testCase.kwargs)),
      );
    expect(failedCases(await answers(classify))).toEqual([]);
    await classify.dispose();
    const downloaded = new Set(first.filter((p) => !('kind' in p)).map((p) => p.file));
    expect(downloaded).toEqual(new Set(['config.json', 'preprocessor_config.json', 'pytorch_model.bin']));
    expect(first.filter((p) => 'kind' in p && p.kind === 'build').at(-1)).toMatchObject({
      file: 'onnx/model.onnx',
      modelClass: 'LevitForImageClassificationWithTeacher',
    });
    // The architectures of config.json chose the class; the cache holds its graph.
    expect(await readdir(join(graphCacheDir, 'LevitForImageClassificationWithTeacher'))).toHaveLength(1);

    const requests = server.requests.length;
    const again: LoadProgress[] = [];
    const offline = await imageClassification('facebook/levit-256', {
      cacheDir,
      graphCacheDir,
      localFilesOnly: true,
      onProgress: (progress) => again.push(progress),
    });
    expect(failedCases(await answers(offline))).toEqual([]);
    await offline.dispose();
    expect(again).toEqual([]);
    expect(server.requests.length).toBe(requests);
  });
});
