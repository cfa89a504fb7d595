import { describe, expect, it } from 'vitest';
import { InputShapeError, InvalidArgumentError } from '../errors.js';
import { Image } from './image.js';
import { centerCrop, padImage, pixelLookup, stackPlanar, toPlanar } from './transforms.js';

function gray(width: number, height: number): Image {
  return new Image(
    new Uint8Array(width * height).map((_, i) => i + 1),
    width,
    height,
    1,
  );
}

describe('centerCrop (transformers 4.37 center_crop)', () => {
  it('starts the window at floor((size - crop) / 2)', () => {
    const out = centerCrop(gray(5, 4), { height: 3, width: 2 });
    // rows floor(1/2) = 0.., cols floor(3/2) = 1..
    expect(Array.from(out.data)).toEqual([2, 3, 7, 8, 12, 13]);
  });

  it('zero-pads an even difference to the full crop', () => {
    const out = centerCrop(gray(2, 2), { height: 4, width: 4 });
    expect([out.width, out.height]).toEqual([4, 4]);
    expect(Array.from(out.data)).toEqual([0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0]);
  });

  it('returns one pixel less than the crop when the padding is odd (levit-base no-resize)', () => {
    const out = centerCrop(gray(2, 1), { height: 4, width: 5 });
    // height: start floor(-3/2) = -2, pad 1 -> rows [-1, 3) of the image = 3 rows; width: 3 cols likewise -> 4
    expect([out.width, out.height]).toEqual([4, 3]);
    expect(Array.from(out.data)).toEqual([0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0]);
  });

  it('truncates float sizes and rejects empty ones', () => {
    expect(centerCrop(gray(5, 5), { height: 2.9, width: 3.2 }).height).toBe(2);
    expect(() => centerCrop(gray(5, 5), { height: 0.5, width: 3 })).toThrow(InvalidArgumentError);
  });
});

describe('padImage', () => {
  it('pads each side with a constant', () => {
    const out = padImage(gray(1, 1), { top: 1, right: 2 }, 9);
    expect([out.width, out.height]).toEqual([3, 2]);
    expect(Array.from(out.data)).toEqual([9, 9, 9, 1, 9, 9]);
    expect(() => padImage(gray(1, 1), { left: -1 })).toThrow(/padding left must be an integer >= 0/);
  });
});

describe('pixelLookup / toPlanar', () => {
  it('rescales in float64 then casts, normalizes in float32', () => {
    const [table] = pixelLookup(1, { rescaleFactor: 1 / 255, mean: [0.485], std: [0.229] });
    const f = Math.fround;
    for (const v of [0, 1, 128, 254, 255]) {
      expect(table![v]).toBe(f(f(f(v * (1 / 255)) - f(0.485)) / f(0.229)));
    }
    const [raw] = pixelLookup(1, { mean: [0.5], std: [0.25] });
    expect(raw![255]).toBe(f(f(255 - 0.5) / 0.25));
    expect(() => pixelLookup(3, { mean: [0.5], std: [0.5] })).toThrow(/image_mean must have 3 values/);
  });

  it('writes HWC pixels as CHW planes and stacks a batch', () => {
    const image = new Image(new Uint8Array([1, 2, 3, 4, 5, 6]), 2, 1, 3);
    const planar = toPlanar(image);
    expect(Array.from(planar.data)).toEqual([1, 4, 2, 5, 3, 6]);
    const batch = stackPlanar([planar, planar]);
    expect(batch.dims).toEqual([2, 3, 1, 2]);
    expect(() => stackPlanar([planar, toPlanar(gray(2, 1))])).toThrow(InputShapeError);
  });
});
