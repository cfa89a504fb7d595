import { InputShapeError, InvalidArgumentError, Tensor, loadImage } from '@ortvision/core';
import { fixtureImagePath, fixturePath } from '@ortvision/core/testing';
import { describe, expect, it } from 'vitest';
import { ViTImageProcessor } from './image-processing.js';
import { maskPatches, reconstructionToImages } from './post-processing.js';

describe('maskPatches', () => {
  it('masks round(ratio * patches) patches, the same for every image, reproducibly per seed', () => {
    const mask = maskPatches(16, { ratio: 0.5, seed: 3 }, 2);
    expect(mask.dtype).toBe('bool');
    expect(mask.dims).toEqual([2, 16]);
    const rows = [Array.from(mask.data.subarray(0, 16)), Array.from(mask.data.subarray(16))];
    expect(rows[0]!.filter(Boolean)).toHaveLength(8);
    expect(rows[1]).toEqual(rows[0]);
    expect(Array.from(maskPatches(16, { ratio: 0.5, seed: 3 }).data)).toEqual(rows[0]);
    expect(Array.from(maskPatches(16, { ratio: 0.5, seed: 4 }).data)).not.toEqual(rows[0]);
    expect(Array.from(maskPatches(16, { ratio: 1 }).data).every(Boolean)).toBe(true);
  });

  it('masks exactly the listed patches and refuses out-of-range ones', () => {
    expect(Array.from(maskPatches(4, { patches: [0, 3] }).data)).toEqual([1, 0, 0, 1]);
    expect(() => maskPatches(4, { patches: [4] })).toThrowError(
      new InvalidArgumentError('patch index 4 is out of range (expected 0..3)'),
    );
    expect(() => maskPatches(4, { ratio: 1.5 })).toThrowError(/ratio must be in \[0, 1\], got 1.5/);
  });
});

describe('reconstructionToImages', () => {
  it('inverts the processor: preprocess -> back to the original pixels exactly', async () => {
    const processor = await ViTImageProcessor.fromPretrained(fixturePath('vit-mim'));
    const { pixel_values } = await processor.preprocess(fixtureImagePath('noise_37x53.png'), {
      doResize: false,
    });
    const [image] = reconstructionToImages(pixel_values, processor);
    const { data, width, height } = await loadImage(fixtureImagePath('noise_37x53.png'));
    expect([image!.width, image!.height]).toEqual([width, height]);
    expect(Buffer.from(image!.data).equals(Buffer.from(data))).toBe(true);
  });

  it('refuses tensors that are not [batch, 3, H, W]', async () => {
    const processor = await ViTImageProcessor.fromPretrained(fixturePath('vit-mim'));
    expect(() => reconstructionToImages(Tensor.zeros('float32', [1, 1, 4, 4]), processor)).toThrowError(
      InputShapeError,
    );
  });
});
