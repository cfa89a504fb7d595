import { ImageProcessor } from '@ortvision/core';
import { fixtureImagePath } from '@ortvision/core/testing';
import sharp from 'sharp';
import { type Suite, type SuiteResult, type Variant, compare } from './harness.js';

// Decode + resize + normalize of an encoded image to a square model input: ortvision's ImageProcessor (PIL-exact
// bilinear resize, float32 CHW output) against sharp decoding and resizing alone (libvips, uint8 HWC output), the
// floor for decode + resize, and transformers.js's image processor when it is installed.

interface Input {
  name: string;
  bytes: Buffer;
}

async function makeInputs(): Promise<Input[]> {
  // cats.png is a 640x480 PNG; the 1920x1080 JPEG is chelsea.png stretched with sharp (made once per run).
  const png = await sharp(fixtureImagePath('cats.png')).png().toBuffer();
  const jpeg = await sharp(fixtureImagePath('chelsea.png'))
    .resize(1920, 1080, { fit: 'fill' })
    .jpeg({ quality: 90 })
    .toBuffer();
  return [
    { name: '640x480 PNG', bytes: png },
    { name: '1920x1080 JPEG', bytes: jpeg },
  ];
}

const MEAN = [0.5, 0.5, 0.5];

type TransformersJsRun = (bytes: Buffer) => Promise<unknown>;

/** transformers.js's ViTImageProcessor on the same bytes, if `@huggingface/transformers` is installed. */
async function transformersJs(side: number): Promise<TransformersJsRun | undefined> {
  const moduleName = '@huggingface/transformers';
  let tjs: {
    ViTImageProcessor: new (config: object) => (image: unknown) => Promise<unknown>;
    RawImage: { fromBlob(blob: Blob): Promise<unknown> };
  };
  try {
    tjs = await import(moduleName);
  } catch {
    return undefined;
  }
  const processor = new tjs.ViTImageProcessor({
    do_resize: true,
    size: { height: side, width: side },
    resample: 2,
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: MEAN,
    image_std: MEAN,
  });
  return async (bytes) => processor(await tjs.RawImage.fromBlob(new Blob([bytes])));
}

export const run: Suite = async ({ quick }) => {
  const inputs = await makeInputs();
  const sides = quick ? [224] : [224, 960];
  const results: SuiteResult[] = [];
  for (const side of sides) {
    const processor = new ImageProcessor({
      size: { height: side, width: side },
      resample: 2,
      image_mean: MEAN,
      image_std: MEAN,
    });
    const tjs = await transformersJs(side);
    for (const input of inputs) {
      const variants: Variant[] = [
        { name: 'ortvision preprocess', run: () => processor.preprocess(input.bytes) },
        {
          name: 'sharp decode+resize (floor)',
          run: () => sharp(input.bytes).resize(side, side, { fit: 'fill' }).raw().toBuffer(),
        },
      ];
      if (tjs) variants.push({ name: 'transformers.js preprocess', run: () => tjs(input.bytes) });
      results.push(
        await compare('image', `${input.name} -> ${side}x${side}`, variants, {
          warmup: quick ? 1 : 3,
          iterations: quick ? 3 : 20,
        }),
      );
    }
  }
  return results;
};
