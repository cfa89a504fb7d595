import { Image, InputShapeError, InvalidArgumentError } from '@ortvision/core';
import {
  checkImageProcessorCase,
  describeComparison,
  fixturePath,
  imageProcessorCases,
} from '@ortvision/core/testing';
import { describe, expect, it } from 'vitest';
import { axisTaps, gaussianKernel, mirrorCoordinate, mirrorIndex } from './anti-aliased-resize.js';
import { Owlv2ImageProcessor } from './image-processing.js';

// Every processor case of the owlv2 fixture that has images (the image processor's own cases and the image part
// of the Owlv2Processor cases): pixel_values / query_pixel_values within the case's atol (1e-4: scipy's filters;
// 0.04 for the EXIF JPEG).
describe('Owlv2ImageProcessor on the owlv2 processor cases', async () => {
  const processor = await Owlv2ImageProcessor.fromPretrained(fixturePath('owlv2'));
  const cases = await imageProcessorCases('owlv2');
  it('has image cases', () => expect(cases.length).toBe(14));
  it.each(cases)('%s', async (_caseName, testCase) => {
    for (const { output, comparison } of await checkImageProcessorCase(processor, 'owlv2', testCase)) {
      expect(comparison.ok, `${output}: ${describeComparison(comparison)}`).toBe(true);
    }
  });
});

describe('scipy mirror mode', () => {
  it('reflects about the edge sample (d c b | a b c d | c b a)', () => {
    expect([-3, -2, -1, 0, 3, 4, 5, 6].map((i) => mirrorIndex(i, 4))).toEqual([3, 2, 1, 0, 3, 2, 1, 0]);
    expect(mirrorIndex(5, 1)).toBe(0);
    expect(mirrorCoordinate(-0.25, 4)).toBe(0.25);
    // past the last sample scipy leaves (n - 1, n) alone: interpolation then reads sample n, mirrored to n - 2
    expect(mirrorCoordinate(3.5, 4)).toBe(3.5);
    expect(mirrorCoordinate(5.5, 4)).toBe(0.5);
  });

  it('builds the Gaussian kernel scipy uses (radius int(4 sigma + 0.5), sum 1)', () => {
    const kernel = gaussianKernel(0.5);
    expect(kernel.length).toBe(5);
    expect(kernel.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 15);
    expect(kernel[2]! / kernel[1]!).toBeCloseTo(Math.exp(2), 12);
    expect(Array.from(gaussianKernel(0))).toEqual([1]);
  });

  it('folds filter and zoom into taps that sum to 1 per output', () => {
    const taps = axisTaps(100, 7);
    for (let k = 0; k < 7; k++) {
      let sum = 0;
      for (let t = taps.start[k]!; t < taps.start[k + 1]!; t++) sum += taps.weight[t]!;
      expect(sum).toBeCloseTo(1, 12);
    }
  });
});

describe('Owlv2ImageProcessor', () => {
  it('pads a flat image with gray and keeps flat regions flat', async () => {
    const processor = new Owlv2ImageProcessor({ size: { height: 8, width: 8 }, do_normalize: false });
    const image = new Image(new Uint8Array(4 * 16 * 3).fill(255), 16, 4, 3);
    const { pixel_values } = await processor.preprocess(image);
    expect(pixel_values.dims).toEqual([1, 3, 8, 8]);
    const data = pixel_values.data;
    expect(data[0]).toBe(1); // top-left: white
    expect(data[7 * 8]).toBe(0.5); // bottom-left: padding
  });

  it('refuses images of different sizes without resizing', async () => {
    const processor = new Owlv2ImageProcessor({ do_resize: false, do_pad: false });
    const a = new Image(new Uint8Array(4 * 4 * 3), 4, 4, 3);
    const b = new Image(new Uint8Array(4 * 5 * 3), 5, 4, 3);
    await expect(processor.preprocess([a, b])).rejects.toThrow(InputShapeError);
  });

  it('refuses a shortest_edge size', async () => {
    const processor = new Owlv2ImageProcessor({});
    const a = new Image(new Uint8Array(4 * 4 * 3), 4, 4, 3);
    await expect(processor.preprocess(a, { size: { shortest_edge: 10 } })).rejects.toThrow(
      InvalidArgumentError,
    );
  });
});
