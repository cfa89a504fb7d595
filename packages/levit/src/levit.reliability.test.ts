import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, DisposedError, InputShapeError, InvalidArgumentError } from '@ortvision/core';
import { fixtureImagePath, fixturePath } from '@ortvision/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LevitForImageClassificationWithTeacher } from './modeling.js';
import { imageClassification } from './tasks.js';

// Bad folders, bad inputs and load on the LeViT package (issue #12); the shared cases are in vit and core.

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ortvision-levit-rel-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('model folders LeViT cannot use', () => {
  it('a ViT folder: ConfigError naming the model_type', async () => {
    await expect(
      LevitForImageClassificationWithTeacher.fromPretrained(fixturePath('vit-cls')),
    ).rejects.toThrowError(
      new ConfigError(
        `${fixturePath('vit-cls', 'config.json')} has model_type "vit", but LevitConfig handles "levit"`,
      ),
    );
  });

  it('a graph that takes 32 px images where the processor gives 64 px: InputShapeError before ONNX Runtime', async () => {
    const folder = join(root, 'vit-graph');
    await cp(fixturePath('levit-cls'), folder, {
      recursive: true,
      filter: (src) => !src.includes('reference'),
    });
    await cp(fixturePath('vit-cls', 'onnx', 'model.onnx'), join(folder, 'onnx', 'model.onnx'));
    const classify = await imageClassification(folder);
    await expect(classify(fixtureImagePath('cats.png'))).rejects.toThrowError(
      new InputShapeError(
        `input 'pixel_values' of ${join(folder, 'onnx', 'model.onnx')} has shape [1, 3, 64, 64], expected [batch_size, 3, 32, 32] (axis 2 must be 32)`,
      ),
    );
    await classify.dispose();
  });
});

describe('imageClassification under bad options and load', () => {
  let classify: Awaited<ReturnType<typeof imageClassification>>;
  beforeAll(async () => {
    classify = await imageClassification(fixturePath('levit-teacher'));
  });
  afterAll(() => classify.dispose());

  it.each([Number.NaN, Number.NEGATIVE_INFINITY, 1.5])('topK %s: InvalidArgumentError', async (topK) => {
    await expect(classify(fixtureImagePath('cats.png'), { topK })).rejects.toThrowError(
      new InvalidArgumentError(`topK must be an integer >= 1, got ${topK}`),
    );
  });

  it('32 concurrent calls give what sequential calls give', async () => {
    const images = Array.from({ length: 32 }, (_, i) =>
      fixtureImagePath(['cats.png', 'camera.png', 'logo.png', 'chelsea.png'][i % 4]!),
    );
    const sequential: unknown[] = [];
    for (const image of images) sequential.push(await classify(image, { topK: 2 }));
    expect(await Promise.all(images.map((image) => classify(image, { topK: 2 })))).toEqual(sequential);
  });

  it('dispose, then call: DisposedError', async () => {
    const own = await imageClassification(fixturePath('levit-cls'));
    await own.dispose();
    await expect(own(fixtureImagePath('cats.png'))).rejects.toThrow(DisposedError);
    await expect(own(fixtureImagePath('cats.png'))).rejects.toThrow(
      /was disposed; load it again with fromPretrained/,
    );
  });
});
