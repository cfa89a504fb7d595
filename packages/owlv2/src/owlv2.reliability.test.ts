import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  DisposedError,
  InputShapeError,
  InvalidArgumentError,
  ModelNotFoundError,
} from '@ortvision/core';
import { fixtureImagePath, fixturePath, fixtureVariant } from '@ortvision/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Owlv2ForObjectDetection } from './modeling.js';
import { postProcessObjectDetection } from './post-processing.js';
import { Owlv2Processor } from './processing.js';
import { imageGuidedObjectDetection, zeroShotObjectDetection } from './tasks.js';

// Bad folders, bad inputs and load on the OWLv2 package (issue #12); the shared cases are in core and vit.

const cats = fixtureImagePath('cats.png');
const camera = fixtureImagePath('camera.png');
let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ortvision-owlv2-rel-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The owlv2 fixture with files replaced (a string), copied from another fixture (`from:<fixture>/<file>`) or removed (null). */
function variant(name: string, changes: Record<string, string | null>): Promise<string> {
  return fixtureVariant('owlv2', join(root, name), changes);
}

/** Loads the zero-shot pipeline on `folder` and runs it once (or fails at load). */
async function detectIn(folder: string): Promise<unknown> {
  const detect = await zeroShotObjectDetection(folder);
  try {
    return await detect(cats, ['a cat']);
  } finally {
    await detect.dispose();
  }
}

