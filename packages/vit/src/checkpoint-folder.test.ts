import { classifyOptionsFromKwargs } from '@ortvision/core';
import {
  type CheckpointFolders,
  type LoadableForwardModelClass,
  checkModelCases,
  checkPipelineCases,
  checkpointFolders,
  compareTensors,
  describeComparison,
  failedCases,
  fixtureImagePath,
  fixturePath,
  loadFixture,
  readNpy,
} from '@ortvision/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ViTImageProcessor } from './image-processing.js';
import { ViTForImageClassification, ViTForMaskedImageModeling, ViTModel } from './modeling.js';
import { imageClassification, imageFeatureExtraction } from './tasks.js';

// Issue 18, done when: a folder with only config.json, preprocessor_config.json and the checkpoint (no onnx/), as
// the original Hub repositories are, works through every public class and task helper: the graphs are built from
// the checkpoint at load (graphSource 'auto') and answer every case of the fixture.

const classes: Record<string, LoadableForwardModelClass> = {
  ViTModel,
  ViTForImageClassification,
  ViTForMaskedImageModeling,
};

// Copies of the fixtures without onnx/ (config, preprocessor config, checkpoint).
let folders: CheckpointFolders;
beforeAll(async () => {
  folders = await checkpointFolders('vit');
});
afterAll(() => folders.remove());

describe('a ViT folder with the checkpoint and no onnx/', () => {
  it.each(['vit-cls', 'vit-base', 'vit-mim', 'vit-digits'])(
    '%s: its class builds the graph and answers every model case',
    async (name) => {
      const folder = await folders.folder(name);
      const { manifest } = await loadFixture(fixturePath(name));
      const ModelClass = classes[manifest.graphs['onnx/model.onnx']!.describes]!;
      const model = await ModelClass.fromPretrained(folder);
      try {
        expect(failedCases(await checkModelCases(model, name))).toEqual([]);
      } finally {
        await model.dispose();
      }
    },
  );

  it.each(['vit-cls', 'vit-digits'])('%s: imageClassification answers every pipeline case', async (name) => {
    const classify = await imageClassification(await folders.folder(name));
    try {
      const results = await checkPipelineCases(name, 'image-classification', (testCase, images) =>
        classify(images.length === 1 ? images[0]! : images, classifyOptionsFromKwargs(testCase.kwargs)),
      );
      expect(failedCases(results)).toEqual([]);
    } finally {
      await classify.dispose();
    }
  });

  it('vit-base: imageFeatureExtraction gives the pooler_output of its model case', async () => {
    const folder = await folders.folder('vit-base');
    const { manifest } = await loadFixture(fixturePath('vit-base'));
    const [testCase] = manifest.model;
    // The case's pixel values are the processor's on cats.png and chelsea.png (checked here, exactly).
    const images = ['cats.png', 'chelsea.png'].map((name) => fixtureImagePath(name));
    const processor = await ViTImageProcessor.fromPretrained(folder);
    const { pixel_values } = await processor.preprocess(images);
    const fed = await readNpy(fixturePath('vit-base', testCase!.feeds.pixel_values!));
    expect(compareTensors(pixel_values, fed, { atol: 0, rtol: 0 }).ok).toBe(true);
    const embed = await imageFeatureExtraction(folder);
    try {
      const features = await embed(images);
      const expected = await readNpy(fixturePath('vit-base', testCase!.expected.pooler_output!));
      const comparison = compareTensors(features, expected, { atol: testCase!.atol, rtol: testCase!.rtol });
      expect(comparison.ok, describeComparison(comparison)).toBe(true);
    } finally {
      await embed.dispose();
    }
  });
});
