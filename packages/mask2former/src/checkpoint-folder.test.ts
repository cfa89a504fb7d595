import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PretrainedOptions, Tensor } from '@ortvision/core';
import {
  checkModelCases,
  checkPipelineCases,
  failedCases,
  fixturePath,
  fixtureVariant,
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

let dir: string;
let folder: string;
/** A graph cache of this file's own: the tests never find graphs another test file (or the user) built. */
let options: PretrainedOptions;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ortvision-mask2former-checkpoint-folder-'));
  folder = await fixtureVariant(FIXTURE, join(dir, FIXTURE), { onnx: null });
  options = { graphCacheDir: join(dir, 'graph-cache') };
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a Mask2Former folder with the checkpoint and no onnx/', () => {
  it('has one class, Mask2FormerForUniversalSegmentation, with one graph', () => {
    expect(Object.keys(modelClasses)).toEqual(['Mask2FormerForUniversalSegmentation']);
    expect(Mask2FormerForUniversalSegmentation.graphs).toEqual({ model: 'model' });
  });

  it('Mask2FormerForUniversalSegmentation builds its graph and answers every model case', async () => {
    const model = await Mask2FormerForUniversalSegmentation.fromPretrained(folder, options);
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
    const segment = await imageSegmentation(folder, options);
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
