import {
  InputShapeError,
  InvalidArgumentError,
  type LabelScore,
  classifyOptionsFromKwargs,
} from '@ortvision/core';
import { fixtureImagePath, fixturePath, loadFixture } from '@ortvision/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { ViTImageProcessor } from './image-processing.js';
import { ViTForImageClassification, ViTModel } from './modeling.js';
import { imageClassification, imageFeatureExtraction } from './tasks.js';

function expectScores(actual: LabelScore[], expected: LabelScore[], atol: number) {
  expect(actual.map((r) => r.label)).toEqual(expected.map((r) => r.label));
  actual.forEach((r, i) => expect(Math.abs(r.score - expected[i]!.score)).toBeLessThanOrEqual(atol));
}

// vit-digits is trained for real: its 30 held-out digits must get the labels and scores PyTorch gave them.
describe.each(['vit-cls', 'vit-digits'])('image-classification pipeline cases of %s', async (name) => {
  const { manifest } = await loadFixture(fixturePath(name));
  const classify = await imageClassification(fixturePath(name));
  afterAll(() => classify.dispose());

  it.each(manifest.pipeline.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
    const images = (testCase.inputs.images as string[]).map(fixtureImagePath);
    const result = await classify(
      images.length === 1 ? images[0]! : images,
      classifyOptionsFromKwargs(testCase.kwargs),
    );
    expectScores(result as LabelScore[], testCase.expected as unknown as LabelScore[], testCase.atol ?? 0);
  });
});

describe('imageClassification', () => {
  it('gives one list per image for a list, all labels for a large topK, and 5 by default', async () => {
    const classify = await imageClassification(fixturePath('vit-cls'));
    const batch = (await classify([fixtureImagePath('cats.png'), fixtureImagePath('camera.png')], {
      topK: 100,
    })) as LabelScore[][];
    expect(batch).toHaveLength(2);
    expect(batch[0]).toHaveLength(5);
    expect(batch[0]!.reduce((sum, r) => sum + r.score, 0)).toBeCloseTo(1, 5);
    const single = (await classify(fixtureImagePath('cats.png'))) as LabelScore[];
    expect(single).toHaveLength(5);
    expect(single).toEqual(batch[0]);
    await expect(classify([])).rejects.toThrowError(
      new InputShapeError('expected at least one image, got an empty list'),
    );
    await expect(classify(fixtureImagePath('cats.png'), { topK: 0 })).rejects.toThrowError(
      InvalidArgumentError,
    );
    await classify.dispose();
  });

  it('uses a loaded model and processor as given and leaves them to the caller', async () => {
    const model = await ViTForImageClassification.fromPretrained(fixturePath('vit-digits'));
    const processor = await ViTImageProcessor.fromPretrained(fixturePath('vit-digits'));
    const classify = await imageClassification(model, { processor });
    const [best] = (await classify(fixtureImagePath('digits/digit_1555_0.png'), { topK: 1 })) as LabelScore[];
    expect(best!.label).toBe('0');
    await classify.dispose();
    expect(model.disposed).toBe(false);
    await model.dispose();
  });
});

describe('imageFeatureExtraction', () => {
  it('returns pooled features [batch, hidden] or per-token features [batch, tokens, hidden]', async () => {
    const model = await ViTModel.fromPretrained(fixturePath('vit-base'));
    const embed = await imageFeatureExtraction(model);
    const pooled = await embed([fixtureImagePath('cats.png'), fixtureImagePath('logo.png')]);
    expect(pooled.dims).toEqual([2, 32]);
    const tokens = await embed(fixtureImagePath('cats.png'), { pool: false });
    expect(tokens.dims).toEqual([1, 17, 32]);
    await embed.dispose();
    await model.dispose();
  });

  it('says which output is missing when the graph has no pooler', async () => {
    const embed = await imageFeatureExtraction(fixturePath('vit-cls'));
    await expect(embed(fixtureImagePath('cats.png'))).rejects.toThrowError(
      "the model's graph has no pooler_output output (it has: logits); use pool: false for per-token features",
    );
    await embed.dispose();
  });
});
