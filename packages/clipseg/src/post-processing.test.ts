import { InputShapeError, InvalidArgumentError, ModelRunError, Tensor } from '@ortvision/core';
import { describe, expect, it } from 'vitest';
import { maskToImage, postProcessPromptMasks, thresholdMask } from './post-processing.js';

describe('postProcessPromptMasks', () => {
  it('applies the sigmoid, then resizes bilinearly (align_corners=False) to the image size', () => {
    // 2x2 -> 2x4: columns sample at x = 0.25 * (2j + 1) - 0.5, clamped: [0, 0.25, 0.75, 1] between the two.
    const logits = new Tensor('float32', new Float32Array([0, 0, Math.log(3), Math.log(3)]), [1, 2, 2]);
    const masks = postProcessPromptMasks(logits, [2, 4]);
    expect(masks.dims).toEqual([1, 2, 4]);
    expect(Array.from(masks.data)).toEqual([0.5, 0.5, 0.5, 0.5, 0.75, 0.75, 0.75, 0.75]);
    const across = postProcessPromptMasks(
      new Tensor('float32', new Float32Array([0, Math.log(3)]), [1, 2]),
      [1, 4],
    );
    expect(Array.from(across.data).map((v) => Math.round(v * 1e6) / 1e6)).toEqual([
      0.5, 0.5625, 0.6875, 0.75,
    ]);
  });

  it('takes one prompt squeezed ([h, w]) and refuses other shapes', () => {
    expect(postProcessPromptMasks(Tensor.zeros('float32', [3, 3]), [5, 6]).dims).toEqual([1, 5, 6]);
    expect(() => postProcessPromptMasks(Tensor.zeros('float32', [1, 1, 3, 3]), [5, 6])).toThrow(
      InputShapeError,
    );
    expect(() => postProcessPromptMasks(Tensor.zeros('float32', [3]), [5, 6])).toThrow(
      'postProcessPromptMasks needs float32 logits [prompts, h, w] or [h, w], got float32 [3]',
    );
  });
});

describe('thresholdMask and maskToImage', () => {
  const mask = new Tensor('float32', new Float32Array([0.1, 0.5, 0.51, 1]), [2, 2]);

  it('thresholds above the threshold (default 0.5)', () => {
    const binary = thresholdMask(mask);
    expect(binary.dtype).toBe('bool');
    expect(binary.dims).toEqual([2, 2]);
    expect(Array.from(binary.data)).toEqual([0, 0, 1, 1]);
    expect(Array.from(thresholdMask(mask, 0.05).data)).toEqual([1, 1, 1, 1]);
  });

  it('draws a grayscale image: probabilities, or black and white with a threshold', async () => {
    const gray = maskToImage(mask);
    expect([gray.width, gray.height, gray.channels]).toEqual([2, 2, 1]);
    expect(Array.from(gray.data)).toEqual([26, 128, 130, 255]);
    const binary = maskToImage(mask, { threshold: 0.5 });
    expect(Array.from(binary.data)).toEqual([0, 0, 255, 255]);
    const png = await binary.toPng();
    expect(png.subarray(1, 4).toString()).toBe('PNG');
  });

  it('refuses NaN logits (ModelRunError) and misspelled maskToImage options', () => {
    const logits = new Tensor('float32', Float32Array.from([0, Number.NaN, 1, 2]), [1, 2, 2]);
    expect(() => postProcessPromptMasks(logits, [4, 4])).toThrowError(ModelRunError);
    expect(() => maskToImage(mask, { treshold: 0.5 } as never)).toThrowError(
      new InvalidArgumentError("unknown option 'treshold' for maskToImage (did you mean 'threshold'?)"),
    );
  });

  it('refuses bad masks and thresholds', () => {
    expect(() => thresholdMask(mask, 2)).toThrow(InvalidArgumentError);
    expect(() => thresholdMask(mask, Number.NaN)).toThrow(
      'threshold must be a finite number from 0 to 1, got NaN',
    );
    expect(() => maskToImage(Tensor.zeros('float32', [1, 2, 2]))).toThrow(
      'maskToImage needs one float32 mask [height, width], got float32 [1, 2, 2]',
    );
  });
});
