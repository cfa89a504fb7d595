import { type LabelScore, type Tensor, classifyOptionsFromKwargs } from '@ortvision/core';
import { fixtureImagePath, fixturePath, loadFixture } from '@ortvision/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { imageClassification, imageFeatureExtraction } from './tasks.js';

function expectScores(actual: LabelScore[], expected: LabelScore[], atol: number) {
  expect(actual.map((r) => r.label)).toEqual(expected.map((r) => r.label));
  actual.forEach((r, i) => expect(Math.abs(r.score - expected[i]!.score)).toBeLessThanOrEqual(atol));
}

describe.each(['levit-cls', 'levit-teacher'])('image-classification pipeline cases of %s', async (name) => {
  const { manifest } = await loadFixture(fixturePath(name));
  const classify = await imageClassification(fixturePath(name));
  afterAll(() => classify.dispose());

  it.each(manifest.pipeline.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
    const images = (testCase.inputs.images as string[]).map(fixtureImagePath);
    const result = await classify(
      images.length === 1 ? images[0]! : images,
      classifyOptionsFromKwargs(testCase.kwargs),
    );
    if (images.length === 1) {
      expectScores(result as LabelScore[], testCase.expected as unknown as LabelScore[], testCase.atol ?? 0);
    } else {
      const expected = testCase.expected as unknown as LabelScore[][];
      expect(result).toHaveLength(expected.length);
      (result as LabelScore[][]).forEach((r, i) => expectScores(r, expected[i]!, testCase.atol ?? 0));
    }
  });
});

describe('image-feature-extraction case of levit-base', async () => {
  const { manifest } = await loadFixture(fixturePath('levit-base'));
  it.each(manifest.pipeline.map((c) => [c.name, c] as const))(
    '%s gives pooler_output',
    async (_name, testCase) => {
      const embed = await imageFeatureExtraction(fixturePath('levit-base'));
      const images = (testCase.inputs.images as string[]).map(fixtureImagePath);
      const features: Tensor<'float32'> = await embed(images);
      const expected = testCase.expected as number[][];
      expect(features.dims).toEqual([expected.length, expected[0]!.length]);
      const flat = expected.flat();
      flat.forEach((value, i) =>
        expect(Math.abs(features.data[i]! - value)).toBeLessThanOrEqual(testCase.atol ?? 0),
      );
      await embed.dispose();
    },
  );
});
