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
import { AltCLIPModel } from './modeling.js';
import { similarityFromEmbeddings } from './post-processing.js';
import { AltCLIPProcessor } from './processing.js';
import { embedImage, embedText, similarity, zeroShotImageClassification } from './tasks.js';

// Bad folders, bad inputs and load on the AltCLIP package (issue #12); the shared cases are in core and vit.

const cats = fixtureImagePath('cats.png');
const camera = fixtureImagePath('camera.png');
let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ortvision-altclip-rel-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The altclip fixture with files replaced (a string), copied from another fixture (`from:<fixture>/<file>`) or removed (null). */
function variant(name: string, changes: Record<string, string | null>): Promise<string> {
  return fixtureVariant('altclip', join(root, name), changes);
}

async function classifyIn(folder: string): Promise<unknown> {
  const classify = await zeroShotImageClassification(folder);
  try {
    return await classify(cats, ['cat', 'dog']);
  } finally {
    await classify.dispose();
  }
}

describe('model folders AltCLIP cannot use', () => {
  // Without the checkpoint too: with it, a missing graph is built from it (checkpoint-folder.test.ts).
  const missing = (graph: string) =>
    new RegExp(
      `has neither onnx/${graph}\\.onnx nor ${graph}\\.onnx nor a checkpoint \\(model\\.safetensors or pytorch_model\\.bin, sharded or not\\) to build it from \\(it has: config\\.json`,
    );
  it.each([
    ['no config.json', { 'config.json': null }, ConfigError, /has no config\.json/],
    [
      'config.json not JSON',
      { 'config.json': '{"model_type": "altclip",' },
      ConfigError,
      /is not valid JSON/,
    ],
    [
      'projection_dim a string',
      { 'config.json': '{"model_type": "altclip", "projection_dim": "16"}' },
      ConfigError,
      /config\.json: field projection_dim must be an integer, got "16"/,
    ],
    [
      'text_config.vocab_size a string',
      { 'config.json': '{"model_type": "altclip", "text_config": {"vocab_size": "x"}}' },
      ConfigError,
      /config\.json text_config: field vocab_size must be an integer, got "x"/,
    ],
    [
      'a CLIPSeg config.json',
      { 'config.json': 'from:clipseg/config.json' },
      ConfigError,
      /has model_type "clipseg", but AltCLIPConfig handles "altclip"/,
    ],
    [
      'no preprocessor_config.json',
      { 'preprocessor_config.json': null },
      ModelNotFoundError,
      /preprocessor_config\.json not found in the model folder/,
    ],
    [
      'no tokenizer',
      { 'tokenizer.json': null, 'sentencepiece.bpe.model': null },
      ModelNotFoundError,
      /has no tokenizer\.json, nor XLMRobertaTokenizer's sentencepiece\.bpe\.model to build it from \(missing: sentencepiece\.bpe\.model\); either would do/,
    ],
    [
      'no model.onnx',
      { 'onnx/model.onnx': null, 'pytorch_model.bin': null },
      ModelNotFoundError,
      missing('model'),
    ],
    [
      'no text_model.onnx',
      { 'onnx/text_model.onnx': null, 'pytorch_model.bin': null },
      ModelNotFoundError,
      missing('text_model'),
    ],
    [
      'no vision_model.onnx',
      { 'onnx/vision_model.onnx': null, 'pytorch_model.bin': null },
      ModelNotFoundError,
      missing('vision_model'),
    ],
    [
      "OWLv2's vision tower (48 px) as vision_model.onnx",
      { 'onnx/vision_model.onnx': 'from:owlv2/onnx/vision_model.onnx' },
      InputShapeError,
      /input 'pixel_values' of .*vision_model\.onnx has shape \[1, 3, 32, 32\], expected \[batch_size, 3, 48, 48\] \(axis 2 must be 48\)/,
    ],
    [
      "ViT's classifier (32 px, logits) as vision_model.onnx",
      { 'onnx/vision_model.onnx': 'from:vit-cls/onnx/model.onnx' },
      InputShapeError,
      /the vision_model graph returned no 'image_embeds' \(it has: logits\), expected float32 \[1, 16\] \(batch, config projection_dim\)/,
    ],
    [
      "OWLv2's model.onnx",
      { 'onnx/model.onnx': 'from:owlv2/onnx/model.onnx' },
      InputShapeError,
      /input 'pixel_values' of .*model\.onnx has shape \[2, 3, 32, 32\], expected \[batch_size, 3, 48, 48\]/,
    ],
  ] as const)('%s', async (name, changes, ErrorClass, message) => {
    const folder = await variant(name.replace(/\W+/g, '-'), changes);
    const attempt = classifyIn(folder);
    await expect(attempt).rejects.toThrow(ErrorClass);
    await expect(attempt).rejects.toThrow(message);
  });
});

