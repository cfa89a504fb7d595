import { InvalidArgumentError } from '@ortvision/core';
import { fixtureImagePath, fixturePath } from '@ortvision/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURE, manifest, mismatch } from './__fixtures__/cases.js';
import { imageSegmentationOptionsFromPythonKwargs } from './kwargs.js';
import { Mask2FormerForUniversalSegmentation } from './modeling.js';
import { imageSegmentation } from './tasks.js';

const segment = await imageSegmentation(fixturePath(FIXTURE));
afterAll(() => segment.dispose());
const cases = (await manifest()).pipeline;

// Every image-segmentation pipeline case: labels, scores (atol) and 0/255 masks at the original size (exact).
describe('imageSegmentation on mask2former pipeline cases', () => {
  it('has cases', () => expect(cases.length).toBe(4));
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
    const [image] = testCase.inputs.images as string[];
    const result = await segment(
      fixtureImagePath(image!),
      imageSegmentationOptionsFromPythonKwargs(testCase.kwargs),
    );
    expect(await mismatch(result, testCase.expected, testCase.atol ?? 0)).toBeUndefined();
    for (const { mask } of result) expect(mask.channels).toBe(1);
  });
});

describe('imageSegmentation options', () => {
  it('rejects an unknown subtask and NaN thresholds with typed errors', async () => {
    const image = fixtureImagePath('noise_37x53.png');
    await expect(segment(image, { subtask: 'depth' as never })).rejects.toThrow(InvalidArgumentError);
    await expect(segment(image, { threshold: Number.NaN })).rejects.toThrow(/threshold/);
    await expect(segment(image, { subtask: 'instance', threshold: Number.NaN })).rejects.toThrow(
      InvalidArgumentError,
    );
  });

  it('fuses labels on request and leaves a caller-owned model loaded', async () => {
    const model = await Mask2FormerForUniversalSegmentation.fromPretrained(fixturePath(FIXTURE));
    const own = await imageSegmentation(model);
    const image = fixtureImagePath('noise_37x53.png');
    const fused = await own(image, { threshold: 0.3, labelIdsToFuse: [4, 5] });
    expect(fused.map((s) => s.label)).toEqual(['sky']);
    await own.dispose();
    expect(model.disposed).toBe(false);
    await model.dispose();
  });
});
