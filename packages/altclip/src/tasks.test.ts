import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AbortedError, InvalidArgumentError, type LabelScore, ModelRunError, Tensor } from '@ortvision/core';
import {
  assertJsonClose,
  fixtureImagePath,
  fixturePath,
  fixtureVariant,
  loadFixture,
} from '@ortvision/core/testing';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { AltCLIPModel } from './modeling.js';
import { embedImage, embedText, formatHypothesis, similarity, zeroShotImageClassification } from './tasks.js';

const dir = fixturePath('altclip');
const { manifest } = await loadFixture(dir);
const classify = await zeroShotImageClassification(dir);
afterAll(() => classify.dispose());

describe('zeroShotImageClassification on the pipeline cases of fixture altclip', () => {
  const cases = manifest.pipeline.filter((c) => c.task === 'zero-shot-image-classification');
  it('has cases', () => expect(cases.length).toBeGreaterThan(0));

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
    const images = (testCase.inputs.images as string[]).map((name) => fixtureImagePath(name));
    const { candidate_labels, hypothesis_template, ...rest } = testCase.kwargs;
    expect(rest).toEqual({});
    const options =
      hypothesis_template === undefined ? {} : { hypothesisTemplate: hypothesis_template as string };
    const result = await classify(
      images.length === 1 ? images[0]! : images,
      candidate_labels as string[],
      options,
    );
    await assertJsonClose(result, testCase.expected, testCase.atol ?? 0);
  });
});

describe('text embeddings are computed once per label', () => {
  it('reuses cached labels and embeds only new ones; prompts with the same ids share one embedding', async () => {
    const model = await AltCLIPModel.fromPretrained(dir);
    try {
      const run = await zeroShotImageClassification(model);
      const spy = vi.spyOn(model, 'getTextFeatures');
      const image = fixtureImagePath('cats.png');
      const first = await run(image, ['cat', 'dog'], { topK: 1 });
      expect(first).toHaveLength(1);
      expect(spy).toHaveBeenCalledTimes(1);
      expect(spy.mock.calls[0]![0].input_ids.dims[0]).toBe(2);
      await run(fixtureImagePath('chelsea.png'), ['dog', 'cat']);
      expect(spy).toHaveBeenCalledTimes(1);
      // 猫 and 狗 are both '▁' + <unk> for this vocabulary: one embedding, exactly tied scores
      const tied: LabelScore[] = await run(image, ['cat', '猫', '狗'], { hypothesisTemplate: '{}' });
      expect(spy).toHaveBeenCalledTimes(2);
      expect(spy.mock.calls[1]![0].input_ids.dims[0]).toBe(2);
      const unknown = tied.filter((r) => r.label !== 'cat');
      expect(unknown[0]!.score).toBe(unknown[1]!.score);
      expect(unknown.map((r) => r.label)).toEqual(['猫', '狗']);
      await run.dispose();
      expect(model.disposed).toBe(false);
    } finally {
      await model.dispose();
    }
  });
});

describe('the text embedding cache option', () => {
  it.each([
    [{ textEmbeddingCacheSize: 0 }, 2],
    [{ textEmbeddingCacheSize: 8 }, 1],
    [{ textCacheSize: 0 }, 2], // the deprecated name still works
  ])('with %o embeds a text asked twice %i time(s)', async (options, runs) => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const model = await AltCLIPModel.fromPretrained(dir);
    try {
      const embed = await embedText(model, options);
      const spy = vi.spyOn(model, 'getTextFeatures');
      await embed('a cat');
      await embed('a cat');
      expect(spy).toHaveBeenCalledTimes(runs);
      await embed.dispose();
    } finally {
      await model.dispose();
      warn.mockRestore();
    }
  });

  it('refuses the deprecated textCacheSize beside textEmbeddingCacheSize', async () => {
    await expect(embedText(dir, { textCacheSize: 4, textEmbeddingCacheSize: 4 })).rejects.toThrowError(
      new InvalidArgumentError(
        'textCacheSize is the old name of textEmbeddingCacheSize: give only textEmbeddingCacheSize (got both, 4 and 4)',
      ),
    );
  });
});

describe('embedText, embedImage and similarity', () => {
  it('give L2-normalized vectors whose scaled dot products are the logits of model.onnx', async () => {
    const model = await AltCLIPModel.fromPretrained(dir);
    try {
      const texts = ['a photo of a cat', 'これは犬の写真です', '一只猫'];
      const images = [fixtureImagePath('cats.png'), fixtureImagePath('chelsea.png')];
      const [embedT, embedI, score] = await Promise.all([
        embedText(model),
        embedImage(model),
        similarity(model),
      ]);
      const t = await embedT(texts);
      const i = await embedI(images);
      expect(t.dims).toEqual([3, model.config.projection_dim]);
      expect(i.dims).toEqual([2, model.config.projection_dim]);
      for (const v of [t, i]) {
        const d = v.dims[1]!;
        for (let r = 0; r < v.dims[0]!; r++) {
          const norm = Math.hypot(...v.data.subarray(r * d, (r + 1) * d));
          expect(norm).toBeCloseTo(1, 5);
        }
      }
      expect((await embedT('一只猫')).toNumbers()).toEqual(Array.from(t.data.subarray(32, 48)));
      const result = await score(images, texts);
      const { AltCLIPProcessor } = await import('./processing.js');
      const processor = await AltCLIPProcessor.fromPretrained(dir);
      const joint = await model.forward(await processor.process({ text: texts, images, padding: true }));
      const got = result.logits_per_image.toNumbers();
      joint.logits_per_image.toNumbers().forEach((v, k) => expect(Math.abs(got[k]! - v)).toBeLessThan(1e-4));
      expect(result.logits_per_text.dims).toEqual([3, 2]);
      expect(result.probs_per_image.dims).toEqual([2, 3]);
    } finally {
      await model.dispose();
    }
  });

  it('rejects empty or non-string texts and empty image lists', async () => {
    const model = await AltCLIPModel.fromPretrained(dir, { loading: 'lazy' });
    try {
      const embedT = await embedText(model, { logitScale: 1 });
      await expect(embedT([])).rejects.toThrow(InvalidArgumentError);
      await expect(embedT([3 as unknown as string])).rejects.toThrow(/texts\[0\] must be a string, got 3/);
      const embedI = await embedImage(model);
      await expect(embedI([])).rejects.toThrow(/embedImage got an empty list/);
    } finally {
      await model.dispose();
    }
  });
});

