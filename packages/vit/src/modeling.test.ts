import { DisposedError, InputShapeError, ModelNotFoundError, Tensor } from '@ortvision/core';
import { checkModelCase, describeComparison, fixturePath, loadFixture } from '@ortvision/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { ViTConfig } from './config.js';
import { ViTForImageClassification, ViTForMaskedImageModeling, ViTModel } from './modeling.js';
import { maskPatches } from './post-processing.js';

const classes = {
  'vit-cls': ViTForImageClassification,
  'vit-digits': ViTForImageClassification,
  'vit-base': ViTModel,
  'vit-mim': ViTForMaskedImageModeling,
} as const;

describe.each(Object.entries(classes))('%s model cases', async (name, ModelClass) => {
  const { manifest } = await loadFixture(fixturePath(name));
  const model = await (ModelClass as typeof ViTModel).fromPretrained(fixturePath(name));
  afterAll(() => model.dispose());

  it.each(manifest.model.map((c) => [c.name, c] as const))('%s matches PyTorch', async (_name, testCase) => {
    for (const { output, comparison } of await checkModelCase(model, name, testCase)) {
      expect(comparison.ok, `${output}: ${describeComparison(comparison)}`).toBe(true);
    }
  });
});

describe('ViTConfig', () => {
  it('reads the fixture config and fills the docs defaults for absent fields', async () => {
    const config = await ViTConfig.fromPretrained(fixturePath('vit-digits'));
    expect([config.image_size, config.patch_size, config.hidden_size, config.numPatches]).toEqual([
      32, 4, 64, 64,
    ]);
    expect(config.labelOf(7)).toBe('7');
    const defaults = new ViTConfig({ model_type: 'vit' });
    expect([defaults.image_size, defaults.patch_size, defaults.hidden_size, defaults.qkv_bias]).toEqual([
      224,
      16,
      768,
      true,
    ]);
  });

  it('refuses a config of another model type', () => {
    expect(() => new ViTConfig({ model_type: 'levit' })).toThrowError(
      /model_type "levit", but ViTConfig handles "vit"/,
    );
  });
});

describe('ViTForMaskedImageModeling', () => {
  it('refuses a bool_masked_pos of the wrong length before ONNX Runtime sees it', async () => {
    const model = await ViTForMaskedImageModeling.fromPretrained(fixturePath('vit-mim'));
    const pixel_values = Tensor.zeros('float32', [1, 3, 32, 32]);
    await expect(
      model.forward({ pixel_values, bool_masked_pos: maskPatches(15, { ratio: 0.5 }) }),
    ).rejects.toThrowError(
      new InputShapeError(
        'bool_masked_pos must be [batch, 16] for 1 image(s) of 32 px with 8 px patches, got [1, 15]',
      ),
    );
    await model.dispose();
  });
});

describe('loading', () => {
  it('reports the device it runs on: cpu by default, and auto falls back to cpu without a GPU', async () => {
    const cpu = await ViTForImageClassification.fromPretrained(fixturePath('vit-cls'));
    expect(cpu.device).toBe('cpu');
    expect(cpu.nameOrPath).toBe(fixturePath('vit-cls'));
    await cpu.dispose();
    await expect(cpu.forward({ pixel_values: Tensor.zeros('float32', [1, 3, 32, 32]) })).rejects.toThrowError(
      DisposedError,
    );
  });

  it("names the files the folder has when a dtype variant is missing and graphSource is 'onnx' (Hub ONNX layout: onnx/model_quantized.onnx)", async () => {
    const loading = ViTForImageClassification.fromPretrained(fixturePath('vit-cls'), {
      dtype: 'q8',
      graphSource: 'onnx',
    });
    await expect(loading).rejects.toThrowError(ModelNotFoundError);
    await expect(loading).rejects.toThrowError(
      /none of onnx\/model_quantized\.onnx, model_quantized\.onnx \(it has: .*onnx\/model\.onnx.*\); it has a checkpoint: graphSource 'auto' or 'checkpoint' builds onnx\/model_quantized\.onnx from it/,
    );
  });
});
