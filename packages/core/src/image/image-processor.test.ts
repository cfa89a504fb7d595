import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, InputShapeError, InvalidArgumentError, ModelNotFoundError } from '../errors.js';
import { compareTensors, describeComparison } from '../testing/compare.js';
import { fixtureImagePath, fixturePath } from '../testing/fixtures.js';
import { loadFixture } from '../testing/manifest.js';
import { readNpy } from '../testing/npy.js';
import { ImageProcessor } from './image-processor.js';
import { Image } from './image.js';
import { preprocessOptionsFromKwargs } from './kwargs.js';

// vit-cls's ViTImageProcessor is the generic pipeline with the base defaults, so the base class runs its cases.
// PNG cases are exact; the EXIF JPEG case has no atol in the manifest, 0.04 as fixtures/README.md says.
describe('ImageProcessor on vit-cls processor cases', async () => {
  const fixture = await loadFixture(fixturePath('vit-cls'));
  const processor = await ImageProcessor.fromPretrained(fixturePath('vit-cls'));
  it.each(fixture.manifest.processor.map((c) => [c.name, c]))('%s', async (_name, c) => {
    const testCase = c as (typeof fixture.manifest.processor)[number];
    const images = (testCase.inputs.images as string[]).map(fixtureImagePath);
    const { pixel_values } = await processor.preprocess(images, preprocessOptionsFromKwargs(testCase.kwargs));
    const expected = await readNpy(fixturePath('vit-cls', testCase.outputs.pixel_values!));
    const isJpeg = (testCase.inputs.images as string[]).some((f) => f.endsWith('.jpg'));
    const atol = testCase.atol ?? (isJpeg ? 0.04 : 0);
    const comparison = compareTensors(pixel_values, expected, { atol });
    expect(comparison.ok, describeComparison(comparison)).toBe(true);
    expect(pixel_values.dtype).toBe('float32');
  });
});

