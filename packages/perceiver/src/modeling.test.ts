import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputShapeError, ModelNotFoundError, Tensor } from '@ortvision/core';
import {
  checkModelCase,
  describeComparison,
  fixturePath,
  fixtureVariant,
  loadFixture,
} from '@ortvision/core/testing';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { fixtureClasses } from './__fixtures__/fixture-classes.js';
import { PerceiverConfig } from './config.js';
import {
  PerceiverForImageClassificationLearned,
  PerceiverForMaskedLM,
  PerceiverForMultimodalAutoencoding,
  PerceiverForOpticalFlow,
  PerceiverModel,
} from './modeling.js';

describe.each(Object.entries(fixtureClasses))('%s model cases', async (name, ModelClass) => {
  const { manifest } = await loadFixture(fixturePath(name));
  const model = await (ModelClass as typeof PerceiverForMaskedLM).fromPretrained(fixturePath(name));
  afterAll(() => model.dispose());

  it('names the class in the manifest', () => {
    for (const graph of Object.values(manifest.graphs))
      expect(graph.describes).toMatch(new RegExp(`^${ModelClass.name}\\b`));
  });

  it.each(manifest.model.map((c) => [c.name, c] as const))('%s matches PyTorch', async (_name, testCase) => {
    for (const { output, comparison } of await checkModelCase(model, name, testCase)) {
      expect(comparison.ok, `${output}: ${describeComparison(comparison)}`).toBe(true);
    }
  });
});

describe('PerceiverConfig', () => {
  it('reads the fixture config and fills the docs defaults', async () => {
    const config = await PerceiverConfig.fromPretrained(fixturePath('perceiver-flow'));
    expect(config.train_size).toEqual([8, 12]);
    const defaults = new PerceiverConfig({ model_type: 'perceiver' });
    expect([
      defaults.num_latents,
      defaults.d_latents,
      defaults.max_position_embeddings,
      defaults.qk_channels,
    ]).toEqual([256, 1280, 2048, null]);
    expect(() => new PerceiverConfig({ model_type: 'vit' })).toThrowError(
      /PerceiverConfig handles "perceiver"/,
    );
  });
});

describe('input checks before ONNX Runtime', () => {
  it('text models refuse sequences longer than max_position_embeddings and ids outside the vocabulary', async () => {
    const model = await PerceiverForMaskedLM.fromPretrained(fixturePath('perceiver-mlm'));
    const ids = (n: number, value = 10n) => new Tensor('int64', new BigInt64Array(n).fill(value), [1, n]);
    await expect(model.forward({ input_ids: ids(65) })).rejects.toThrowError(
      new InputShapeError(
        'input_ids has 65 tokens, more than max_position_embeddings 64: encode with truncation: true',
      ),
    );
    await expect(model.forward({ input_ids: ids(3, 262n) })).rejects.toThrowError(
      /outside the vocabulary 0-261/,
    );
    await expect(
      model.forward({ input_ids: ids(3), attention_mask: Tensor.zeros('int64', [1, 4]) }),
    ).rejects.toThrowError(/attention_mask must be int64 \[1, 3\]/);
    const { logits } = await model.forward({ input_ids: ids(3) });
    expect(logits.dims).toEqual([1, 64, 262]);
    await model.dispose();
  });

  it('image and flow models check their input shapes', async () => {
    const learned = await PerceiverForImageClassificationLearned.fromPretrained(
      fixturePath('perceiver-cls-learned'),
    );
    await expect(
      learned.forward({ pixel_values: Tensor.zeros('float32', [1, 3, 24, 24]) }),
    ).rejects.toThrowError(/pixel_values must be float32 \[batch, 3, 16, 16\]/);
    await learned.dispose();
    const flow = await PerceiverForOpticalFlow.fromPretrained(fixturePath('perceiver-flow'));
    await expect(flow.forward({ inputs: Tensor.zeros('float32', [1, 2, 27, 12, 8]) })).rejects.toThrowError(
      'inputs must be float32 [batch, 2, 27, 8, 12] (3x3 patches of two frames of config.train_size), got float32 [1, 2, 27, 12, 8]',
    );
    await flow.dispose();
  });

  it('the multimodal autoencoder validates its points', async () => {
    const model = await PerceiverForMultimodalAutoencoding.fromPretrained(
      fixturePath('perceiver-multimodal'),
    );
    const base = {
      image: Tensor.zeros('float32', [1, 2, 3, 12, 12]),
      audio: Tensor.zeros('float32', [1, 32, 1]),
      audio_points: new Tensor('int64', BigInt64Array.of(0n), [1]),
    };
    await expect(
      model.forward({ ...base, image_points: new Tensor('int64', BigInt64Array.of(0n, 288n), [2]) }),
    ).rejects.toThrowError(
      new InputShapeError(
        'image_points[1] is 288: expected an index into the 2x12x12 output pixels (0 to 287)',
      ),
    );
    await expect(
      model.forward({ ...base, image_points: Tensor.zeros('int64', [1, 2]) }),
    ).rejects.toThrowError(/image_points must be a 1-D int64 tensor/);
    await expect(
      model.forward({
        ...base,
        image_points: Tensor.zeros('int64', [1]),
        audio_points: BigInt64Array.of(8n) as never,
      }),
    ).rejects.toThrowError(InputShapeError);
    await expect(
      model.forward({
        ...base,
        image_points: Tensor.zeros('int64', [1]),
        audio_points: new Tensor('int64', BigInt64Array.of(-1n), [1]),
      }),
    ).rejects.toThrowError(/audio_points\[0\] is -1/);
    await expect(
      model.forward({
        ...base,
        image: Tensor.zeros('float32', [1, 2, 12, 12, 3]),
        image_points: Tensor.zeros('int64', [1]),
      }),
    ).rejects.toThrowError(/image must be float32 \[batch, 2, 3, 12, 12\]/);
    await expect(
      model.autoencode(Tensor.zeros('float32', [1, 2, 12, 12, 3]), base.audio, { nchunks: 0 }),
    ).rejects.toThrowError(/nchunks must be an integer from 1 to 288/);
    await model.dispose();
  });
});

describe('PerceiverModel loading', () => {
  it('loads a folder with only one of its two graphs, and says which is missing when it is asked for', async () => {
    // Without the checkpoint, from which model_no_preprocessor.onnx would be built.
    const folder = await fixtureVariant(
      'perceiver-mlm',
      await mkdtemp(join(tmpdir(), 'ortvision-perceiver-one-')),
      {
        'model.safetensors': null,
      },
    );
    onTestFinished(() => rm(folder, { recursive: true, force: true }));
    const model = await PerceiverModel.fromPretrained(folder);
    await expect(model.forward({ inputs: Tensor.zeros('float32', [1, 2, 32]) })).rejects.toThrowError(
      ModelNotFoundError,
    );
    await expect(model.forward({} as never)).rejects.toThrowError(/PerceiverModel takes input_ids/);
    await model.dispose();
    await expect(
      PerceiverModel.fromPretrained(fixturePath('perceiver-cls-learned', 'nothing-here')),
    ).rejects.toThrowError();
  });
});
