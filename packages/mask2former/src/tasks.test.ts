import { AbortedError, InvalidArgumentError, ModelRunError } from '@ortvision/core';
import { fixtureImagePath, fixturePath } from '@ortvision/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURE, manifest, mismatch } from './__fixtures__/cases.js';
import { Mask2FormerImageProcessor } from './image-processing.js';
import { imageSegmentationOptionsFromKwargs } from './kwargs.js';
import { Mask2FormerForUniversalSegmentation } from './modeling.js';
import { type Segment, imageSegmentation } from './tasks.js';

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
      imageSegmentationOptionsFromKwargs(testCase.kwargs),
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

describe('imageSegmentation batches, parts and signal', () => {
  it('a list of images gives one list of segments per image, each as the image alone gives it', async () => {
    const images = [fixtureImagePath('noise_37x53.png'), fixtureImagePath('cats.png')];
    const perImage: Segment[][] = await segment(images, { subtask: 'semantic' });
    expect(perImage).toHaveLength(2);
    for (const [i, image] of images.entries()) {
      const alone: Segment[] = await segment(image, { subtask: 'semantic' });
      expect(perImage[i]!.map((s) => s.label)).toEqual(alone.map((s) => s.label));
      expect(perImage[i]!.map((s) => s.mask.data)).toEqual(alone.map((s) => s.mask.data));
    }
    await expect(segment([])).rejects.toThrowError(
      new InvalidArgumentError('imageSegmentation got an empty list: give at least one image'),
    );
  });

  it('takes a processor instead of loading one, and stops on an aborted signal', async () => {
    const processor = await Mask2FormerImageProcessor.fromPretrained(fixturePath(FIXTURE));
    const own = await imageSegmentation(fixturePath(FIXTURE), { processor });
    const image = fixtureImagePath('noise_37x53.png');
    expect(await own(image)).toEqual(await segment(image));
    await expect(own(image, { signal: AbortSignal.abort() })).rejects.toThrow(AbortedError);
    await own.dispose();
  });

  it('NaN model outputs are a ModelRunError, not empty or NaN results', async () => {
    const processor = await Mask2FormerImageProcessor.fromPretrained(fixturePath(FIXTURE));
    const model = await Mask2FormerForUniversalSegmentation.fromPretrained(fixturePath(FIXTURE));
    const outputs = await model.forward(await processor.preprocess(fixtureImagePath('noise_37x53.png')));
    outputs.class_queries_logits.data[3] = Number.NaN;
    expect(() => processor.postProcessPanopticSegmentation(outputs)).toThrowError(ModelRunError);
    expect(() => processor.postProcessPanopticSegmentation(outputs)).toThrow(
      /class_queries_logits hold NaN at index 3/,
    );
    await model.dispose();
  });

  it('post-processing and preprocess refuse misspelled options', async () => {
    const processor = await Mask2FormerImageProcessor.fromPretrained(fixturePath(FIXTURE));
    const image = fixtureImagePath('noise_37x53.png');
    await expect(processor.preprocess(image, { sizeDivisr: 32 } as never)).rejects.toThrowError(
      new InvalidArgumentError(
        "unknown option 'sizeDivisr' for Mask2FormerImageProcessor.preprocess (did you mean 'sizeDivisor'?)",
      ),
    );
    expect((await processor.preprocess(image, { sizeDivisor: 0 })).pixel_values.rank).toBe(4);
    const model = await Mask2FormerForUniversalSegmentation.fromPretrained(fixturePath(FIXTURE));
    const outputs = await model.forward(await processor.preprocess(image));
    expect(() => processor.postProcessInstanceSegmentation(outputs, { treshold: 0.5 } as never)).toThrow(
      "unknown option 'treshold' for postProcessInstanceSegmentation (did you mean 'threshold'?)",
    );
    await model.dispose();
  });
});
