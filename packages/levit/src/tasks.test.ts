import { type Tensor, classifyOptionsFromKwargs } from '@ortvision/core';
import { assertJsonClose, fixtureImagePath, fixturePath, loadFixture } from '@ortvision/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { imageClassification, imageFeatureExtraction } from './tasks.js';

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
    await assertJsonClose(result, testCase.expected, testCase.atol ?? 0);
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

describe('imageClassification loading', () => {
  it('passes loading options to the model and only the Hub options to config and processor', async () => {
    const classify = await imageClassification(fixturePath('levit-teacher'), {
      device: 'cpu',
      dtype: 'fp32',
    });
    const [best] = await classify(fixtureImagePath('cats.png'), { topK: 1 });
    expect(typeof best!.label).toBe('string');
    await classify.dispose();
    await expect(
      imageClassification(fixturePath('levit-teacher'), { dtyp: 'fp32' } as never),
    ).rejects.toThrow("unknown option 'dtyp' for imageClassification (did you mean 'dtype'?)");
  });
});
