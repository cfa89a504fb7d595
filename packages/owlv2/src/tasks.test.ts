import { InvalidArgumentError } from '@ortvision/core';
import { afterAll, describe, expect, it } from 'vitest';
import { dir, expectJsonClose, image, manifest } from './__fixtures__/owlv2-cases.js';
import { Owlv2ForObjectDetection } from './modeling.js';
import { imageGuidedObjectDetection, zeroShotObjectDetection } from './tasks.js';

const model = await Owlv2ForObjectDetection.fromPretrained(dir);
const detect = await zeroShotObjectDetection(model);
const find = await imageGuidedObjectDetection(model);
afterAll(async () => {
  await detect.dispose();
  await find.dispose();
  await model.dispose();
});

describe('zeroShotObjectDetection on the owlv2 pipeline cases', () => {
  const cases = manifest.pipeline.filter((c) => c.task === 'zero-shot-object-detection');
  it('has the four cases', () => expect(cases.length).toBe(4));

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
    const { threshold, top_k } = testCase.kwargs as { threshold: number; top_k?: number };
    const found = await detect(
      image((testCase.inputs.images as string[])[0]!),
      testCase.inputs.candidate_labels as string[],
      {
        threshold,
        ...(top_k !== undefined ? { topK: top_k } : {}),
      },
    );
    await expectJsonClose(found, testCase.expected, testCase.atol ?? 0);
  });

  it('splits one string of labels on commas, as the pipeline does', async () => {
    const a = await detect(image('cats.png'), 'cat,couch', { threshold: 0.6 });
    const b = await detect(image('cats.png'), ['cat', 'couch'], { threshold: 0.6 });
    expect(a).toEqual(b);
    expect(a.length).toBeGreaterThan(0);
  });

  it('refuses a NaN threshold, a bad topK and no labels', async () => {
    await expect(detect(image('cats.png'), ['cat'], { threshold: Number.NaN })).rejects.toThrow(
      InvalidArgumentError,
    );
    await expect(detect(image('cats.png'), ['cat'], { topK: 0 })).rejects.toThrow(
      /topK must be a positive integer/,
    );
    await expect(detect(image('cats.png'), [])).rejects.toThrow(/labels must be a non-empty list/);
  });
});

describe('imageGuidedObjectDetection', () => {
  it('finds what the python pipeline case finds in cats.png for motorcycle_right.png (best first, int boxes)', async () => {
    const testCase = manifest.pipeline.find((c) => c.name === 'image-guided-detection')!;
    const found = await find(image('cats.png'), image('motorcycle_right.png'), {
      threshold: testCase.kwargs.threshold as number,
      nmsThreshold: testCase.kwargs.nms_threshold as number,
    });
    const [first] = (testCase.expected as { results: { scores: number[]; boxes: number[][] }[] }).results;
    const want = first!.scores
      .map((score, i) => {
        const [xmin, ymin, xmax, ymax] = first!.boxes[i]!.map(Math.trunc) as [number, number, number, number];
        return { score, box: { xmin, ymin, xmax, ymax } };
      })
      .sort((a, b) => b.score - a.score);
    await expectJsonClose(found, want, 1e-4);
    expect(found[0]!.score).toBeCloseTo(1, 5);
  });

  it('refuses a NaN nmsThreshold', async () => {
    await expect(find(image('cats.png'), image('logo.png'), { nmsThreshold: Number.NaN })).rejects.toThrow(
      InvalidArgumentError,
    );
  });
});
