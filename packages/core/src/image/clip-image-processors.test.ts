import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.js';
import { describeComparison } from '../testing/compare.js';
import { fixturePath } from '../testing/fixtures.js';
import { checkImageProcessorCase, imageProcessorCases } from '../testing/image-processor-cases.js';
import { CLIPImageProcessor } from './clip-image-processor.js';
import { Image } from './image.js';
import { ViTImageProcessor } from './vit-image-processor.js';

// Core's two processors on every image case of the fixtures whose packages use them as they are: pixel_values
// bit-exact for PNG, JPEG within the case's atol (0.04 where none is stated, as fixtures/README.md says).
describe.each([
  ['CLIPImageProcessor', 'altclip', CLIPImageProcessor],
  ['ViTImageProcessor', 'clipseg', ViTImageProcessor],
  ['ViTImageProcessor', 'vit-cls', ViTImageProcessor],
] as const)('%s on %s processor cases', async (_name, fixture, Processor) => {
  const processor = await Processor.fromPretrained(fixturePath(fixture));
  const cases = await imageProcessorCases(fixture);
  it('has image cases', () => expect(cases.length).toBeGreaterThan(0));
  it.each(cases)('%s', async (_caseName, testCase) => {
    for (const { output, comparison } of await checkImageProcessorCase(processor, fixture, testCase)) {
      expect(comparison.ok, `${output}: ${describeComparison(comparison)}`).toBe(true);
    }
  });
});

function gradient(width: number, height: number): Image {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) % 256;
  return new Image(data, width, height, 3);
}

describe('CLIPImageProcessor', () => {
  it("has transformers' CLIPImageProcessor defaults: shortest edge 224, bicubic, crop 224, OpenAI CLIP mean/std", () => {
    const { config } = new CLIPImageProcessor();
    expect(config.size).toEqual({ shortest_edge: 224 });
    expect([config.resample, config.do_center_crop, config.do_convert_rgb]).toEqual([3, true, true]);
    expect(config.crop_size).toEqual({ height: 224, width: 224 });
    expect(config.image_mean).toEqual([0.48145466, 0.4578275, 0.40821073]);
    expect(config.image_std).toEqual([0.26862954, 0.26130258, 0.27577711]);
  });

  it('reads a bare int size as the shortest edge: 40x20 -> short side 10, long side int(10 * 40 / 20), crop 8', async () => {
    const processor = new CLIPImageProcessor({ size: 10, crop_size: 8 });
    const resized = await processor.preprocess(gradient(40, 20), { doCenterCrop: false });
    expect(resized.pixel_values.dims).toEqual([1, 3, 10, 20]);
    const cropped = await processor.preprocess(gradient(40, 20));
    expect(cropped.pixel_values.dims).toEqual([1, 3, 8, 8]);
  });
});

describe('ViTImageProcessor', () => {
  it('resizes to {height, width} without cropping', async () => {
    const processor = new ViTImageProcessor({ size: { height: 12, width: 16 } });
    expect((await processor.preprocess(gradient(40, 20))).pixel_values.dims).toEqual([1, 3, 12, 16]);
  });

  it('names the class in use when size has no height and width (a subclass under its own name)', async () => {
    class CLIPSegLikeProcessor extends ViTImageProcessor {}
    const processor = new CLIPSegLikeProcessor();
    const attempt = processor.preprocess(gradient(8, 8), { size: { shortest_edge: 4 } });
    await expect(attempt).rejects.toThrowError(
      new InvalidArgumentError('CLIPSegLikeProcessor needs size {height, width}, got {"shortest_edge":4}'),
    );
  });

  it('a subclass computes the same pixels as the class itself', async () => {
    class Renamed extends ViTImageProcessor {}
    const config = { size: { height: 9, width: 7 }, image_mean: [0.4, 0.5, 0.6], image_std: [0.2, 0.3, 0.4] };
    const a = await new ViTImageProcessor(config).preprocess(gradient(30, 17));
    const b = await new Renamed(config).preprocess(gradient(30, 17));
    expect(b.pixel_values.dims).toEqual(a.pixel_values.dims);
    expect(Array.from(b.pixel_values.data)).toEqual(Array.from(a.pixel_values.data));
  });
});
