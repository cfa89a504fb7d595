import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  DisposedError,
  InputShapeError,
  InvalidArgumentError,
  InvalidImageError,
  ModelNotFoundError,
  Tensor,
} from '@ortvision/core';
import { fixtureImagePath, fixturePath, fixtureVariant } from '@ortvision/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIPSegForImageSegmentation } from './modeling.js';
import { maskToImage, postProcessPromptMasks, thresholdMask } from './post-processing.js';
import { CLIPSegProcessor } from './processing.js';
import { type SegmentationPrompt, promptSegmentation } from './tasks.js';

// Bad folders, bad inputs and load on the CLIPSeg package (issue #12); the shared cases are in core and vit.

const cats = fixtureImagePath('cats.png');
const camera = fixtureImagePath('camera.png');
const GRAPHS = ['model', 'text_model', 'vision_model', 'conditional_model'].map((g) => `onnx/${g}.onnx`);
let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ortvision-clipseg-rel-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The clipseg fixture with files replaced (a string), copied from another fixture (`from:<fixture>/<file>`) or removed (null). */
function variant(name: string, changes: Record<string, string | null>): Promise<string> {
  return fixtureVariant('clipseg', join(root, name), changes);
}

/** Only these graphs kept, and no checkpoint, from which the others would be built. */
const keep = (...graphs: string[]) => ({
  ...Object.fromEntries(GRAPHS.filter((g) => !graphs.includes(g)).map((g) => [g, null])),
  'pytorch_model.bin': null,
});

/** Loads promptSegmentation on `folder` and segments cats.png by `prompts` once: the mask shapes. */
async function segmentIn(folder: string, prompts: SegmentationPrompt[]): Promise<number[][]> {
  const segment = await promptSegmentation(folder);
  try {
    return (await segment(cats, prompts)).map((r) => [...r.mask.dims]);
  } finally {
    await segment.dispose();
  }
}

const text = ['a cat', 'a tv'];
const image = [{ image: camera }];

