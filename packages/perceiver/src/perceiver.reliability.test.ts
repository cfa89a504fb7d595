import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  DisposedError,
  Image,
  InputShapeError,
  InvalidArgumentError,
  ModelNotFoundError,
  Tensor,
} from '@ortvision/core';
import { fixtureImagePath, fixturePath, fixtureVariant } from '@ortvision/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PerceiverForMultimodalAutoencoding } from './modeling.js';
import {
  fillMask,
  imageClassification,
  multimodalAutoencoding,
  opticalFlow,
  textClassification,
} from './tasks.js';

// Bad folders, bad inputs and load on the Perceiver package (issue #12); the shared cases are in core and vit.

const cats = fixtureImagePath('cats.png');
let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ortvision-perceiver-rel-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A perceiver fixture with files replaced (a string), copied from another fixture (`from:<fixture>/<file>`) or removed (null). */
function variant(base: string, name: string, changes: Record<string, string | null>): Promise<string> {
  return fixtureVariant(base, join(root, `${base}-${name}`), changes);
}

/** Small frames (a 16x20 gradient and a shifted copy) so that optical flow stays fast. */
function frame(width: number, height: number, shift = 0): Image {
  const pixels = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) pixels.set([(x + shift) * 12, y * 9, (x * y) % 256], (y * width + x) * 3);
  return new Image(pixels, width, height, 3);
}

/** One call of each task helper on its fixture, by the fixture's name. */
const runs: Record<string, (folder: string) => Promise<unknown>> = {
  'perceiver-mlm': async (folder) => {
    const fill = await fillMask(folder);
    return fill('hello [MASK] world').finally(() => fill.dispose());
  },
  'perceiver-seq-cls': async (folder) => {
    const classify = await textClassification(folder);
    return classify('hello').finally(() => classify.dispose());
  },
  'perceiver-cls-conv': async (folder) => {
    const classify = await imageClassification(folder);
    return classify(cats).finally(() => classify.dispose());
  },
  'perceiver-flow': async (folder) => {
    const flow = await opticalFlow(folder);
    return flow(frame(16, 20), frame(16, 20, 1)).finally(() => flow.dispose());
  },
};

describe('model folders Perceiver cannot use', () => {
  const bases = Object.keys(runs);
  it.each(
    bases.flatMap((base) => [
      [base, 'no config.json', { 'config.json': null }, ConfigError, /has no config\.json/],
      [
        base,
        'config.json not JSON',
        { 'config.json': '{"model_type": "perceiver",' },
        ConfigError,
        /is not valid JSON/,
      ],
      [
        base,
        'd_latents a string',
        { 'config.json': '{"model_type": "perceiver", "d_latents": "16"}' },
        ConfigError,
        /config\.json: field d_latents must be an integer, got "16"/,
      ],
      [
        base,
        'a ViT config.json',
        { 'config.json': 'from:vit-cls/config.json' },
        ConfigError,
        /has model_type "vit", but PerceiverConfig handles "perceiver"/,
      ],
      [
        base,
        'no model.onnx',
        // and no checkpoint (either kind), from which model.onnx would be built
        { 'onnx/model.onnx': null, 'model.safetensors': null, 'pytorch_model.bin': null },
        ModelNotFoundError,
        /has neither onnx\/model\.onnx nor model\.onnx nor a checkpoint \(model\.safetensors or pytorch_model\.bin, sharded or not\) to build it from/,
      ],
    ]) as [string, string, Record<string, string | null>, typeof ConfigError, RegExp][],
  )('%s, %s', async (base, name, changes, ErrorClass, message) => {
    const attempt = runs[base]!(await variant(base, name.replace(/\W+/g, '-'), changes));
    await expect(attempt).rejects.toThrow(ErrorClass);
    await expect(attempt).rejects.toThrow(message);
  });

  it.each([
    [
      'perceiver-mlm',
      'perceiver-cls-learned',
      /model\.onnx do not match the graph's inputs \[pixel_values\]: missing pixel_values; unknown input_ids, attention_mask/,
    ],
    [
      'perceiver-mlm',
      'perceiver-flow',
      /do not match the graph's inputs \[inputs\]: missing inputs; unknown input_ids, attention_mask/,
    ],
    [
      'perceiver-mlm',
      'perceiver-seq-cls',
      /the masked-LM graph returned logits float32 \[1, 3\], expected float32 \[1, >= 1\d, 262\] \(batch, positions, vocab_size\): is onnx\/model\.onnx a PerceiverForMaskedLM export\?/,
    ],
    [
      'perceiver-seq-cls',
      'perceiver-mlm',
      'classification logits must be [batch, num_labels], got [1, 64, 262]',
    ],
    [
      'perceiver-cls-conv',
      'perceiver-cls-learned',
      /input 'pixel_values' of .*model\.onnx has shape \[1, 3, 32, 32\], expected \[batch_size, 3, 16, 16\] \(axis 2 must be 16\)/,
    ],
    ['perceiver-cls-conv', 'perceiver-mlm', /unknown pixel_values/],
    [
      'perceiver-flow',
      'perceiver-cls-learned',
      /do not match the graph's inputs \[pixel_values\]: missing pixel_values; unknown inputs/,
    ],
  ])("%s with %s's graph: InputShapeError", async (base, other, message) => {
    const folder = await variant(base, `graph-of-${other}`, {
      'onnx/model.onnx': `from:${other}/onnx/model.onnx`,
    });
    const attempt = runs[base]!(folder);
    await expect(attempt).rejects.toThrow(InputShapeError);
    await expect(attempt).rejects.toThrow(message);
  });

  it('an image classifier without preprocessor_config.json: ModelNotFoundError', async () => {
    const folder = await variant('perceiver-cls-conv', 'no-preprocessor', {
      'preprocessor_config.json': null,
    });
    await expect(runs['perceiver-cls-conv']!(folder)).rejects.toThrow(
      /preprocessor_config\.json not found in the model folder .* \(it has: config\.json, onnx\/model\.onnx, pytorch_model\.bin\)/,
    );
  });
});

