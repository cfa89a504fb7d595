import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  DisposedError,
  InputShapeError,
  InvalidArgumentError,
  ModelNotFoundError,
  Tensor,
} from '@ortvision/core';
import { fixtureImagePath, fixturePath, fixtureVariant } from '@ortvision/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Mask2FormerImageProcessor } from './image-processing.js';
import { Mask2FormerForUniversalSegmentation } from './modeling.js';
import {
  type Mask2FormerOutputs,
  postProcessInstanceSegmentation,
  postProcessPanopticSegmentation,
  postProcessSemanticSegmentation,
} from './post-processing.js';
import { type Segment, imageSegmentation } from './tasks.js';

// Bad folders, bad inputs and load on the Mask2Former package (issue #12); the shared cases are in core and vit.

const cats = fixtureImagePath('cats.png');
let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ortvision-mask2former-rel-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The mask2former fixture with files replaced (a string), copied from another fixture (`from:<fixture>/<file>`) or removed (null). */
function variant(name: string, changes: Record<string, string | null>): Promise<string> {
  return fixtureVariant('mask2former', join(root, name), changes);
}

/** Short text form of segments: label and score. */
const brief = (segments: Segment[]) => segments.map((s) => [s.label, s.score]);

describe('model folders Mask2Former cannot use', () => {
  it.each([
    ['no config.json', { 'config.json': null }, ConfigError, /has no config\.json/],
    [
      'config.json not JSON',
      { 'config.json': '{"model_type": "mask2former",' },
      ConfigError,
      /is not valid JSON/,
    ],
    [
      'num_queries a string',
      { 'config.json': '{"model_type": "mask2former", "num_queries": "10"}' },
      ConfigError,
      /config\.json: field num_queries must be an integer, got "10"/,
    ],
    [
      'id2label a list',
      { 'config.json': '{"model_type": "mask2former", "id2label": [1,2]}' },
      ConfigError,
      /field id2label must be of type object, got \[1,2\]/,
    ],
    [
      'a ViT config.json',
      { 'config.json': 'from:vit-cls/config.json' },
      ConfigError,
      /has model_type "vit", but Mask2FormerConfig handles "mask2former"/,
    ],
    [
      'no preprocessor_config.json',
      { 'preprocessor_config.json': null },
      ModelNotFoundError,
      /preprocessor_config\.json not found in the model folder .* \(it has: config\.json, model\.safetensors, onnx\/model\.onnx\)/,
    ],
    [
      'preprocessor_config.json not JSON',
      { 'preprocessor_config.json': '{"size": ' },
      ConfigError,
      /preprocessor_config\.json is not valid JSON/,
    ],
    [
      'preprocessor size a word',
      { 'preprocessor_config.json': '{"size": "big"}' },
      ConfigError,
      /preprocessor_config\.json: size must be an int, a list or a dict, got "big"$/,
    ],
    [
      'no model.onnx',
      // and no checkpoint, from which model.onnx would be built
      { 'onnx/model.onnx': null, 'model.safetensors': null },
      ModelNotFoundError,
      /has neither onnx\/model\.onnx nor model\.onnx nor a checkpoint \(model\.safetensors or pytorch_model\.bin, sharded or not\) to build it from/,
    ],
    [
      "ViT's graph (fixed 32x32 input)",
      { 'onnx/model.onnx': 'from:vit-cls/onnx/model.onnx' },
      InputShapeError,
      /input 'pixel_values' of .*model\.onnx has shape \[1, 3, 32, 48\], expected \[batch_size, 3, 32, 32\] \(axis 3 must be 32\)/,
    ],
    [
      'a text graph (Perceiver MLM)',
      { 'onnx/model.onnx': 'from:perceiver-mlm/onnx/model.onnx' },
      InputShapeError,
      /do not match the graph's inputs \[input_ids, attention_mask\]: missing input_ids, attention_mask; unknown pixel_values/,
    ],
  ] as const)('%s', async (name, changes, ErrorClass, message) => {
    const folder = await variant(name.replace(/\W+/g, '-'), changes);
    const attempt = (async () => {
      const segment = await imageSegmentation(folder);
      try {
        return await segment(cats);
      } finally {
        await segment.dispose();
      }
    })();
    await expect(attempt).rejects.toThrow(ErrorClass);
    await expect(attempt).rejects.toThrow(message);
  });
});

