import { InputShapeError, InvalidArgumentError, type TargetSizes, Tensor } from '@ortvision/core';
import type { JsonValue } from '@ortvision/core/testing';
import { describe, expect, it } from 'vitest';
import { expectJsonClose, manifest, npy } from './__fixtures__/owlv2-cases.js';
import { postProcessImageGuidedDetection, postProcessObjectDetection } from './post-processing.js';

const cases = manifest.postprocess;

describe('owlv2 postprocess cases', () => {
  it('has the object detection and image-guided cases', () => {
    expect(cases.map((c) => c.name)).toEqual([
      'od-padded-square-size',
      'od-original-size',
      'od-no-target-sizes',
      'od-batch2',
      'od-none',
      'igd-nms',
      'igd-no-nms',
      'igd-nms-strict',
    ]);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
    const { threshold, target_sizes, nms_threshold } = testCase.kwargs;
    const logits = await npy(testCase.inputs.logits as string);
    const targetSizes = (target_sizes ?? null) as TargetSizes;
    const result = testCase.call.endsWith('post_process_image_guided_detection')
      ? postProcessImageGuidedDetection(
          { logits, target_pred_boxes: await npy(testCase.inputs.target_pred_boxes as string) },
          { threshold: threshold as number, nmsThreshold: nms_threshold as number, targetSizes },
        )
      : postProcessObjectDetection(
          { logits, pred_boxes: await npy(testCase.inputs.pred_boxes as string) },
          { threshold: threshold as number, targetSizes },
        );
    await expectJsonClose(result, testCase.expected as JsonValue, testCase.atol ?? 0);
  });
});

describe('post-processing input checks', () => {
  const logits = new Tensor('float32', new Float32Array([0, 1, 2, 3]), [1, 2, 2]);
  const boxes = new Tensor('float32', new Float32Array([0.5, 0.5, 0.2, 0.2, 0.4, 0.4, 0.2, 0.2]), [1, 2, 4]);

  it('takes target sizes as a tensor of (height, width)', () => {
    const sizes = new Tensor('int64', BigInt64Array.from([100n, 200n]), [1, 2]);
    const [result] = postProcessObjectDetection(
      { logits, pred_boxes: boxes },
      { threshold: 0, targetSizes: sizes },
    );
    // (x0, y0, x1, y1) = (0.4, 0.4, 0.6, 0.6) * (width 200, height 100, 200, 100)
    result!.boxes[0]!.forEach((v, i) => expect(v).toBeCloseTo([80, 40, 120, 60][i]!, 4));
    expect(result!.labels).toEqual([1, 1]);
  });

  it('refuses a NaN threshold', () => {
    expect(() =>
      postProcessObjectDetection({ logits, pred_boxes: boxes }, { threshold: Number.NaN }),
    ).toThrow(InvalidArgumentError);
    expect(() =>
      postProcessImageGuidedDetection({ logits, target_pred_boxes: boxes }, { nmsThreshold: Number.NaN }),
    ).toThrow(/nmsThreshold must be a finite number/);
  });

  it('refuses target sizes that do not match the batch or are not pairs', () => {
    expect(() =>
      postProcessObjectDetection(
        { logits, pred_boxes: boxes },
        {
          targetSizes: [
            [1, 2],
            [3, 4],
          ],
        },
      ),
    ).toThrow(/2 target sizes for a batch of 1/);
    expect(() =>
      postProcessObjectDetection({ logits, pred_boxes: boxes }, { targetSizes: [[1, 2, 3]] }),
    ).toThrow(InvalidArgumentError);
    const wrongShape = new Tensor('float32', new Float32Array(3), [1, 3]);
    expect(() =>
      postProcessObjectDetection({ logits, pred_boxes: boxes }, { targetSizes: wrongShape }),
    ).toThrow(InputShapeError);
  });

  it('refuses outputs of the wrong shape', () => {
    expect(() => postProcessObjectDetection({ logits: boxes, pred_boxes: logits })).toThrow(InputShapeError);
    expect(() => postProcessObjectDetection({ pred_boxes: boxes })).toThrow(
      /logits must be a float32 tensor/,
    );
  });

  it('leaves out images whose scores are all zero after NMS, as Python does', () => {
    const masked = new Tensor('float32', new Float32Array([-1e6, -1e6, -1e6, -1e6]), [1, 2, 2]);
    expect(postProcessImageGuidedDetection({ logits: masked, target_pred_boxes: boxes })).toEqual([]);
  });
});