describe('zeroShotImageClassification, similarity and embeddings inputs', () => {
  let classify: Awaited<ReturnType<typeof zeroShotImageClassification>>;
  let score: Awaited<ReturnType<typeof similarity>>;
  beforeAll(async () => {
    classify = await zeroShotImageClassification(fixturePath('altclip'));
    score = await similarity(fixturePath('altclip'));
  });
  afterAll(async () => {
    await classify.dispose();
    await score.dispose();
  });

  it.each([
    [cats, [], {}, 'candidateLabels is empty: give at least one text'],
    [cats, 'cat', {}, `candidateLabels must be an array of strings (e.g. ['cat', '狗']), got 'cat'`],
    [cats, undefined, {}, 'got undefined'],
    [cats, ['cat', 1], {}, 'candidateLabels[1] must be a string, got 1'],
    [[], ['cat'], {}, 'zeroShotImageClassification got an empty list: give at least one image'],
    [cats, ['cat'], { topK: Number.NaN }, 'topK must be an integer >= 1, got NaN'],
    [
      cats,
      ['cat'],
      { top_k: 1 },
      "unknown option 'top_k' for the zeroShotImageClassification call (did you mean 'topK'?)",
    ],
    [cats, ['cat'], { hypothesisTemplate: '{x}' }, 'only "{}" (once) or "{0}" can stand for the label'],
    [cats, ['cat'], { hypothesisTemplate: 3 }, 'hypothesisTemplate must be a string'],
  ])('images %j, labels %j, options %j: InvalidArgumentError', async (images, labels, options, message) => {
    const attempt = classify(images as string, labels as string[], options as object);
    await expect(attempt).rejects.toThrow(InvalidArgumentError);
    await expect(attempt).rejects.toThrow(message);
  });

  it('an empty label is a label; a 600-word label is cut to the text tower (as the embedder documents)', async () => {
    expect(await classify(cats, [''])).toEqual([{ label: '', score: 1 }]);
    const long = 'cat '.repeat(600);
    const ranked = (await classify(cats, [long, 'dog'])) as { label: string }[];
    expect(ranked.map((r) => r.label).sort()).toEqual([long, 'dog'].sort());
  });

  it('images and texts of different counts: every pair scored ([images, texts]), as CLIP does', async () => {
    const result = await score([cats, camera, cats], ['a cat', 'a camera']);
    expect(result.logits_per_image.dims).toEqual([3, 2]);
    expect(result.logits_per_text.dims).toEqual([2, 3]);
    expect(result.logits_per_image.data.slice(0, 2)).toEqual(result.logits_per_image.data.slice(4, 6));
    await expect(score([cats], [])).rejects.toThrowError(
      new InvalidArgumentError('texts is empty: give at least one text'),
    );
  });

  it('model.forward with 3 texts and 2 images gives logits [2, 3]; a 600-token text without truncation: InputShapeError', async () => {
    const model = await AltCLIPModel.fromPretrained(fixturePath('altclip'));
    const processor = await AltCLIPProcessor.fromPretrained(fixturePath('altclip'));
    const text = await processor.process({ text: ['a', 'b', 'c'], padding: true });
    const { pixel_values } = await processor.process({ images: [cats, camera] });
    expect((await model.forward({ ...text, pixel_values })).logits_per_image.dims).toEqual([2, 3]);
    await expect(
      model.forward(await processor.process({ text: ['cat '.repeat(600)], images: cats })),
    ).rejects.toThrowError(
      new InputShapeError(
        'input_ids has 602 tokens per text, but the text tower has positions for at most 64 (max_position_embeddings 66); tokenize with truncation: true',
      ),
    );
    await model.dispose();
  });

  it('similarityFromEmbeddings: mismatched sizes and a NaN logitScale are typed errors', () => {
    const embeds = (rows: number, d: number) =>
      new Tensor('float32', new Float32Array(rows * d).fill(1), [rows, d]);
    expect(() => similarityFromEmbeddings(embeds(2, 3), embeds(2, 4), { logitScale: 1 })).toThrowError(
      new InputShapeError('textEmbeds [2, 3] and imageEmbeds [2, 4] must have the same embedding size'),
    );
    expect(() =>
      similarityFromEmbeddings(embeds(2, 3), embeds(2, 3), { logitScale: Number.NaN }),
    ).toThrowError(
      new InvalidArgumentError(
        'logitScale must be a finite number <= 80, the natural log of the similarity scale (trained models: 0 to ln 100 = 4.6052), got NaN',
      ),
    );
  });

  it('embedText([]) and embedImage([]): InvalidArgumentError', async () => {
    const text = await embedText(fixturePath('altclip'));
    const image = await embedImage(fixturePath('altclip'));
    await expect(text([])).rejects.toThrowError(
      new InvalidArgumentError('texts is empty: give at least one text'),
    );
    await expect(image([])).rejects.toThrowError(
      new InvalidArgumentError('embedImage got an empty list: give at least one image'),
    );
    await text.dispose();
    await image.dispose();
  });
});

describe('one pipeline under load', () => {
  it('32 concurrent calls give what 32 sequential calls give', async () => {
    const classify = await zeroShotImageClassification(fixturePath('altclip'));
    const calls = Array.from({ length: 32 }, (_, i) => ({
      image: fixtureImagePath(['cats.png', 'camera.png', 'logo.png', 'chelsea.png'][i % 4]!),
      labels: [['猫', '狗'], ['a cat', 'a camera', 'a logo'], ['一只猫'], ['tv', 'remote', 'sofa', 'cat']][
        Math.floor(i / 4) % 4
      ]!,
    }));
    const sequential: unknown[] = [];
    for (const { image, labels } of calls) sequential.push(await classify(image, labels));
    const concurrent = await Promise.all(calls.map(({ image, labels }) => classify(image, labels)));
    expect(concurrent).toEqual(sequential);
    expect(new Set(concurrent.map((r) => JSON.stringify(r))).size).toBeGreaterThan(4);
    await classify.dispose();
  });

  it('dispose, then call: DisposedError (every task helper)', async () => {
    const message = 'this AltCLIPModel was disposed; load it again with fromPretrained';
    const classify = await zeroShotImageClassification(fixturePath('altclip'));
    const score = await similarity(fixturePath('altclip'));
    const text = await embedText(fixturePath('altclip'));
    await Promise.all([classify.dispose(), score.dispose(), text.dispose()]);
    await expect(classify(cats, ['a'])).rejects.toThrowError(new DisposedError(message));
    await expect(score(cats, ['a'])).rejects.toThrowError(new DisposedError(message));
    await expect(text(['a'])).rejects.toThrowError(new DisposedError(message));
  });
});