describe('imageSegmentation options', () => {
  let segment: Awaited<ReturnType<typeof imageSegmentation>>;
  beforeAll(async () => {
    segment = await imageSegmentation(fixturePath('mask2former'));
  });
  afterAll(() => segment.dispose());

  it.each([
    [{ threshold: Number.NaN }, 'threshold must be a finite number, got NaN'],
    [{ threshold: '0.5' }, "threshold must be a finite number, got '0.5'"],
    [{ subtask: 'instance', threshold: Number.NaN }, 'threshold must be a finite number, got NaN'],
    [{ maskThreshold: Number.NaN }, 'maskThreshold must be a finite number, got NaN'],
    [
      { overlapMaskAreaThreshold: Number.POSITIVE_INFINITY },
      'overlapMaskAreaThreshold must be a finite number, got Infinity',
    ],
    [{ subtask: 'depth' }, `subtask must be 'panoptic', 'instance' or 'semantic', got 'depth'`],
    [
      { subTask: 'instance' },
      "unknown option 'subTask' for the imageSegmentation call (did you mean 'subtask'?)",
    ],
    [
      { treshold: 0.5 },
      "unknown option 'treshold' for the imageSegmentation call (did you mean 'threshold'?)",
    ],
    [{ labelIdsToFuse: 'ab' }, 'labelIdsToFuse must be a list or set of label ids, got "ab"'],
  ])('%j: InvalidArgumentError', async (options, message) => {
    await expect(segment(cats, options as object)).rejects.toThrowError(new InvalidArgumentError(message));
  });

  it('thresholds outside [0, 1] are accepted as in Python: -1 keeps every instance, 2 keeps none', async () => {
    const all = await segment(cats, { subtask: 'instance', threshold: -1 });
    expect(all).toHaveLength(8);
    expect(await segment(cats, { subtask: 'instance', threshold: 2 })).toEqual([]);
    expect(await segment(cats, { threshold: 2 })).toEqual([]);
    expect(brief(await segment(cats))).toEqual([['sky', 0.935117]]);
  });
});

