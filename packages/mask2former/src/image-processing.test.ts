import { ConfigError, Image, InvalidArgumentError } from '@ortvision/core';
import {
  compareTensors,
  describeComparison,
  fixtureImagePath,
  fixturePath,
  imageProcessorCases,
  readNpy,
} from '@ortvision/core/testing';
import { describe, expect, it } from 'vitest';
import { FIXTURE } from './__fixtures__/cases.js';
import { Mask2FormerImageProcessor } from './image-processing.js';
import { preprocessOptionsFromKwargs } from './kwargs.js';

const processor = await Mask2FormerImageProcessor.fromPretrained(fixturePath(FIXTURE));
const cases = await imageProcessorCases(FIXTURE);

// Every processor case: pixel_values and pixel_mask bit-exact for PNG, the JPEG case within its atol.
describe('Mask2FormerImageProcessor on mask2former processor cases', () => {
  it('has cases', () => expect(cases.length).toBe(15));
  it.each(cases)('%s', async (_name, testCase) => {
    const images = (testCase.inputs.images as string[]).map(fixtureImagePath);
    const out = await processor.preprocess(images, preprocessOptionsFromKwargs(testCase.kwargs));
    for (const name of ['pixel_values', 'pixel_mask'] as const) {
      const expected = await readNpy(fixturePath(FIXTURE, testCase.outputs[name]!));
      const comparison = compareTensors(out[name], expected, { atol: testCase.atol ?? 0 });
      expect(comparison.ok, `${name}: ${describeComparison(comparison)}`).toBe(true);
    }
  });
});

describe('Mask2FormerImageProcessor sizes', () => {
  const image = (width: number, height: number) =>
    new Image(new Uint8Array(width * height * 3), width, height, 3);
  const dims = async (img: Image, options = {}) =>
    (await processor.preprocess(img, options)).pixel_values.dims;

  it('rounds both sides up to size_divisor and caps the long side', async () => {
    // 37x53 -> short 32, long int(32 * 53 / 37) = 45 -> rounded up to 48 x 32
    expect(await dims(image(37, 53))).toEqual([1, 3, 48, 32]);
    // 100x20 -> long capped at 48, short int(48 * 32 / 160) = 9 -> 16 x 48
    expect(await dims(image(100, 20))).toEqual([1, 3, 16, 48]);
    expect(await dims(image(37, 53), { sizeDivisor: 0 })).toEqual([1, 3, 45, 32]);
  });

  it('keeps the size when the short side already equals shortest_edge (transformers returns early)', async () => {
    expect(await dims(image(32, 100), { sizeDivisor: 0 })).toEqual([1, 3, 100, 32]);
  });

  it('reads a bare int size as {shortest_edge, longest_edge: _max_size}', async () => {
    expect(await dims(image(40, 20), { size: 10, sizeDivisor: 0 })).toEqual([1, 3, 10, 20]);
  });

  it('rejects a bad size_divisor with a typed error', async () => {
    await expect(processor.preprocess(image(8, 8), { sizeDivisor: -1 })).rejects.toThrow(
      InvalidArgumentError,
    );
    await expect(processor.preprocess(image(8, 8), { sizeDivisor: 1.5 })).rejects.toThrow(/sizeDivisor/);
    expect(() => new Mask2FormerImageProcessor({ size_divisor: 'x' })).toThrowError(
      new ConfigError('preprocessor config: size_divisor must be an integer >= 0 (0 = no rounding), got "x"'),
    );
    expect(() => new Mask2FormerImageProcessor({ _max_size: 0 }, 'x/preprocessor_config.json')).toThrowError(
      new ConfigError('x/preprocessor_config.json: _max_size must be an integer >= 1, got 0'),
    );
    expect(() => new Mask2FormerImageProcessor({ size: { longest_edge: 8 } })).not.toThrow(ConfigError);
    await expect(
      new Mask2FormerImageProcessor({ size: { longest_edge: 8 } }).preprocess(image(8, 8)),
    ).rejects.toThrow(/shortest_edge, longest_edge/);
  });
});