describe('model folders OWLv2 cannot use', () => {
  it.each([
    ['no config.json', { 'config.json': null }, ConfigError, /has no config\.json/],
    [
      'config.json not JSON',
      { 'config.json': '{"model_type": "owlv2",' },
      ConfigError,
      /config\.json is not valid JSON/,
    ],
    [
      'projection_dim a string',
      { 'config.json': '{"model_type": "owlv2", "projection_dim": "16"}' },
      ConfigError,
      /config\.json: field projection_dim must be an integer, got "16"/,
    ],
    [
      'text_config a number',
      { 'config.json': '{"model_type": "owlv2", "text_config": 3}' },
      ConfigError,
      /field text_config must be of type object or null, got 3/,
    ],
    [
      'a ViT config.json',
      { 'config.json': 'from:vit-cls/config.json' },
      ConfigError,
      /has model_type "vit", but Owlv2Config handles "owlv2"/,
    ],
    [
      'no preprocessor_config.json',
      { 'preprocessor_config.json': null },
      ModelNotFoundError,
      /preprocessor_config\.json not found in the model folder .*\(it has: config\.json, merges\.txt/,
    ],
    [
      'no tokenizer files',
      { 'tokenizer.json': null, 'vocab.json': null, 'merges.txt': null },
      ModelNotFoundError,
      /has no tokenizer\.json, nor CLIPTokenizer's vocab\.json \+ merges\.txt to build it from \(missing: vocab\.json, merges\.txt\); either would do/,
    ],
    [
      'no graph at all',
      {
        'onnx/model.onnx': null,
        'onnx/text_model.onnx': null,
        'onnx/vision_model.onnx': null,
        'onnx/class_head.onnx': null,
        // and no checkpoint, from which they would be built
        'model.safetensors': null,
      },
      ModelNotFoundError,
      /lacks the ONNX graphs Owlv2ForObjectDetection needs: onnx\/model\.onnx, or onnx\/text_model\.onnx \+ onnx\/vision_model\.onnx \+ onnx\/class_head\.onnx \(found: none\)/,
    ],
    [
      'split graphs without class_head',
      { 'onnx/model.onnx': null, 'onnx/class_head.onnx': null, 'model.safetensors': null },
      ModelNotFoundError,
      /\(found: onnx\/text_model\.onnx, onnx\/vision_model\.onnx\)/,
    ],
    [
      "ViT's graph as model.onnx (inputs differ)",
      { 'onnx/model.onnx': 'from:vit-cls/onnx/model.onnx' },
      InputShapeError,
      /model\.onnx do not match the graph's inputs \[pixel_values\]: unknown input_ids, attention_mask/,
    ],
    [
      "CLIPSeg's model.onnx (same inputs, no pred_boxes)",
      { 'onnx/model.onnx': 'from:clipseg/onnx/model.onnx' },
      InputShapeError,
      /the model graph returned no float32 'pred_boxes' \(it has: logits\)/,
    ],
    [
      "AltCLIP's text tower as text_model.onnx (smaller vocabulary)",
      {
        'onnx/model.onnx': null,
        'onnx/text_model.onnx': 'from:altclip/onnx/text_model.onnx',
        'model.safetensors': null,
      },
      InputShapeError,
      /ONNX Runtime could not run .*text_model\.onnx on these inputs \(they do not fit the graph; does it belong to this model\?\): .*indices element out of data bounds/,
    ],
  ] as const)('%s: %s', async (_name, changes, ErrorClass, message) => {
    const folder = await variant(_name.replace(/\W+/g, '-'), changes);
    const attempt = detectIn(folder);
    await expect(attempt).rejects.toThrow(ErrorClass);
    await expect(attempt).rejects.toThrow(message);
  });

  it('only the split graphs: zero-shot detection still runs (through them)', async () => {
    // No checkpoint either: model.onnx would be built from it, and taken before the split graphs.
    const folder = await variant('split-only', { 'onnx/model.onnx': null, 'model.safetensors': null });
    const split = (await detectIn(folder)) as { label: string }[];
    expect(split.length).toBeGreaterThan(0);
    expect(split).toEqual(await detectIn(fixturePath('owlv2')));
  });

  it("CLIPSeg's vision tower as vision_model.onnx: image-guided detection names the missing output", async () => {
    const folder = await variant('clipseg-vision', {
      'onnx/vision_model.onnx': 'from:clipseg/onnx/vision_model.onnx',
    });
    const find = await imageGuidedObjectDetection(folder);
    await expect(find(cats, camera)).rejects.toThrowError(
      new InputShapeError("the vision_model graph returned no float32 'pred_boxes' (it has: image_embeds)"),
    );
    await find.dispose();
  });
});

describe('zeroShotObjectDetection inputs', () => {
  let detect: Awaited<ReturnType<typeof zeroShotObjectDetection>>;
  beforeAll(async () => {
    detect = await zeroShotObjectDetection(fixturePath('owlv2'));
  });
  afterAll(() => detect.dispose());

  it.each([
    ['an empty list', [], 'got []'],
    ['numbers', [1, 2], 'got [1, 2]'],
    ['a nested list', [['a cat']], "got [['a cat']]"],
    ['undefined', undefined, 'got undefined'],
    ['null', null, 'got null'],
  ])('labels %s: InvalidArgumentError', async (_name, labels, got) => {
    await expect(detect(cats, labels as unknown as string[])).rejects.toThrowError(
      new InvalidArgumentError(
        `labels must be a non-empty list of strings (or one comma-separated string), ${got}`,
      ),
    );
  });

  it.each([
    [Number.NaN, 'NaN'],
    ['0.1' as unknown as number, "'0.1'"],
  ])('threshold %s: InvalidArgumentError', async (threshold, shown) => {
    await expect(detect(cats, ['a cat'], { threshold })).rejects.toThrowError(
      new InvalidArgumentError(`threshold must be a finite number, got ${shown}`),
    );
  });

  it('threshold -1 keeps every box of every label, 2 keeps none (Python does not check the range)', async () => {
    expect(await detect(cats, ['a cat', 'a dog'], { threshold: -1 })).toHaveLength(2 * 36);
    expect(await detect(cats, ['a cat', 'a dog'], { threshold: 2 })).toEqual([]);
  });

  it('topK 0: InvalidArgumentError', async () => {
    await expect(detect(cats, ['a cat'], { topK: 0 })).rejects.toThrowError(
      new InvalidArgumentError('topK must be an integer >= 1, got 0'),
    );
  });

  it('an empty string is one empty query (as Python splits "" into [""])', async () => {
    const found = await detect(cats, '', { threshold: -1 });
    expect(found).toHaveLength(36);
    expect(new Set(found.map((d) => d.label))).toEqual(new Set(['']));
  });

  it('a query longer than the 16 tokens: InputShapeError asking for truncation', async () => {
    await expect(detect(cats, ['cat '.repeat(100)])).rejects.toThrowError(
      new InputShapeError(
        'text[0] has 102 tokens, more than maxLength 16, and truncation is off: pass truncation: true',
      ),
    );
  });
});

describe('processor, model and post-processing batch checks', () => {
  let processor: Owlv2Processor;
  let model: Owlv2ForObjectDetection;
  beforeAll(async () => {
    processor = await Owlv2Processor.fromPretrained(fixturePath('owlv2'));
    model = await Owlv2ForObjectDetection.fromPretrained(fixturePath('owlv2'));
  });
  afterAll(() => model.dispose());

  it.each([
    [[['a'], ['b']], [cats], 'got 2 lists of text queries for 1 images'],
    [[['a']], [cats, camera], 'got 1 lists of text queries for 2 images'],
  ])('nested queries %j for %#: InputShapeError', async (text, images, message) => {
    await expect(processor.process({ images, text })).rejects.toThrowError(
      new InputShapeError(`${message}: pass one list of queries per image`),
    );
  });

  it('only empty query lists, or no images: InvalidArgumentError', async () => {
    await expect(processor.process({ images: cats, text: [[]] })).rejects.toThrowError(
      new InvalidArgumentError('text holds only empty query lists'),
    );
    await expect(processor.process({ images: [], text: ['a'] })).rejects.toThrowError(
      new InvalidArgumentError('preprocess needs at least one image'),
    );
  });

  it('a long query with truncation: cut to 16 tokens', async () => {
    const { input_ids } = await processor.process({ text: ['cat '.repeat(100)] }, { truncation: true });
    expect(input_ids!.dims).toEqual([1, 16]);
  });

  it('ragged nested queries are padded per image and give one logit column per query', async () => {
    const inputs = await processor.process({ images: [cats, camera], text: [['a cat', 'a dog'], ['a tv']] });
    expect(inputs.input_ids!.dims).toEqual([4, 16]);
    const outputs = await model.forward(inputs as Parameters<typeof model.forward>[0]);
    expect(outputs.logits.dims).toEqual([2, 36, 2]);
    const results = postProcessObjectDetection(outputs, {
      threshold: -1,
      targetSizes: [
        [480, 640],
        [512, 512],
      ],
    });
    expect(results.map((r) => r.scores.length)).toEqual([36, 36]);

    for (const [targetSizes, ErrorClass, message] of [
      [
        [[10, 10]],
        InputShapeError,
        'got 1 target sizes for a batch of 2 images: pass one (height, width) per image',
      ],
      [
        [
          [1, 1],
          [1, 1],
          [1, 1],
        ],
        InputShapeError,
        'got 3 target sizes for a batch of 2 images',
      ],
      [
        [
          [1, 1, 1],
          [1, 1, 1],
        ],
        InvalidArgumentError,
        'targetSizes[0] must be [height, width] with two positive numbers, got [1, 1, 1]',
      ],
      [
        [
          [-1, 2],
          [2, 2],
        ],
        InvalidArgumentError,
        'targetSizes[0] must be [height, width] with two positive numbers, got [-1, 2]',
      ],
      [
        [
          [Number.NaN, 2],
          [2, 2],
        ],
        InvalidArgumentError,
        'got [NaN, 2]',
      ],
      [
        [10, 10],
        InvalidArgumentError,
        'targetSizes[0] must be [height, width] with two positive numbers, got 10',
      ],
      [
        'x',
        InvalidArgumentError,
        "targetSizes must be a list of [height, width] or a [batch, 2] tensor, got 'x'",
      ],
      [
        {},
        InvalidArgumentError,
        'targetSizes must be a list of [height, width] or a [batch, 2] tensor, got {}',
      ],
    ] as const) {
      const call = () => postProcessObjectDetection(outputs, { targetSizes: targetSizes as never });
      expect(call, JSON.stringify(targetSizes)).toThrow(ErrorClass);
      expect(call, JSON.stringify(targetSizes)).toThrow(message);
    }
    expect(() => postProcessObjectDetection(outputs, { threshold: Number.NaN })).toThrowError(
      new InvalidArgumentError('threshold must be a finite number, got NaN'),
    );
  });
});

describe('one pipeline under load', () => {
  it('32 concurrent calls give what 32 sequential calls give', async () => {
    const detect = await zeroShotObjectDetection(fixturePath('owlv2'));
    const calls = Array.from({ length: 32 }, (_, i) => ({
      image: fixtureImagePath(['cats.png', 'camera.png', 'logo.png', 'chelsea.png'][i % 4]!),
      labels: [['a cat'], ['a dog', 'a tv'], ['a remote'], ['a cat', 'a sofa', 'a logo']][
        Math.floor(i / 4) % 4
      ]!,
    }));
    const sequential: unknown[] = [];
    for (const { image, labels } of calls) sequential.push(await detect(image, labels, { topK: 3 }));
    const concurrent = await Promise.all(
      calls.map(({ image, labels }) => detect(image, labels, { topK: 3 })),
    );
    expect(concurrent).toEqual(sequential);
    expect(new Set(concurrent.map((r) => JSON.stringify(r))).size).toBeGreaterThan(4);
    await detect.dispose();
  });

  it('dispose, then call: DisposedError (both pipelines)', async () => {
    const detect = await zeroShotObjectDetection(fixturePath('owlv2'));
    const find = await imageGuidedObjectDetection(fixturePath('owlv2'));
    await detect.dispose();
    await find.dispose();
    const message = 'this Owlv2ForObjectDetection was disposed; load it again with fromPretrained';
    await expect(detect(cats, ['a cat'])).rejects.toThrowError(new DisposedError(message));
    await expect(find(cats, camera)).rejects.toThrowError(new DisposedError(message));
  });
});