describe('post-processing targetSizes', () => {
  let outputs: Mask2FormerOutputs;
  beforeAll(async () => {
    const processor = await Mask2FormerImageProcessor.fromPretrained(fixturePath('mask2former'));
    const model = await Mask2FormerForUniversalSegmentation.fromPretrained(fixturePath('mask2former'));
    outputs = (await model.forward(await processor.preprocess([cats, cats]))) as Mask2FormerOutputs;
    await model.dispose();
  });

  const processors = [
    ['semantic', postProcessSemanticSegmentation],
    ['instance', postProcessInstanceSegmentation],
    ['panoptic', postProcessPanopticSegmentation],
  ] as const;

  it.each([
    [[[10, 10]], 'got 1 target sizes for a batch of 2 images: pass one (height, width) per image'],
    [
      [
        [1, 1],
        [1, 1],
        [1, 1],
      ],
      'got 3 target sizes for a batch of 2 images: pass one (height, width) per image',
    ],
    [
      [
        [1, 1, 1],
        [1, 1, 1],
      ],
      'targetSizes[0] must be [height, width] with two positive integers, got [1, 1, 1]',
    ],
    [
      [
        [-1, 2],
        [2, 2],
      ],
      'targetSizes[0] must be [height, width] with two positive integers, got [-1, 2]',
    ],
    [
      [
        [Number.NaN, 2],
        [2, 2],
      ],
      'targetSizes[0] must be [height, width] with two positive integers, got [NaN, 2]',
    ],
    [
      [
        [2.5, 2],
        [2, 2],
      ],
      'targetSizes[0] must be [height, width] with two positive integers, got [2.5, 2]',
    ],
    [[10, 10], 'targetSizes[0] must be [height, width] with two positive integers, got 10'],
    ['x', "targetSizes must be a list of [height, width] or a [batch, 2] tensor, got 'x'"],
  ])('targetSizes %j: a typed error from all three', (targetSizes, message) => {
    for (const [name, postProcess] of processors) {
      // a count that is not the batch's is a shape error; a bad value an argument error
      const ErrorClass = message.startsWith('got ') ? InputShapeError : InvalidArgumentError;
      expect(() => postProcess(outputs, { targetSizes: targetSizes as never }), name).toThrowError(
        new ErrorClass(message),
      );
    }
  });

  it('targetSizes beyond the pixel limit: InvalidArgumentError before anything is allocated', () => {
    const huge: [number, number][] = [
      [100000, 100000],
      [5, 5],
    ];
    for (const [name, postProcess] of processors) {
      expect(() => postProcess(outputs, { targetSizes: huge }), name).toThrowError(
        new InvalidArgumentError(
          'cannot resize segmentation maps of image 0 to 100000x100000: 10000000000 pixels is more than the limit of 178956970',
        ),
      );
    }
  });

  it('targetSizes as a [batch, 2] int64 tensor is read as the pairs it holds (core TargetSizes)', () => {
    const targetSizes = new Tensor('int64', new BigInt64Array([5n, 6n, 5n, 6n]), [2, 2]);
    for (const [name, postProcess] of processors) {
      const [first] = postProcess(outputs, { targetSizes }) as { segmentation?: Tensor }[] | Tensor[];
      const map = (first instanceof Tensor ? first : first!.segmentation) as Tensor;
      expect(map.dims, name).toEqual([5, 6]);
    }
  });

  it('no targetSizes: 384x384 maps; mismatched or missing outputs: InputShapeError', async () => {
    expect(postProcessSemanticSegmentation(outputs).map((m) => m.dims)).toEqual([
      [384, 384],
      [384, 384],
    ]);
    expect(() => postProcessSemanticSegmentation({} as Mask2FormerOutputs)).toThrowError(
      new InputShapeError(
        'class_queries_logits must be a float32 tensor [batch, queries, labels + 1], got nothing',
      ),
    );
    const [, queries, h, w] = outputs.masks_queries_logits.dims as number[];
    const one = new Tensor('float32', outputs.masks_queries_logits.data.slice(0, queries! * h! * w!), [
      1,
      queries!,
      h!,
      w!,
    ]);
    expect(() => postProcessPanopticSegmentation({ ...outputs, masks_queries_logits: one })).toThrowError(
      new InputShapeError(
        'masks_queries_logits [1, 8, 8, 12] must have the batch and query count of class_queries_logits [2, 8, 7]',
      ),
    );
  });
});

describe('one pipeline under load', () => {
  it('32 concurrent calls give what 32 sequential calls give', async () => {
    const segment = await imageSegmentation(fixturePath('mask2former'));
    const small = [
      'noise_37x53.png',
      'palette_color.png',
      'digits/digit_1402_2.png',
      'digits/digit_0818_1.png',
    ];
    const subtasks = ['panoptic', 'instance', 'semantic', 'instance'] as const;
    const calls = Array.from({ length: 32 }, (_, i) => ({
      image: fixtureImagePath(small[i % 4]!),
      options: { subtask: subtasks[Math.floor(i / 4) % 4]!, threshold: i % 8 < 4 ? 0.2 : 0.5 },
    }));
    const key = (segments: Segment[]) =>
      segments.map((s) => [
        s.label,
        s.score,
        s.mask.width,
        s.mask.height,
        Buffer.from(s.mask.data).toString('base64'),
      ]);
    const sequential: unknown[] = [];
    for (const { image, options } of calls) sequential.push(key(await segment(image, options)));
    const concurrent = await Promise.all(
      calls.map(async ({ image, options }) => key(await segment(image, options))),
    );
    expect(concurrent).toEqual(sequential);
    expect(new Set(concurrent.map((r) => JSON.stringify(r))).size).toBeGreaterThan(4);
    await segment.dispose();
  });

  it('dispose, then call: DisposedError', async () => {
    const segment = await imageSegmentation(fixturePath('mask2former'));
    await segment.dispose();
    await expect(segment(cats)).rejects.toThrowError(
      new DisposedError(
        'this Mask2FormerForUniversalSegmentation was disposed; load it again with fromPretrained',
      ),
    );
  });
});
