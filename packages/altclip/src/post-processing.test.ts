import { InputShapeError, InvalidArgumentError, Tensor } from '@ortvision/core';
import { type JsonValue, assertJsonClose, fixturePath, loadFixture, readNpy } from '@ortvision/core/testing';
import { describe, expect, it } from 'vitest';
import {
  checkLogitScale,
  logitsFromNormalized,
  rankCandidateLabels,
  similarityFromEmbeddings,
} from './post-processing.js';

const dir = fixturePath('altclip');
const { manifest } = await loadFixture(dir);

describe('similarityFromEmbeddings', () => {
  const cases = manifest.postprocess.filter((c) => c.call === 'altclip_similarity');
  it('has a case', () => expect(cases.length).toBeGreaterThan(0));

  it.each(cases.map((c) => [c.name, c] as const))('postprocess case %s', async (_name, testCase) => {
    const text = (await readNpy(`${dir}/${testCase.inputs.text_embeds as string}`)) as Tensor<'float32'>;
    const image = (await readNpy(`${dir}/${testCase.inputs.image_embeds as string}`)) as Tensor<'float32'>;
    const result = similarityFromEmbeddings(text, image, {
      logitScale: testCase.kwargs.logit_scale as number,
    });
    const expected = testCase.expected as Record<string, unknown>;
    expect(Object.keys(result).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, value] of Object.entries(expected)) {
      await assertJsonClose(result[name as keyof typeof result], value as JsonValue, testCase.atol ?? 0);
    }
  });

  it('rejects mismatched embedding sizes and a bad logitScale', () => {
    const a = Tensor.zeros('float32', [2, 16]);
    const b = Tensor.zeros('float32', [1, 8]);
    expect(() => similarityFromEmbeddings(a, b, { logitScale: 1 })).toThrow(InputShapeError);
    expect(() => similarityFromEmbeddings(a, a, { logitScale: Number.NaN })).toThrow(InvalidArgumentError);
    expect(() => similarityFromEmbeddings(a, a, { logitScale: 100 })).toThrow(
      /did you pass the scale instead of its log/,
    );
    expect(checkLogitScale(Math.log(100))).toBeCloseTo(4.6052, 4);
    expect(() => logitsFromNormalized(a, a, 89)).toThrow(InvalidArgumentError);
    expect(() => similarityFromEmbeddings(Tensor.zeros('float32', [16]), a, { logitScale: 1 })).toThrow(
      /textEmbeds must be a float32 Tensor \[batch, projection_dim\], got float32 \[16\]/,
    );
  });
});

describe('rankCandidateLabels', () => {
  it('sorts by softmax score with ties in label order, and keeps topK', () => {
    const logits = new Tensor('float32', Float32Array.from([1, 3, 1, 3]), [1, 4]);
    const ranked = rankCandidateLabels(logits, ['a', 'b', 'c', 'd']);
    expect(ranked[0]!.map((r) => r.label)).toEqual(['b', 'd', 'a', 'c']);
    expect(ranked[0]![0]!.score).toBeCloseTo(Math.exp(3) / (2 * Math.exp(3) + 2 * Math.exp(1)), 6);
    expect(rankCandidateLabels(logits, ['a', 'b', 'c', 'd'], 1)[0]).toHaveLength(1);
  });

  it('gives 1.0 for a single label (softmax, not sigmoid)', () => {
    const logits = new Tensor('float32', Float32Array.from([-3]), [1, 1]);
    expect(rankCandidateLabels(logits, ['only'])).toEqual([[{ label: 'only', score: 1 }]]);
  });

  it('rejects logits that do not match the labels', () => {
    expect(() => rankCandidateLabels(Tensor.zeros('float32', [1, 3]), ['a', 'b'])).toThrow(InputShapeError);
  });
});
