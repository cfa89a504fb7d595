import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { InputShapeError, InvalidArgumentError } from '../errors.js';
import { annotateImage, palette } from './draw.js';

function gray(width: number, height: number, value = 128) {
  return { width, height, channels: 3, data: new Uint8Array(width * height * 3).fill(value) };
}

async function decode(png: Buffer) {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (x: number, y: number) => [
    ...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3),
  ];
  return { info, at };
}

describe('annotateImage', () => {
  it('returns the image unchanged as PNG when there is nothing to draw', async () => {
    const { info, at } = await decode(await annotateImage(gray(20, 10, 77), {}));
    expect([info.width, info.height]).toEqual([20, 10]);
    expect(at(5, 5)).toEqual([77, 77, 77]);
  });

  it('adds a white caption band under the image, one line per caption', async () => {
    const png = await annotateImage(gray(200, 100), { captions: ['cat 0.9', 'dog 0.1'] });
    const { info, at } = await decode(png);
    expect(info.width).toBe(200);
    expect(info.height).toBeGreaterThan(100 + 2 * 11);
    expect(at(199, info.height - 1)).toEqual([255, 255, 255]);
    expect(at(100, 50)).toEqual([128, 128, 128]);
  });

  it('blends each mask in its palette colour where the mask is set, and nowhere else', async () => {
    const mask = new Float32Array(10 * 10);
    for (let y = 0; y < 5; y++) for (let x = 0; x < 10; x++) mask[y * 10 + x] = 1;
    const png = await annotateImage(gray(10, 10, 0), { masks: [{ mask, label: 'sky' }], maskOpacity: 1 });
    const { info, at } = await decode(png);
    expect(info.height).toBeGreaterThan(10); // legend band
    expect(at(3, 2)).toEqual([...palette[0]!]);
    expect(at(3, 7)).toEqual([0, 0, 0]);
  });

  it('draws a box outline in its colour and leaves the inside alone', async () => {
    const png = await annotateImage(gray(100, 100, 0), {
      boxes: [{ box: { xmin: 20, ymin: 30, xmax: 80, ymax: 90 }, label: 'x' }],
    });
    const { at } = await decode(png);
    const [r, g, b] = palette[0]!;
    const edge = at(50, 90);
    expect(Math.abs(edge[0]! - r) + Math.abs(edge[1]! - g) + Math.abs(edge[2]! - b)).toBeLessThan(40);
    expect(at(50, 60)).toEqual([0, 0, 0]);
  });

  it('draws a box that reaches outside the image clipped, with its edge visible at the border', async () => {
    const png = await annotateImage(gray(100, 100, 0), {
      boxes: [{ box: { xmin: 40, ymin: 40, xmax: 160, ymax: 160 }, label: 'x' }],
    });
    const { at } = await decode(png);
    const [r] = palette[0]!;
    // The right and bottom edges are drawn on the last pixel column and row instead of off the canvas.
    expect(Math.abs(at(99, 70)[0]! - r)).toBeLessThan(40);
    expect(Math.abs(at(70, 99)[0]! - r)).toBeLessThan(40);
    expect(at(70, 70)).toEqual([0, 0, 0]);
  });

  it('scales a large image down to maxSide, boxes with it, and encodes as asked', async () => {
    const big = gray(4000, 2000, 0);
    const png = await annotateImage(
      big,
      { boxes: [{ box: { xmin: 2000, ymin: 1000, xmax: 4000, ymax: 2000 }, label: 'x' }] },
      { maxSide: 400 },
    );
    const { info, at } = await decode(png);
    expect([info.width, info.height]).toEqual([400, 200]);
    expect(png.length).toBeLessThan(100_000);
    // The box's left edge lands at x = 2000 / 10.
    const [r] = palette[0]!;
    expect(Math.abs(at(200, 150)[0]! - r)).toBeLessThan(40);
    expect(at(150, 150)).toEqual([0, 0, 0]);
    const jpeg = await annotateImage(gray(20, 10), {}, { format: 'jpeg' });
    expect((await sharp(jpeg).metadata()).format).toBe('jpeg');
    await expect(annotateImage(gray(4, 4), {}, { maxSide: 0 })).rejects.toThrowError(
      new InvalidArgumentError('maxSide must be an integer >= 1, got 0'),
    );
    await expect(annotateImage(gray(4, 4), {}, { format: 'bmp' as never })).rejects.toThrowError(
      new InvalidArgumentError('format must be one of png, jpeg, webp, got "bmp"'),
    );
  });

  it('refuses masks of the wrong size and bad opacity by name', async () => {
    await expect(
      annotateImage(gray(4, 4), { masks: [{ mask: new Float32Array(15), label: 'cat' }] }),
    ).rejects.toThrowError(
      new InputShapeError('mask "cat" has 15 values, expected 4x4 = 16 (the image size)'),
    );
    await expect(annotateImage(gray(4, 4), { maskOpacity: 2 })).rejects.toThrowError(InvalidArgumentError);
  });
});
