import { Tensor } from '@ortvision/core';
import {
  type CheckpointFolders,
  checkModelCases,
  checkPipelineCases,
  checkpointFolders,
  failedCases,
  fixturePath,
  loadFixture,
} from '@ortvision/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageSegmentationOptionsFromKwargs } from './kwargs.js';
import { Mask2FormerForUniversalSegmentation, modelClasses } from './modeling.js';
import { imageSegmentation } from './tasks.js';

// Issue 21, done when: imageSegmentation (semantic, instance, panoptic) works on a folder holding only config.json,
// preprocessor_config.json and the checkpoint (no onnx/), as facebook/mask2former-* hold them: the graph is built
// from the checkpoint at load (graphSource 'auto') and answers every case of the fixture.

const FIXTURE = 'mask2former';

// A copy of the fixture without onnx/, and a graph cache of this file's own.
let folders: CheckpointFolders;
let folder: string;
beforeAll(async () => {
  folders = await checkpointFolders('mask2former');
  folder = await folders.folder(FIXTURE);
});
afterAll(() => folders.remove());

describe('a Mask2Former folder with the checkpoint and no onnx/', () => {
  it('has one class, Mask2FormerForUniversalSegmentation, with one graph', () => {
    expect(Object.keys(modelClasses)).toEqual(['Mask2FormerForUniversalSegmentation']);
    expect(Mask2FormerForUniversalSegmentation.graphs).toEqual({ model: 'model' });
  });

  it('Mask2FormerForUniversalSegmentation builds its graph and answers every model case', async () => {
    const model = await Mask2FormerForUniversalSegmentation.fromPretrained(folder, folders.options);
    try {
      expect(failedCases(await checkModelCases(model, FIXTURE))).toEqual([]);
    } finally {
      await model.dispose();
    }
  });

  it('imageSegmentation answers every pipeline case: semantic, instance and panoptic', async () => {
    const { manifest } = await loadFixture(fixturePath(FIXTURE));
    const subtasks = new Set(manifest.pipeline.map((c) => c.kwargs.subtask));
    expect(subtasks).toEqual(new Set(['semantic', 'instance', 'panoptic']));
    const segment = await imageSegmentation(folder, folders.options);
    try {
      const results = await checkPipelineCases(FIXTURE, 'image-segmentation', async (testCase, images) => {
        expect(images).toHaveLength(1);
        const segments = await segment(images[0]!, imageSegmentationOptionsFromKwargs(testCase.kwargs));
        // The manifest keeps each mask as a uint8 [H, W] .npy.
        return segments.map(({ score, label, mask }) => ({
          score,
          label,
          mask: new Tensor('uint8', mask.data, [mask.height, mask.width]),
        }));
      });
      expect(results.map((r) => r.case)).toEqual(manifest.pipeline.map((c) => c.name));
      expect(failedCases(results)).toEqual([]);
    } finally {
      await segment.dispose();
    }
  });
});
