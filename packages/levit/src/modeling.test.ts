import type { Tensor } from '@ortvision/core';
import {
  checkModelCase,
  describeComparison,
  fixturePath,
  loadFixture,
  readNpy,
} from '@ortvision/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { LevitConfig } from './config.js';
import {
  LevitForImageClassification,
  LevitForImageClassificationWithTeacher,
  LevitModel,
} from './modeling.js';

const classes = {
  'levit-cls': LevitForImageClassification,
  'levit-teacher': LevitForImageClassificationWithTeacher,
  'levit-base': LevitModel,
} as const;

describe.each(Object.entries(classes))('%s model cases', async (name, ModelClass) => {
  const { manifest } = await loadFixture(fixturePath(name));
  const model = await (ModelClass as typeof LevitModel).fromPretrained(fixturePath(name));
  afterAll(() => model.dispose());

  it.each(manifest.model.map((c) => [c.name, c] as const))('%s matches PyTorch', async (_name, testCase) => {
    for (const { output, comparison } of await checkModelCase(model, name, testCase)) {
      expect(comparison.ok, `${output}: ${describeComparison(comparison)}`).toBe(true);
    }
  });
});

describe('LevitForImageClassificationWithTeacher', () => {
  it('returns logits equal to the mean of the two heads', async () => {
    const model = await LevitForImageClassificationWithTeacher.fromPretrained(fixturePath('levit-teacher'));
    const pixel_values = (await readNpy(
      fixturePath('levit-teacher', 'reference', 'model-batch3-in.pixel_values.npy'),
    )) as Tensor<'float32'>;
    const { logits, cls_logits, distillation_logits } = await model.forward({ pixel_values });
    for (let i = 0; i < logits.size; i++) {
      expect(logits.data[i]).toBeCloseTo((cls_logits.data[i]! + distillation_logits.data[i]!) / 2, 5);
    }
    await model.dispose();
  });
});

describe('LevitConfig', () => {
  it('reads the fixture config and derives down_ops like transformers when absent', async () => {
    const config = await LevitConfig.fromPretrained(fixturePath('levit-cls'));
    expect(config.image_size).toBe(64);
    expect(config.down_ops[0]![0]).toBe('Subsample');
    const defaults = new LevitConfig({ model_type: 'levit' });
    expect(defaults.hidden_sizes).toEqual([128, 256, 384]);
    expect(defaults.down_ops).toEqual([
      ['Subsample', 16, 8, 4, 2, 2],
      ['Subsample', 16, 16, 4, 2, 2],
    ]);
    expect(() => new LevitConfig({ model_type: 'levit', hidden_sizes: [1.5] })).toThrowError(
      /field hidden_sizes must be of type integer\[\]/,
    );
  });
});