describe('ImageProcessor', () => {
  const red = new Image(new Uint8Array([255, 0, 0, 255, 0, 0, 255, 0, 0, 255, 0, 0]), 2, 2, 3);

  it('rescales and normalizes in float32 as numpy does', async () => {
    const processor = new ImageProcessor({
      do_resize: false,
      image_mean: [0.5, 0.4, 0.3],
      image_std: [0.2, 0.25, 0.3],
    });
    const { pixel_values } = await processor.preprocess(red);
    expect(pixel_values.dims).toEqual([1, 3, 2, 2]);
    const f = Math.fround;
    expect(pixel_values.data[0]).toBe(f(f(f(255 / 255) - f(0.5)) / f(0.2)));
    expect(pixel_values.data[4]).toBe(f(f(0 - f(0.4)) / f(0.25)));
  });

  it('applies camelCase overrides without changing the config', async () => {
    const processor = new ImageProcessor({ size: { height: 4, width: 4 } });
    const out = await processor.preprocess([red, red], {
      size: { height: 3, width: 5 },
      doNormalize: false,
      resample: 0,
    });
    expect(out.pixel_values.dims).toEqual([2, 3, 3, 5]);
    expect(Array.from(out.pixel_values.data.slice(0, 5))).toEqual([1, 1, 1, 1, 1]);
    expect((await processor.preprocess(red)).pixel_values.dims).toEqual([1, 3, 4, 4]);
  });

  it('pads a batch of different sizes when doPad is on, with a pixel mask', async () => {
    const processor = new ImageProcessor({ do_resize: false, do_normalize: false });
    const small = new Image(new Uint8Array([255, 255, 255]), 1, 1, 3);
    await expect(processor.preprocess([red, small])).rejects.toThrow(InputShapeError);
    const { pixel_values, pixel_mask } = await processor.preprocess([red, small], { doPad: true });
    expect(pixel_values.dims).toEqual([2, 3, 2, 2]);
    expect(Array.from(pixel_values.data.slice(12, 16))).toEqual([1, 0, 0, 0]);
    expect(pixel_mask?.toNumbers()).toEqual([1, 1, 1, 1, 1, 0, 0, 0]);
  });

  it('reports bad config fields as ConfigError and bad overrides as InvalidArgumentError', async () => {
    expect(() => new ImageProcessor({ size: { shortest: 3 } as never })).toThrow(ConfigError);
    expect(() => new ImageProcessor({ resample: 9 })).toThrow(/unknown resample filter 9/);
    expect(() => new ImageProcessor({ image_mean: [0.5, 0.5] })).toThrow(
      /image_mean must be a number or 3 numbers/,
    );
    const processor = new ImageProcessor();
    await expect(processor.preprocess(red, { size: -1 })).rejects.toThrow(InvalidArgumentError);
    await expect(processor.preprocess([])).rejects.toThrow(/at least one image/);
    expect(() => preprocessOptionsFromKwargs({ do_magic: true })).toThrow(
      /unknown image processor argument "do_magic"/,
    );
  });

  it('refuses values that would poison every result: a zero std, a rescale factor <= 0 or not finite', async () => {
    // Each would give NaN, Infinity or all-zero pixel values, and so scores of NaN (`null` in JSON) for every label.
    expect(() => new ImageProcessor({ image_std: [0.2, 0, 0.2] })).toThrowError(
      new ConfigError(
        'preprocessor config: image_std must be > 0 in every channel (normalize divides by it), got [0.2,0,0.2]',
      ),
    );
    expect(() => new ImageProcessor({ rescale_factor: 0 })).toThrow(ConfigError);
    expect(() => new ImageProcessor({ rescale_factor: Number.POSITIVE_INFINITY })).toThrow(ConfigError);
    const processor = new ImageProcessor();
    await expect(processor.preprocess(red, { imageStd: 0 })).rejects.toThrowError(
      new InvalidArgumentError('imageStd must be > 0 in every channel (normalize divides by it), got 0'),
    );
    await expect(processor.preprocess(red, { imageMean: [0.5, Number.NaN, 0.5] })).rejects.toThrow(
      'imageMean must be a number or 3 numbers (one per RGB channel), got [0.5,NaN,0.5]',
    );
    await expect(processor.preprocess(red, { rescaleFactor: Number.NaN })).rejects.toThrowError(
      new InvalidArgumentError('rescaleFactor must be a finite number > 0 (1/255 for 8-bit images), got NaN'),
    );
    // A config from a file names the file.
    const dir = await mkdtemp(join(tmpdir(), 'ortvision-proc-'));
    const file = join(dir, 'preprocessor_config.json');
    await writeFile(file, JSON.stringify({ image_std: [0, 0, 0] }));
    await expect(ImageProcessor.fromPretrained(dir)).rejects.toThrowError(
      new ConfigError(
        `${file}: image_std must be > 0 in every channel (normalize divides by it), got [0,0,0]`,
      ),
    );
  });

  it('reads preprocessor_config.json from a folder and reports missing or broken files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ortvision-proc-'));
    await expect(ImageProcessor.fromPretrained(dir)).rejects.toThrow(
      new ModelNotFoundError(
        `preprocessor_config.json not found in the model folder ${dir} (it has: nothing)`,
      ),
    );
    await writeFile(join(dir, 'preprocessor_config.json'), '{ nope');
    await expect(ImageProcessor.fromPretrained(dir)).rejects.toThrow(ConfigError);
    await expect(ImageProcessor.fromPretrained(dir)).rejects.toThrow(
      /preprocessor_config\.json is not valid JSON/,
    );
    await writeFile(join(dir, 'preprocessor_config.json'), JSON.stringify({ size: 8, do_normalize: false }));
    const processor = await ImageProcessor.fromPretrained(dir);
    expect(processor.resolveOptions().size).toEqual({ height: 8, width: 8 });
    await expect(ImageProcessor.fromPretrained(join(dir, 'missing'))).rejects.toThrow(
      /missing is neither an existing folder nor a Hub model id/,
    );
    // A path to the JSON file itself works too.
    const direct = await ImageProcessor.fromPretrained(join(dir, 'preprocessor_config.json'));
    expect(direct.resolveOptions().size).toEqual({ height: 8, width: 8 });
  });
});