describe('text inputs', () => {
  let fill: Awaited<ReturnType<typeof fillMask>>;
  let classify: Awaited<ReturnType<typeof textClassification>>;
  beforeAll(async () => {
    fill = await fillMask(fixturePath('perceiver-mlm'));
    classify = await textClassification(fixturePath('perceiver-seq-cls'));
  });
  afterAll(async () => {
    await fill.dispose();
    await classify.dispose();
  });

  it.each([
    ['', InvalidArgumentError, 'no mask token ([MASK]) found in ""'],
    ['hello', InvalidArgumentError, 'no mask token ([MASK]) found in "hello"'],
    [[], InvalidArgumentError, 'fillMask got an empty list: give at least one text'],
    [
      `${'a'.repeat(200)}[MASK]`,
      InputShapeError,
      'input_ids has 203 tokens, more than max_position_embeddings 64: encode with truncation: true',
    ],
    [5, InvalidArgumentError, 'a text must be a string (or give a list of strings), got 5'],
    [undefined, InvalidArgumentError, 'a text must be a string (or give a list of strings), got undefined'],
  ])('fillMask(%j): typed error', async (texts, ErrorClass, message) => {
    await expect(fill(texts as string)).rejects.toThrowError(new ErrorClass(message));
  });

  it('fillMask topK NaN: InvalidArgumentError; a text that is only the mask is filled', async () => {
    await expect(fill('a[MASK]', { topK: Number.NaN })).rejects.toThrowError(
      new InvalidArgumentError('topK must be an integer >= 1, got NaN'),
    );
    const filled = (await fill('[MASK]', { topK: 2 })) as { sequence: string; token_str: string }[];
    expect(filled).toHaveLength(2);
    expect(filled.map((r) => r.sequence)).toEqual(filled.map((r) => r.token_str));
  });

  it.each([
    [[], InvalidArgumentError, 'textClassification got an empty list: give at least one text'],
    [
      'a'.repeat(200),
      InputShapeError,
      'input_ids has 202 tokens, more than max_position_embeddings 64: encode with truncation: true',
    ],
    ['é'.repeat(40), InputShapeError, 'input_ids has 82 tokens, more than max_position_embeddings 64'],
    [[5], InvalidArgumentError, 'a text must be a string (or give a list of strings), got 5'],
    [undefined, InvalidArgumentError, 'a text must be a string (or give a list of strings), got undefined'],
  ])('textClassification(%j): typed error', async (texts, ErrorClass, message) => {
    const attempt = classify(texts as string);
    await expect(attempt).rejects.toThrow(ErrorClass);
    await expect(attempt).rejects.toThrow(message);
  });

  it('textClassification of an empty text gives a label; a long text with truncation: true is cut and classified', async () => {
    expect(await classify('')).toEqual([{ label: 'neutral', score: expect.closeTo(0.52137, 4) }]);
    const [best] = (await classify('a'.repeat(200), { truncation: true })) as { label: string }[];
    expect(['negative', 'neutral', 'positive']).toContain(best!.label);
    await expect(classify('a', { topK: 0 })).rejects.toThrowError(
      new InvalidArgumentError('topK must be an integer >= 1, got 0'),
    );
  });
});

