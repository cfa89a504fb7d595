import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  DisposedError,
  Image,
  InputShapeError,
  InvalidArgumentError,
  InvalidImageError,
  type LabelScore,
  ModelNotFoundError,
} from '@ortvision/core';
import { fixtureImagePath, fixturePath, fixtureVariant } from '@ortvision/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ViTConfig } from './config.js';
import { ViTImageProcessor } from './image-processing.js';
import { ViTForImageClassification } from './modeling.js';
import { imageClassification } from './tasks.js';

// Bad folders, bad inputs and load on the ViT package (issue #12). Core's own cases are in
// packages/core/src/**/*.reliability.test.ts.

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ortvision-vit-rel-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** vit-cls with some files replaced (a string), copied from another fixture (`from:<fixture>/<file>`) or removed (null). */
function variant(name: string, changes: Record<string, string | null>): Promise<string> {
  return fixtureVariant('vit-cls', join(root, name), changes);
}

describe('model folders ViT cannot use', () => {
  it('a LeViT folder: ConfigError naming the model_type', async () => {
    await expect(ViTForImageClassification.fromPretrained(fixturePath('levit-cls'))).rejects.toThrowError(
      new ConfigError(
        `${fixturePath('levit-cls', 'config.json')} has model_type "levit", but ViTConfig handles "vit"`,
      ),
    );
  });

  it.each([
    ['image_size', '"32"', 'field image_size must be an integer, got "32"'],
    ['patch_size', '2.5', 'field patch_size must be an integer, got 2.5'],
    ['qkv_bias', '"true"', 'field qkv_bias must be of type boolean, got "true"'],
    ['layer_norm_eps', '"1e-12"', 'field layer_norm_eps must be of type number, got "1e-12"'],
    ['problem_type', '7', 'field problem_type must be of type string or null, got 7'],
  ])('config.json with %s = %s: ConfigError', async (field, value, message) => {
    const folder = await variant(`type-${field}`, {
      'config.json': `{"model_type": "vit", "${field}": ${value}}`,
    });
    await expect(ViTConfig.fromPretrained(folder)).rejects.toThrowError(
      new ConfigError(`${join(folder, 'config.json')}: ${message}`),
    );
  });

  it('no preprocessor_config.json: the pipeline says which file is missing', async () => {
    const folder = await variant('no-preprocessor', { 'preprocessor_config.json': null });
    await expect(imageClassification(folder)).rejects.toThrowError(
      new ModelNotFoundError(
        `preprocessor_config.json not found in the model folder ${folder} (it has: config.json, model.safetensors, onnx/model.onnx)`,
      ),
    );
  });

  it('a preprocessor_config.json that is not JSON: ConfigError', async () => {
    const folder = await variant('bad-preprocessor', { 'preprocessor_config.json': '{"size": 32' });
    await expect(ViTImageProcessor.fromPretrained(folder)).rejects.toThrow(ConfigError);
    await expect(ViTImageProcessor.fromPretrained(folder)).rejects.toThrow(
      /preprocessor_config\.json is not valid JSON/,
    );
  });

  it('a graph that takes 64 px images where the processor gives 32 px: InputShapeError before ONNX Runtime', async () => {
    const folder = await variant('levit-graph', { 'onnx/model.onnx': 'from:levit-cls/onnx/model.onnx' });
    const classify = await imageClassification(folder);
    await expect(classify(fixtureImagePath('cats.png'))).rejects.toThrowError(
      new InputShapeError(
        `input 'pixel_values' of ${join(folder, 'onnx', 'model.onnx')} has shape [1, 3, 32, 32], expected [batch_size, 3, 64, 64] (axis 2 must be 64)`,
      ),
    );
    await classify.dispose();
  });

  it('a text graph (input_ids): InputShapeError naming the inputs', async () => {
    const folder = await variant('text-graph', { 'onnx/model.onnx': 'from:perceiver-mlm/onnx/model.onnx' });
    const classify = await imageClassification(folder);
    await expect(classify(fixtureImagePath('cats.png'))).rejects.toThrow(InputShapeError);
    await expect(classify(fixtureImagePath('cats.png'))).rejects.toThrow(/unknown pixel_values/);
    await classify.dispose();
  });
});

describe('imageClassification inputs', () => {
  let classify: Awaited<ReturnType<typeof imageClassification>>;
  beforeAll(async () => {
    classify = await imageClassification(fixturePath('vit-cls'));
  });
  afterAll(() => classify.dispose());

  it.each([
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    [0, '0'],
    [-1, '-1'],
    [2.5, '2.5'],
    ['3' as unknown as number, "'3'"],
  ])('topK %s: InvalidArgumentError', async (topK, shown) => {
    await expect(classify(fixtureImagePath('cats.png'), { topK })).rejects.toThrowError(
      new InvalidArgumentError(`topK must be an integer >= 1, got ${shown}`),
    );
  });

  it('an unknown functionToApply: InvalidArgumentError', async () => {
    await expect(
      classify(fixtureImagePath('cats.png'), { functionToApply: 'relu' as 'softmax' }),
    ).rejects.toThrowError(
      new InvalidArgumentError("functionToApply must be one of 'softmax', 'sigmoid', 'none', got 'relu'"),
    );
  });

  it('one broken image in a list: InvalidImageError naming it', async () => {
    const broken = join(root, 'broken.png');
    await writeFile(broken, 'PNG? no');
    await expect(classify([fixtureImagePath('cats.png'), broken])).rejects.toThrowError(
      new InvalidImageError(
        `cannot decode "${broken}": unsupported format (expected JPEG, PNG, WebP, AVIF, GIF, TIFF)`,
      ),
    );
  });

  it('a 1x1 image classifies (resized up to 32 px)', async () => {
    const one = await new Image(new Uint8Array([48, 112, 160]), 1, 1, 3).toPng();
    const result = await classify(one);
    expect(result.map((r) => r.label).sort()).toEqual(['cat', 'couch', 'dog', 'remote control', 'tv']);
    expect(result.reduce((sum, r) => sum + r.score, 0)).toBeCloseTo(1, 5);
  });
});

describe('one pipeline under load', () => {
  it('32 concurrent calls give what 32 sequential calls give', async () => {
    const classify = await imageClassification(fixturePath('vit-digits'));
    const images = Array.from({ length: 32 }, (_, i) =>
      fixtureImagePath(['cats.png', 'camera.png', 'logo.png', 'noise_37x53.png'][i % 4]!),
    );
    const sequential: unknown[] = [];
    for (const image of images) sequential.push(await classify(image, { topK: 3 }));
    const concurrent = await Promise.all(images.map((image) => classify(image, { topK: 3 })));
    expect(concurrent).toEqual(sequential);
    expect(new Set(concurrent.map((r) => JSON.stringify(r))).size).toBe(4);
    await classify.dispose();
  });

  it('dispose, then call: DisposedError; dispose again is harmless', async () => {
    const classify = await imageClassification(fixturePath('vit-cls'));
    await classify.dispose();
    await expect(classify(fixtureImagePath('cats.png'))).rejects.toThrowError(
      new DisposedError('this ViTForImageClassification was disposed; load it again with fromPretrained'),
    );
    await classify.dispose();
  });
});
