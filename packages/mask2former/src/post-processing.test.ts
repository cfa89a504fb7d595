import { InputShapeError, InvalidArgumentError, Tensor } from '@ortvision/core';
import { fixturePath } from '@ortvision/core/testing';
import { describe, expect, it } from 'vitest';
import { caseOutputs, manifest, mismatch, runPostprocessCase } from './__fixtures__/cases.js';
import { Mask2FormerImageProcessor } from './image-processing.js';
import {
  postProcessInstanceSegmentation,
  postProcessPanopticSegmentation,
  postProcessSemanticSegmentation,
} from './post-processing.js';

const processor = await Mask2FormerImageProcessor.fromPretrained(fixturePath('mask2former'));
const cases = (await manifest()).postprocess;

// Every post-process case of the fixture: maps, ids, labels and RLEs exact; scores within the case's atol.
describe('mask2former post-process cases', () => {
  it('has cases of the three kinds', () => {
    for (const kind of ['semantic', 'instance', 'panoptic']) {
      expect(cases.some((c) => c.call.includes(kind))).toBe(true);
    }
  });
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
    const result = await runPostprocessCase(processor, testCase);
    expect(await mismatch(result, testCase.expected, testCase.atol ?? 0)).toBeUndefined();
  });

  it('the comparison fails on a changed pixel or id', async () => {
    const testCase = cases.find((c) => c.name === 'crafted-panoptic-fuse-thresholds')!;
    const results = (await runPostprocessCase(processor, testCase)) as ReturnType<
      typeof postProcessPanopticSegmentation
    >;
    const map = results[0]!.segmentation.data as Int32Array;
    map[5]! += 1;
    expect(await mismatch(results, testCase.expected, 1e-4)).toMatch(/element 5/);
    map[5]! -= 1;
    results[0]!.segments_info[6]!.id = 6; // transformers reuses id 4 here (the quirk)
    expect(await mismatch(results, testCase.expected, 1e-4)).toMatch(/segments_info\[6\]\.id/);
  });
});

const outputs = (batch: number, queries: number, classes: number, h = 4, w = 4) => ({
  class_queries_logits: new Tensor('float32', new Float32Array(batch * queries * classes), [
    batch,
    queries,
    classes,
  ]),
  masks_queries_logits: new Tensor('float32', new Float32Array(batch * queries * h * w), [
    batch,
    queries,
    h,
    w,
  ]),
});

describe('post-processing input checks', () => {
  const good = outputs(2, 3, 4);
  const all = [
    postProcessSemanticSegmentation,
    postProcessInstanceSegmentation,
    postProcessPanopticSegmentation,
  ];

  it('rejects target sizes of the wrong count or shape', () => {
    for (const fn of all) {
      expect(() => fn(good, { targetSizes: [[10, 10]] })).toThrow(InputShapeError);
      expect(() => fn(good, { targetSizes: [[10, 10], [10]] })).toThrow(InvalidArgumentError);
      expect(() =>
        fn(good, {
          targetSizes: [
            [10, 10],
            [0, 4],
          ],
        }),
      ).toThrow(/targetSizes\[1\]/);
      expect(() =>
        fn(good, {
          targetSizes: [
            [10, 10],
            [2.5, 4],
          ],
        }),
      ).toThrow(InvalidArgumentError);
    }
  });

  it('rejects NaN and non-number thresholds', () => {
    expect(() => postProcessInstanceSegmentation(good, { threshold: Number.NaN })).toThrow(/threshold/);
    expect(() => postProcessPanopticSegmentation(good, { maskThreshold: Number.NaN })).toThrow(
      InvalidArgumentError,
    );
    expect(() =>
      postProcessPanopticSegmentation(good, { overlapMaskAreaThreshold: '0.5' as unknown as number }),
    ).toThrow(InvalidArgumentError);
    expect(() => postProcessPanopticSegmentation(good, { labelIdsToFuse: [1.5] })).toThrow(
      InvalidArgumentError,
    );
  });

  it('rejects coco annotation together with binary maps', () => {
    expect(() =>
      postProcessInstanceSegmentation(good, { returnCocoAnnotation: true, returnBinaryMaps: true }),
    ).toThrow(InvalidArgumentError);
  });

  it('rejects outputs of the wrong shape or dtype', () => {
    const mismatched = { ...good, masks_queries_logits: outputs(1, 3, 4).masks_queries_logits };
    for (const fn of all) {
      expect(() => fn(mismatched)).toThrow(InputShapeError);
      expect(() =>
        fn({ ...good, class_queries_logits: new Tensor('float32', new Float32Array(4), [4]) }),
      ).toThrow(/class_queries_logits/);
      expect(() => fn({} as never)).toThrow(InputShapeError);
    }
  });
});
