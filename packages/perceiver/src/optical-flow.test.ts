import { Image, InputShapeError, InvalidArgumentError, Tensor, loadImage } from '@ortvision/core';
import {
  compareTensors,
  describeComparison,
  fixtureImagePath,
  fixturePath,
  loadFixture,
  readNpy,
} from '@ortvision/core/testing';
import { describe, expect, it } from 'vitest';
import { PerceiverForOpticalFlow } from './modeling.js';
import { computeGridIndices, computeOpticalFlow, extractImagePatches } from './optical-flow.js';
import { flowToImage } from './post-processing.js';

const { manifest } = await loadFixture(fixturePath('perceiver-flow'));

describe('extractImagePatches on the perceiver-flow processor cases', () => {
  it.each(manifest.processor.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
    expect(testCase.kwargs).toEqual({ kernel: 3 });
    const crops = testCase.inputs.crops as [number, number, number, number][];
    const [frame1, frame2] = await Promise.all(
      (testCase.inputs.images as string[]).map(async (file, i) => {
        const [y, x, h, w] = crops[i]!;
        return (await loadImage(fixtureImagePath(file))).crop(x, y, w, h);
      }),
    );
    const comparison = compareTensors(
      extractImagePatches(frame1!, frame2!),
      await readNpy(fixturePath('perceiver-flow', testCase.outputs.inputs!)),
    );
    expect(comparison.ok, describeComparison(comparison)).toBe(true);
  });
});

describe('computeGridIndices', () => {
  it('moves the last row and column flush with the border and keeps duplicates (the notebook)', () => {
    // columns: range(0, 12, 8) = [0, 8], the last moved to 12 - 12 = 0: [0, 0]
    expect(computeGridIndices([20, 12], [8, 12], 4)).toEqual(
      [0, 4, 8, 12, 12].flatMap((y) => [
        [y, 0],
        [y, 0],
      ]),
    );
  });

  it('moves a tile the notebook would place past the border flush with it', () => {
    // range(0, 21, 4) = 0..20: the notebook's tile at 16 would end at 24 > 21
    const grid = computeGridIndices([21, 13], [8, 13], 4); // two (equal) columns per row
    expect(grid.filter((_, i) => i % 2 === 0).map(([y]) => y)).toEqual([0, 4, 8, 12, 13, 13]);
  });

  it('refuses an overlap as large as a tile and images smaller than a tile', () => {
    expect(() => computeGridIndices([20, 20], [8, 12], 8)).toThrowError(
      new InvalidArgumentError('minOverlap must be an integer from 0 to 7 (below the tile size 8x12), got 8'),
    );
    expect(() => computeGridIndices([4, 20], [8, 12], 2)).toThrowError(InputShapeError);
  });
});

describe('computeOpticalFlow', () => {
  it('handles frames of any size: smaller than a tile, odd sizes, and batches of tiles', async () => {
    const model = await PerceiverForOpticalFlow.fromPretrained(fixturePath('perceiver-flow'));
    const frame = await loadImage(fixtureImagePath('motorcycle_left.png'));
    const next = await loadImage(fixtureImagePath('motorcycle_right.png'));
    const small = await computeOpticalFlow(model, frame.crop(300, 200, 5, 6), next.crop(300, 200, 5, 6));
    expect(small.dims).toEqual([6, 5, 2]);
    const [a, b] = [frame.crop(280, 170, 31, 21), next.crop(280, 170, 31, 21)];
    const one = await computeOpticalFlow(model, a, b, { minOverlap: 4 });
    const batched = await computeOpticalFlow(model, a, b, { minOverlap: 4, batchSize: 7 });
    expect(one.dims).toEqual([21, 31, 2]);
    expect(compareTensors(batched, one, { atol: 1e-6 }).ok).toBe(true);
    await expect(computeOpticalFlow(model, a, frame.crop(0, 0, 30, 21))).rejects.toThrowError(
      new InputShapeError('the two frames must have the same size, got 31x21 and 30x21'),
    );
    await expect(computeOpticalFlow(model, a, b, { batchSize: 0 })).rejects.toThrowError(
      InvalidArgumentError,
    );
    await model.dispose();
  });
});

describe('flowToImage', () => {
  it('draws still pixels white and directions on the colour wheel', () => {
    const flow = new Tensor('float32', Float32Array.of(0, 0, 2, 0, -2, 0, 0, 2), [1, 4, 2]);
    const image = flowToImage(flow);
    expect(image).toBeInstanceOf(Image);
    expect([image.width, image.height, image.channels]).toEqual([4, 1, 3]);
    const pixel = (i: number) => Array.from(image.data.subarray(i * 3, i * 3 + 3));
    expect(pixel(0)).toEqual([255, 255, 255]); // no motion
    expect(pixel(1)).toEqual([255, 0, 0]); // right: red, fully saturated
    expect(pixel(2)[0]).toBeLessThan(10); // left: cyan to blue
    expect(pixel(2)[2]).toBeGreaterThan(250);
    // a fixed scale saturates less and darkens above it
    expect(pixel(1)).not.toEqual(Array.from(flowToImage(flow, { maxFlow: 4 }).data.subarray(3, 6)));
  });

  it('refuses a field that is not [H, W, 2]', () => {
    expect(() => flowToImage(Tensor.zeros('float32', [4, 4]))).toThrowError(
      new InputShapeError('a flow field must be [height, width, 2], got [4, 4]'),
    );
    expect(() => flowToImage(Tensor.zeros('float32', [1, 1, 2]), { maxFlow: 0 })).toThrowError(
      InvalidArgumentError,
    );
  });
});