describe('optical flow and multimodal inputs', () => {
  it('frames of different sizes: InputShapeError; bad batchSize: InvalidArgumentError; tiny or gray frames work', async () => {
    const flow = await opticalFlow(fixturePath('perceiver-flow'));
    await expect(flow(frame(16, 20), frame(20, 16))).rejects.toThrowError(
      new InputShapeError('the two frames must have the same size, got 16x20 and 20x16'),
    );
    await expect(flow(frame(16, 20), frame(16, 20), { batchSize: Number.NaN })).rejects.toThrowError(
      new InvalidArgumentError('batchSize must be an integer >= 1, got NaN'),
    );
    const tiny = new Image(new Uint8Array(12), 2, 2, 3);
    expect((await flow(tiny, tiny)).dims).toEqual([2, 2, 2]);
    const gray = new Image(new Uint8Array(16 * 12).fill(90), 16, 12, 1);
    expect((await flow(gray, gray)).dims).toEqual([12, 16, 2]);
    await flow.dispose();
  });

  it('multimodal: points out of range, mismatched audio, bad nchunks/topK are typed errors', async () => {
    const model = await PerceiverForMultimodalAutoencoding.fromPretrained(
      fixturePath('perceiver-multimodal'),
    );
    const autoencode = await multimodalAutoencoding(model);
    const [t, h, w] = model.videoShape;
    const samples = model.audioSamples;
    const video = new Tensor('float32', new Float32Array(t * h * w * 3).fill(0.5), [1, t, h, w, 3]);
    const audio = new Tensor('float32', new Float32Array(samples).fill(0.1), [1, samples, 1]);
    const points = (values: number[]) =>
      new Tensor('int64', BigInt64Array.from(values.map(BigInt)), [values.length]);
    const forward = (imagePoints: number[], audioPoints: number[]) =>
      model.forward({
        image: new Tensor('float32', new Float32Array(t * h * w * 3), [1, t, 3, h, w]),
        audio,
        image_points: points(imagePoints),
        audio_points: points(audioPoints),
      });
    await expect(forward([t * h * w], [0])).rejects.toThrowError(
      new InputShapeError(
        'image_points[0] is 288: expected an index into the 2x12x12 output pixels (0 to 287)',
      ),
    );
    await expect(forward([0, -1], [0])).rejects.toThrowError(
      new InputShapeError(
        'image_points[1] is -1: expected an index into the 2x12x12 output pixels (0 to 287)',
      ),
    );
    await expect(forward([0], [model.audioPatches])).rejects.toThrowError(
      new InputShapeError(
        'audio_points[0] is 8: expected an index into the 8 output audio patches of 4 samples (0 to 7)',
      ),
    );
    expect(Object.keys(await forward([0, 287], [7]))).toEqual([
      'image_logits',
      'audio_logits',
      'label_logits',
    ]);
    const twoClips = new Tensor('float32', new Float32Array(2 * samples), [2, samples, 1]);
    await expect(autoencode(video, twoClips)).rejects.toThrowError(
      new InputShapeError('audio must be float32 [1, 32, 1] like the image batch, got float32 [2, 32, 1]'),
    );
    await expect(autoencode(video, audio, { nchunks: 0 })).rejects.toThrowError(
      new InvalidArgumentError('nchunks must be an integer from 1 to 288, got 0'),
    );
    await expect(autoencode(video, audio, { topK: 0 })).rejects.toThrow(InvalidArgumentError);
    await autoencode.dispose();
    await model.dispose();
  });
});

describe('one pipeline under load', () => {
  it('32 concurrent calls give what 32 sequential calls give (textClassification and fillMask)', async () => {
    const classify = await textClassification(fixturePath('perceiver-seq-cls'));
    const fill = await fillMask(fixturePath('perceiver-mlm'));
    const texts = Array.from({ length: 32 }, (_, i) => `text number ${i}: ${'xyz'.slice(0, i % 4)}`);
    const sequential: unknown[] = [];
    for (const text of texts) sequential.push(await classify(text, { topK: null }));
    for (const text of texts) sequential.push(await fill(`${text}[MASK]`, { topK: 3 }));
    const concurrent = await Promise.all([
      ...texts.map((text) => classify(text, { topK: null })),
      ...texts.map((text) => fill(`${text}[MASK]`, { topK: 3 })),
    ]);
    expect(concurrent).toEqual(sequential);
    expect(new Set(concurrent.map((r) => JSON.stringify(r))).size).toBeGreaterThan(32);
    await classify.dispose();
    await fill.dispose();
  });

  it('dispose, then call: DisposedError (every task helper)', async () => {
    const fill = await fillMask(fixturePath('perceiver-mlm'));
    const flow = await opticalFlow(fixturePath('perceiver-flow'));
    const classify = await imageClassification(fixturePath('perceiver-cls-conv'));
    await Promise.all([fill.dispose(), flow.dispose(), classify.dispose()]);
    const gone = (name: string) =>
      new DisposedError(`this ${name} was disposed; load it again with fromPretrained`);
    await expect(fill('a[MASK]')).rejects.toThrowError(gone('PerceiverForMaskedLM'));
    await expect(flow(frame(16, 20), frame(16, 20))).rejects.toThrowError(gone('PerceiverForOpticalFlow'));
    await expect(classify(cats)).rejects.toThrowError(gone('PerceiverForImageClassificationConvProcessing'));
  });
});