describe('zeroShotImageClassification input checks', () => {
  const image = fixtureImagePath('cats.png');
  it('rejects empty, non-array and non-string candidate labels', async () => {
    await expect(classify(image, [])).rejects.toThrow(/candidateLabels is empty/);
    await expect(classify(image, 'cat' as unknown as string[])).rejects.toThrow(
      /must be an array of strings/,
    );
    await expect(classify(image, ['cat', null as unknown as string])).rejects.toThrow(
      /candidateLabels\[1\] must be a string, got null/,
    );
  });

  it('rejects a bad topK, a bad template and an empty image list', async () => {
    await expect(classify(image, ['cat'], { topK: 0 })).rejects.toThrow(InvalidArgumentError);
    await expect(classify(image, ['cat'], { hypothesisTemplate: 'a {label}' })).rejects.toThrow(
      InvalidArgumentError,
    );
    await expect(classify([], ['cat'])).rejects.toThrow(/zeroShotImageClassification got an empty list/);
  });

  it('rejects invalid options', async () => {
    await expect(zeroShotImageClassification(dir, { textCacheSize: -1 })).rejects.toThrow(/textCacheSize/);
  });
});

describe('logitScale, truncation, graphs and signal', () => {
  it('logitScale 100 (the scale, not its log) is refused with advice; a large valid one gives no NaN', async () => {
    await expect(zeroShotImageClassification(dir, { logitScale: 100 })).rejects.toThrowError(
      new InvalidArgumentError(
        'logitScale must be a finite number <= 80, the natural log of the similarity scale (trained models: 0 to ln 100 = 4.6052), got 100: its exp overflows float32 (did you pass the scale instead of its log? for a scale of 100 pass 4.6052)',
      ),
    );
    const peaked = await zeroShotImageClassification(dir, { logitScale: 60 });
    const ranked = await peaked(fixtureImagePath('cats.png'), ['cat', 'dog', 'a remote']);
    expect(ranked.every((r) => Number.isFinite(r.score))).toBe(true);
    expect(ranked.reduce((sum, r) => sum + r.score, 0)).toBeCloseTo(1, 6);
    await peaked.dispose();
  });

  it('the towers and logitScale suffice: a folder without model.onnx loads eagerly (graphGroups)', async () => {
    const folder = await fixtureVariant(
      'altclip',
      await mkdtemp(join(tmpdir(), 'ortvision-altclip-towers-')),
      // and no checkpoint, from which model.onnx would be built
      { 'onnx/model.onnx': null, 'pytorch_model.bin': null },
    );
    try {
      const towers = await zeroShotImageClassification(folder, { logitScale: Math.log(100) });
      const ranked = await towers(fixtureImagePath('cats.png'), ['cat', 'dog']);
      expect(ranked.map((r) => r.label).sort()).toEqual(['cat', 'dog']);
      await towers.dispose();
      // without logitScale the measurement needs model.onnx, and says so
      const measuring = await zeroShotImageClassification(folder);
      await expect(measuring(fixtureImagePath('cats.png'), ['cat'])).rejects.toThrow(/model\.onnx/);
      await measuring.dispose();
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('truncation: false makes an over-long label an error, as in Python', async () => {
    const long = 'cat '.repeat(600);
    await expect(classify(fixtureImagePath('cats.png'), [long], { truncation: false })).rejects.toThrow(
      /tokenize with truncation: true/,
    );
    expect(await classify(fixtureImagePath('cats.png'), [long])).toHaveLength(1);
  });

  it('NaN embeddings are a ModelRunError; an aborted signal an AbortedError', async () => {
    const model = await AltCLIPModel.fromPretrained(dir);
    try {
      const run = await zeroShotImageClassification(model, { logitScale: 1 });
      const features = vi
        .spyOn(model, 'getImageFeatures')
        .mockResolvedValue(new Tensor('float32', new Float32Array(16).fill(Number.NaN), [1, 16]));
      await expect(run(fixtureImagePath('cats.png'), ['cat'])).rejects.toThrow(ModelRunError);
      features.mockRestore();
      await expect(
        run(fixtureImagePath('cats.png'), ['cat'], { signal: AbortSignal.abort() }),
      ).rejects.toThrow(AbortedError);
      await run.dispose();
    } finally {
      await model.dispose();
    }
  });
});

describe('formatHypothesis (Python str.format with one argument)', () => {
  it('replaces {} or {0} and keeps doubled braces', () => {
    expect(formatHypothesis('This is a photo of {}.', 'cat')).toBe('This is a photo of cat.');
    expect(formatHypothesis('{0} / {0}', '猫')).toBe('猫 / 猫');
    expect(formatHypothesis('{{{}}}', 'x')).toBe('{x}');
    expect(formatHypothesis('no field', 'x')).toBe('no field');
  });

  it('rejects what Python rejects', () => {
    for (const bad of ['{} {}', '{1}', '{name}', '{', '}', '{} {0}', '{:>5}']) {
      expect(() => formatHypothesis(bad, 'x'), bad).toThrow(InvalidArgumentError);
    }
  });
});
