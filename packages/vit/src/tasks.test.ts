import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AbortedError,
  InvalidArgumentError,
  ModelNotFoundError,
  classifyOptionsFromKwargs,
} from '@ortvision/core';
import {
  assertJsonClose,
  fixtureImagePath,
  fixturePath,
  fixtureVariant,
  loadFixture,
} from '@ortvision/core/testing';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ViTImageProcessor } from './image-processing.js';
import { ViTForImageClassification, ViTModel } from './modeling.js';
import { imageClassification, imageFeatureExtraction } from './tasks.js';

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
    await assertJsonClose(result, testCase.expected, testCase.atol ?? 0);
  });
});

describe('imageClassification', () => {
  it('gives one list per image for a list, all labels for a large topK, and 5 by default', async () => {
    const classify = await imageClassification(fixturePath('vit-cls'));
    const batch = await classify([fixtureImagePath('cats.png'), fixtureImagePath('camera.png')], {
      topK: 100,
    });
    expect(batch).toHaveLength(2);
    expect(batch[0]).toHaveLength(5);
    expect(batch[0]!.reduce((sum, r) => sum + r.score, 0)).toBeCloseTo(1, 5);
    const single = await classify(fixtureImagePath('cats.png'));
    expect(single).toHaveLength(5);
    expect(single).toEqual(batch[0]);
    await expect(classify([])).rejects.toThrowError(
      new InvalidArgumentError('imageClassification got an empty list: give at least one image'),
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
    const [best] = await classify(fixtureImagePath('digits/digit_1555_0.png'), { topK: 1 });
    expect(best!.label).toBe('0');
    await classify.dispose();
    expect(model.disposed).toBe(false);
    await model.dispose();
  });
});

describe('imageClassification options and signal', () => {
  it('refuses misspelled load and call options, naming the closest valid one', async () => {
    await expect(imageClassification(fixturePath('vit-cls'), { devce: 'cpu' } as never)).rejects.toThrowError(
      new InvalidArgumentError("unknown option 'devce' for imageClassification (did you mean 'device'?)"),
    );
    await expect(imageClassification(fixturePath('vit-cls'), { processsor: {} } as never)).rejects.toThrow(
      "(did you mean 'processor'?)",
    );
    const classify = await imageClassification(fixturePath('vit-cls'));
    for (const [typo, meant] of [
      ['topk', 'topK'],
      ['top_k', 'topK'],
      ['functionToAply', 'functionToApply'],
    ]) {
      await expect(classify(fixtureImagePath('cats.png'), { [typo!]: 3 } as never)).rejects.toThrowError(
        new InvalidArgumentError(
          `unknown option '${typo}' for the imageClassification call (did you mean '${meant}'?)`,
        ),
      );
    }
    await expect(classify(fixtureImagePath('cats.png'), null as never)).rejects.toThrow(InvalidArgumentError);
    await classify.dispose();
  });

  it('an aborted signal stops the call with AbortedError; the pipeline still works afterwards', async () => {
    const classify = await imageClassification(fixturePath('vit-cls'));
    await expect(classify(fixtureImagePath('cats.png'), { signal: AbortSignal.abort() })).rejects.toThrow(
      AbortedError,
    );
    const controller = new AbortController();
    const call = classify([fixtureImagePath('cats.png'), fixtureImagePath('camera.png')], {
      signal: controller.signal,
    });
    controller.abort();
    await expect(call).rejects.toThrow(AbortedError);
    expect(await classify(fixtureImagePath('cats.png'), { topK: 1 })).toHaveLength(1);
    await classify.dispose();
  });

  it('an aborted signal stops loading; a processor that fails to load leaks no model', async () => {
    await expect(
      imageClassification(fixturePath('vit-cls'), { signal: AbortSignal.abort() }),
    ).rejects.toThrow(AbortedError);
    const folder = await fixtureVariant('vit-cls', await mkdtemp(join(tmpdir(), 'ortvision-vit-task-')), {
      'preprocessor_config.json': null,
    });
    const dispose = vi.spyOn(ViTForImageClassification.prototype, 'dispose');
    try {
      await expect(imageClassification(folder)).rejects.toThrow(ModelNotFoundError);
      expect(dispose).toHaveBeenCalledTimes(1);
    } finally {
      dispose.mockRestore();
      await rm(folder, { recursive: true, force: true });
    }
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