describe('model folders CLIPSeg cannot use', () => {
  it.each([
    ['no config.json', { 'config.json': null }, text, ConfigError, /has no config\.json/],
    [
      'config.json not JSON',
      { 'config.json': '{"model_type": "clipseg",' },
      text,
      ConfigError,
      /is not valid JSON/,
    ],
    [
      'projection_dim a string',
      { 'config.json': '{"model_type": "clipseg", "projection_dim": "16"}' },
      text,
      ConfigError,
      /config\.json: field projection_dim must be an integer, got "16"/,
    ],
    [
      'extract_layers a string',
      { 'config.json': '{"model_type": "clipseg", "extract_layers": "0,2"}' },
      text,
      ConfigError,
      /field extract_layers must be of type integer\[\], got "0,2"/,
    ],
    [
      'an OWLv2 config.json',
      { 'config.json': 'from:owlv2/config.json' },
      text,
      ConfigError,
      /has model_type "owlv2", but CLIPSegConfig handles "clipseg"/,
    ],
    [
      'no preprocessor_config.json',
      { 'preprocessor_config.json': null },
      text,
      ModelNotFoundError,
      /preprocessor_config\.json not found in the model folder .*\(it has: config\.json, merges\.txt/,
    ],
    [
      'no graph',
      keep(),
      text,
      ModelNotFoundError,
      /has no CLIPSeg segmentation graphs: expected onnx\/model\.onnx \(text prompts\) or onnx\/text_model\.onnx \+ onnx\/vision_model\.onnx \+ onnx\/conditional_model\.onnx \(any prompts\)/,
    ],
    [
      'text_model + vision_model only',
      keep('onnx/text_model.onnx', 'onnx/vision_model.onnx'),
      text,
      ModelNotFoundError,
      /has no CLIPSeg segmentation graphs/,
    ],
    [
      'vision_model + conditional_model only',
      keep('onnx/vision_model.onnx', 'onnx/conditional_model.onnx'),
      image,
      ModelNotFoundError,
      /has no CLIPSeg segmentation graphs/,
    ],
    [
      'model.onnx only, image prompt',
      keep('onnx/model.onnx'),
      image,
      ModelNotFoundError,
      /image prompts need onnx\/vision_model\.onnx and onnx\/conditional_model\.onnx, but .* lacks onnx\/vision_model\.onnx and onnx\/conditional_model\.onnx \(onnx\/model\.onnx takes text prompts only\)/,
    ],
    [
      "ViT's graph as conditional_model.onnx",
      { 'onnx/conditional_model.onnx': 'from:vit-cls/onnx/model.onnx' },
      text,
      InputShapeError,
      /conditional_model\.onnx do not match the graph's inputs \[pixel_values\]: unknown conditional_embeddings/,
    ],
    [
      "OWLv2's model.onnx (same inputs, other logits)",
      // no checkpoint either, from which text_model.onnx would be built
      {
        'onnx/model.onnx': 'from:owlv2/onnx/model.onnx',
        'onnx/text_model.onnx': null,
        'pytorch_model.bin': null,
      },
      text,
      InputShapeError,
      'the segmentation graph returned logits [1, 36, 2]: expected [2, H, W]',
    ],
    [
      "OWLv2's vision tower as vision_model.onnx (per-patch embeddings)",
      { 'onnx/vision_model.onnx': 'from:owlv2/onnx/vision_model.onnx' },
      image,
      InputShapeError,
      /the vision_model graph returned image_embeds float32 \[1, 36, 32\], expected float32 \[1, 16\] \(batch, config projection_dim\)/,
    ],
    [
      "AltCLIP's text tower as text_model.onnx (smaller vocabulary)",
      { 'onnx/text_model.onnx': 'from:altclip/onnx/text_model.onnx' },
      text,
      InputShapeError,
      /ONNX Runtime could not run .*text_model\.onnx on these inputs .*indices element out of data bounds/,
    ],
  ] as const)('%s', async (name, changes, prompts, ErrorClass, message) => {
    const folder = await variant(name.replace(/\W+/g, '-'), changes);
    const attempt = segmentIn(folder, [...prompts]);
    await expect(attempt).rejects.toThrow(ErrorClass);
    await expect(attempt).rejects.toThrow(message);
  });

  it('model.onnx alone segments text prompts; the split graphs alone take both kinds, with the same masks', async () => {
    const whole = await segmentIn(await variant('model-only', keep('onnx/model.onnx')), text);
    const split = await segmentIn(await variant('split-only', keep(...GRAPHS.slice(1))), [...text, ...image]);
    expect(whole).toEqual([
      [480, 640],
      [480, 640],
    ]);
    expect(split).toEqual([
      [480, 640],
      [480, 640],
      [480, 640],
    ]);
  });
});

describe('promptSegmentation inputs', () => {
  let segment: Awaited<ReturnType<typeof promptSegmentation>>;
  beforeAll(async () => {
    segment = await promptSegmentation(fixturePath('clipseg'));
  });
  afterAll(() => segment.dispose());

  it.each([
    [
      [],
      InvalidArgumentError,
      'prompts must be a non-empty array of text prompts (strings) and/or image prompts, got an empty array',
    ],
    ['a cat', InvalidArgumentError, 'got the string "a cat" (wrap it in an array)'],
    [undefined, InvalidArgumentError, 'image prompts, got undefined'],
    [[1], InvalidArgumentError, 'prompts[0] must be a string (text prompt) or an image prompt, got number'],
    [
      ['a cat', null],
      InvalidArgumentError,
      'prompts[1] must be a string (text prompt) or an image prompt, got null',
    ],
    [
      [{ image: '/nonexistent/x.png' }],
      InvalidImageError,
      'cannot read image "/nonexistent/x.png": no such file',
    ],
    [[Buffer.from('xx')], InvalidImageError, 'cannot decode "<2-byte buffer>": unsupported format'],
    [
      ['cat '.repeat(100)],
      InputShapeError,
      'input_ids has 102 tokens per text, but the text tower has positions for at most 77 (max_position_embeddings 77); tokenize with truncation: true',
    ],
  ])('prompts %j: typed error', async (prompts, ErrorClass, message) => {
    const attempt = segment(cats, prompts as SegmentationPrompt[]);
    await expect(attempt).rejects.toThrow(ErrorClass);
    await expect(attempt).rejects.toThrow(message);
  });

  it('an empty string is a prompt like any other', async () => {
    const [result] = await segment(cats, ['']);
    expect(result!.mask.dims).toEqual([480, 640]);
  });

  it.each([
    [Number.NaN, 'NaN'],
    [-0.1, '-0.1'],
    [1.5, '1.5'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    ['0.5' as unknown as number, "'0.5'"],
  ])('threshold %s for thresholdMask and maskToImage: InvalidArgumentError', async (threshold, shown) => {
    const mask = (await segment(cats, ['a cat']))[0]!.mask;
    const error = new InvalidArgumentError(`threshold must be a finite number from 0 to 1, got ${shown}`);
    expect(() => thresholdMask(mask, threshold)).toThrowError(error);
    expect(() => maskToImage(mask, { threshold })).toThrowError(error);
  });

  it('thresholds 0 and 1 are the ends of the range: everything above 0, nothing above 1', async () => {
    const mask = (await segment(cats, ['a cat']))[0]!.mask;
    expect(thresholdMask(mask, 0).data.every((v) => v === 1)).toBe(true);
    expect(thresholdMask(mask, 1).data.every((v) => v === 0)).toBe(true);
  });

  it.each([[[0, 5]], [[Number.NaN, 5]], [[5]]])(
    'postProcessPromptMasks size %j: InvalidArgumentError',
    (size) => {
      const logits = new Tensor('float32', new Float32Array(4), [2, 2]);
      expect(() => postProcessPromptMasks(logits, size as unknown as [number, number])).toThrowError(
        new InvalidArgumentError(
          `interpolateBilinear: size must be two positive integers, got [${size.join(', ')}]`,
        ),
      );
    },
  );
});

describe('images vs prompts in the model', () => {
  it.each(['split', 'model'] as const)(
    '3 images with 1 or 3 prompts run, with 2 or 4 prompts: InputShapeError (textRoute %s)',
    async (textRoute) => {
      const processor = await CLIPSegProcessor.fromPretrained(fixturePath('clipseg'));
      const model = await CLIPSegForImageSegmentation.fromPretrained(fixturePath('clipseg'));
      const { pixel_values } = await processor.process({ images: [cats, camera, cats] });
      const run = async (prompts: number) =>
        model.forward(
          {
            pixel_values,
            ...(await processor.process({ text: Array(prompts).fill('a cat'), padding: true })),
          },
          { textRoute },
        );
      expect((await run(1)).logits.dims).toEqual([3, 48, 48]);
      expect((await run(3)).logits.dims).toEqual([3, 48, 48]);
      for (const prompts of [2, 4]) {
        await expect(run(prompts)).rejects.toThrowError(
          new InputShapeError(
            `got 3 images and ${prompts} prompts: pass one image per prompt, one image for all prompts, or one prompt for all images`,
          ),
        );
      }
      await expect(
        processor.process({ text: ['a'], visualPrompt: cats } as Parameters<typeof processor.process>[0]),
      ).rejects.toThrowError(
        new InvalidArgumentError(
          'CLIPSegProcessor.process takes one kind of prompt: text or visualPrompt, not both',
        ),
      );
      await model.dispose();
    },
  );
});

describe('one pipeline under load', () => {
  it('32 concurrent calls give what 32 sequential calls give', async () => {
    const segment = await promptSegmentation(fixturePath('clipseg'));
    const small = [
      'noise_37x53.png',
      'palette_color.png',
      'digits/digit_1402_2.png',
      'digits/digit_0818_1.png',
    ];
    const calls = Array.from({ length: 32 }, (_, i) => ({
      image: fixtureImagePath(small[i % 4]!),
      prompts: [['a cat'], ['a tv', 'a remote'], [{ image: camera }], ['a cat', { image: cats }]][
        Math.floor(i / 4) % 4
      ] as SegmentationPrompt[],
    }));
    // Exact bytes of every mask, base64 (comparing number arrays element by element is slow).
    const masks = (results: { mask: Tensor }[]) =>
      results.map(
        (r) => `${r.mask.dims}:${Buffer.from((r.mask.data as Float32Array).buffer).toString('base64')}`,
      );
    const sequential: unknown[] = [];
    for (const { image, prompts } of calls) sequential.push(masks(await segment(image, prompts)));
    const concurrent = await Promise.all(
      calls.map(async ({ image, prompts }) => masks(await segment(image, prompts))),
    );
    expect(concurrent).toEqual(sequential);
    expect(new Set(concurrent.map((r) => JSON.stringify(r))).size).toBeGreaterThan(4);
    await segment.dispose();
  });

  it('dispose, then call: DisposedError', async () => {
    const segment = await promptSegmentation(fixturePath('clipseg'));
    await segment.dispose();
    await expect(segment(cats, ['a cat'])).rejects.toThrowError(
      new DisposedError('this CLIPSegForImageSegmentation was disposed; load it again with fromPretrained'),
    );
  });
});
