import { AbortedError, InvalidArgumentError } from '@ortvision/core';
import { afterAll, describe, expect, it } from 'vitest';
import { dir, expectJsonClose, image, imageGuidedDetections, manifest } from './__fixtures__/owlv2-cases.js';
import { Owlv2ForObjectDetection } from './modeling.js';
import { Owlv2Processor } from './processing.js';
import {
  type Detection,
  type ImageGuidedDetection,
  imageGuidedObjectDetection,
  zeroShotObjectDetection,
} from './tasks.js';

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
      /topK must be an integer >= 1/,
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
    const want = imageGuidedDetections(testCase);
    await expectJsonClose(found, want, 1e-4);
    expect(found[0]!.score).toBeCloseTo(1, 5);
  });

  it('refuses a NaN nmsThreshold', async () => {
    await expect(find(image('cats.png'), image('logo.png'), { nmsThreshold: Number.NaN })).rejects.toThrow(
      InvalidArgumentError,
    );
  });
});

describe('zeroShotObjectDetection batches, truncation, options and signal', () => {
  it('a list of images gives one list per image, each as the image alone gives it', async () => {
    const images = [image('cats.png'), image('logo.png')];
    const perImage: Detection[][] = await detect(images, ['a cat', 'a logo'], { threshold: 0.3 });
    expect(perImage).toHaveLength(2);
    for (const [i, one] of images.entries()) {
      const alone: Detection[] = await detect(one, ['a cat', 'a logo'], { threshold: 0.3 });
      expect(perImage[i]).toEqual(alone);
    }
    await expect(detect([], ['a cat'])).rejects.toThrowError(
      new InvalidArgumentError('zeroShotObjectDetection got an empty list: give at least one image'),
    );
  });

  it('an over-long label fails with advice unless truncation: true cuts it', async () => {
    const long = 'a very small cat sitting on a red couch next to a remote control in the evening light';
    await expect(detect(image('cats.png'), [long])).rejects.toThrowError(
      /26 tokens, more than maxLength 16, and truncation is off: pass truncation: true/,
    );
    const cut: Detection[] = await detect(image('cats.png'), [long], { truncation: true, threshold: 0 });
    expect(cut.length).toBeGreaterThan(0);
    expect(cut[0]!.label).toBe(long);
  });

  it('refuses misspelled options and stops on an aborted signal', async () => {
    await expect(detect(image('cats.png'), ['a cat'], { treshold: 0.1 } as never)).rejects.toThrowError(
      new InvalidArgumentError(
        "unknown option 'treshold' for the zeroShotObjectDetection call (did you mean 'threshold'?)",
      ),
    );
    await expect(detect(image('cats.png'), ['a cat'], { signal: AbortSignal.abort() })).rejects.toThrow(
      AbortedError,
    );
    await expect(zeroShotObjectDetection(dir, { devce: 'cpu' } as never)).rejects.toThrow(
      "unknown option 'devce' for zeroShotObjectDetection (did you mean 'device'?)",
    );
  });

  it('takes a processor instead of loading one', async () => {
    const processor = await Owlv2Processor.fromPretrained(dir);
    const own = await zeroShotObjectDetection(model, { processor });
    expect(await own(image('cats.png'), ['a cat'])).toEqual(await detect(image('cats.png'), ['a cat']));
    await own.dispose();
  });
});

describe('imageGuidedObjectDetection batches', () => {
  it('a list of images is searched for the same query, one list per image', async () => {
    const images = [image('cats.png'), image('logo.png')];
    const perImage: ImageGuidedDetection[][] = await find(images, image('motorcycle_right.png'));
    expect(perImage).toHaveLength(2);
    expect(perImage[1]).toEqual(await find(image('logo.png'), image('motorcycle_right.png')));
  });
});
