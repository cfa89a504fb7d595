import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { fixturePath } from '../testing/fixtures.js';
import { writeSafetensors } from './safetensors-writer.js';
import { openSafetensors } from './safetensors.js';
import { StateDict } from './state-dict.js';

const VIT_CLS = fixturePath('vit-cls', 'model.safetensors'); // ViTForImageClassification: 'vit.*' + 'classifier.*'
const VIT_BASE = fixturePath('vit-base', 'model.safetensors'); // ViTModel: no prefix, with a pooler

const head = { model: 'ViTForImageClassification', baseModelPrefix: 'vit', expectsPrefix: true };
const base = { model: 'ViTModel', baseModelPrefix: 'vit', expectsPrefix: false };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ortvision-state-dict-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const vector = (...values: number[]) => new Tensor('float32', new Float32Array(values), [values.length]);

describe('StateDict', () => {
  it('reads a head model from its own checkpoint, shape-checked, and accepts it when every weight was read', async () => {
    const weights = new StateDict(await openSafetensors(VIT_CLS), head);
    expect(weights.keys()).toContain('classifier.weight');
    for (const key of weights.keys()) await weights.read(key, weights.info(key).shape);
    expect(weights.checkUnused()).toEqual([]);
    expect(weights.usedKeys().length).toBe(40);
    await weights.close();
  });

  it('names the file and key of a wrong shape, and of a missing key', async () => {
    const weights = new StateDict(await openSafetensors(VIT_CLS), head);
    await expect(weights.readFloat32('vit.embeddings.cls_token', [1, 1, 64])).rejects.toThrow(
      CheckpointError,
    );
    await expect(weights.readFloat32('vit.embeddings.cls_token', [1, 1, 64])).rejects.toThrow(
      `${VIT_CLS}: 'vit.embeddings.cls_token' has shape [1, 1, 32], expected [1, 1, 64] for ViTForImageClassification`,
    );
    await expect(weights.read('vit.pooler.dense.weight')).rejects.toThrow(
      `${VIT_CLS} has no weight 'vit.pooler.dense.weight' for ViTForImageClassification`,
    );
    expect(() => weights.info('nope')).toThrow(
      `${VIT_CLS} has no weight 'nope' for ViTForImageClassification`,
    );
    // A failed read does not count as a use.
    expect(weights.usedKeys()).toEqual([]);
    await weights.close();
  });

  it('lists every unused weight that is not ignorable, and lets declared ones pass', async () => {
    const weights = new StateDict(await openSafetensors(VIT_CLS), head);
    for (const key of weights.keys().filter((key) => !key.startsWith('vit.encoder.layer.1.')))
      await weights.read(key);
    expect(() => weights.checkUnused()).toThrow(CheckpointError);
    expect(() => weights.checkUnused()).toThrow(
      `${VIT_CLS} holds 16 weights that ViTForImageClassification does not use: 'vit.encoder.layer.1.attention.attention.query.weight', 'vit.encoder.layer.1.attention.attention.query.bias',`,
    );
    const lenient = new StateDict(await openSafetensors(VIT_CLS), {
      ...head,
      ignoreUnused: [
        '^vit\\.encoder\\.layer\\.1\\.attention\\.',
        /layer\.1\.(intermediate|output|layernorm)/g,
      ],
    });
    for (const key of lenient.keys().filter((key) => !key.startsWith('vit.encoder.layer.1.')))
      await lenient.read(key);
    const ignored = lenient.checkUnused();
    expect(ignored).toHaveLength(16);
    expect(ignored[0]).toEqual({
      key: 'vit.encoder.layer.1.attention.attention.query.weight',
      reason: 'matches /^vit\\.encoder\\.layer\\.1\\.attention\\./',
    });
    await weights.close();
    await lenient.close();
  });

  it('loads a base model from a head-model checkpoint: keys without the prefix, the head let pass', async () => {
    const weights = new StateDict(await openSafetensors(VIT_CLS), base);
    expect(weights.keys()).toHaveLength(38);
    expect(weights.keys()[0]).toBe('embeddings.cls_token');
    const cls = await weights.readFloat32('embeddings.cls_token', [1, 1, 32]);
    const stored = await (await openSafetensors(VIT_CLS)).readFloat32('vit.embeddings.cls_token');
    expect(cls.data).toEqual(stored.data);
    expect(weights.info('layernorm.weight').key).toBe('vit.layernorm.weight');
    // ViTModel has a pooler, which a classification checkpoint does not hold.
    await expect(weights.read('pooler.dense.weight')).rejects.toThrow(
      `${VIT_CLS} has no weight 'pooler.dense.weight' for ViTModel (looked for 'vit.pooler.dense.weight': the checkpoint's keys carry the 'vit.' prefix)`,
    );
    for (const key of weights.keys()) await weights.read(key);
    expect(weights.checkUnused()).toEqual([
      { key: 'classifier.weight', reason: "outside the base model 'vit' (a head-model checkpoint)" },
      { key: 'classifier.bias', reason: "outside the base model 'vit' (a head-model checkpoint)" },
    ]);
    await weights.close();
  });

  it('loads a head model from a base-model checkpoint: the base found without the prefix, the head missing', async () => {
    const weights = new StateDict(await openSafetensors(VIT_BASE), head);
    expect(weights.keys()[0]).toBe('vit.embeddings.cls_token');
    expect(weights.info('vit.embeddings.cls_token').key).toBe('embeddings.cls_token');
    await expect(weights.read('classifier.weight')).rejects.toThrow(
      `${VIT_BASE} has no weight 'classifier.weight' for ViTForImageClassification: the checkpoint holds only the base model (its keys lack the 'vit.' prefix), not this weight outside it`,
    );
    // ViTForImageClassification has no pooler: those weights are unexpected (transformers would only warn).
    for (const key of weights.keys().filter((key) => !key.includes('pooler'))) await weights.read(key);
    expect(() => weights.checkUnused()).toThrow(
      `${VIT_BASE} holds 2 weights that ViTForImageClassification does not use: 'pooler.dense.weight', 'pooler.dense.bias' (a checkpoint of another architecture or config?)`,
    );
    await weights.close();
  });

  it('refuses, as transformers does, a head weight in a checkpoint whose base lacks the prefix', async () => {
    const file = join(dir, 'corrupt.safetensors');
    await writeSafetensors(file, { 'embeddings.cls_token': vector(1), 'classifier.bias': vector(2) });
    const weights = new StateDict(await openSafetensors(file), head);
    await expect(weights.read('classifier.bias')).rejects.toThrow(
      `${file} holds 'classifier.bias', a weight of ViTForImageClassification outside its base model, but none of its keys start with 'vit': transformers refuses such a checkpoint as corrupted`,
    );
    await weights.close();
  });

  it('answers weight/bias from legacy gamma/beta names, a renamed key replacing a stored one', async () => {
    const file = join(dir, 'legacy.safetensors');
    await writeSafetensors(file, {
      'encoder.LayerNorm.gamma': vector(1, 2),
      'encoder.LayerNorm.beta': vector(3, 4),
      'norm.weight': vector(5),
      'norm.gamma': vector(6),
    });
    const weights = new StateDict(await openSafetensors(file), { model: 'BertModel' });
    expect(weights.keys()).toEqual(['norm.weight', 'encoder.LayerNorm.weight', 'encoder.LayerNorm.bias']);
    expect([...(await weights.readFloat32('encoder.LayerNorm.weight', [2])).data]).toEqual([1, 2]);
    expect([...(await weights.readFloat32('encoder.LayerNorm.bias')).data]).toEqual([3, 4]);
    expect([...(await weights.readFloat32('norm.weight')).data]).toEqual([6]);
    expect(weights.usedKeys()).toEqual(['encoder.LayerNorm.gamma', 'encoder.LayerNorm.beta', 'norm.gamma']);
    expect(weights.checkUnused()).toEqual([
      { key: 'norm.weight', reason: "replaced by the legacy-named 'norm.gamma'" },
    ]);
    await weights.close();
  });

  it('reads tied weights through the weight they share, and ignores step counters and position ids', async () => {
    const file = join(dir, 'tied.safetensors');
    await writeSafetensors(file, {
      'embeddings.word_embeddings.weight': vector(1, 2),
      'embeddings.position_ids': new Tensor('int64', new BigInt64Array([0n, 1n]), [1, 2]),
      'bn.num_batches_tracked': new Tensor('int64', new BigInt64Array([7n]), []),
    });
    const weights = new StateDict(await openSafetensors(file), {
      model: 'PerceiverForMaskedLM',
      tiedWeights: { 'decoder.weight': 'embeddings.word_embeddings.weight', 'lm.bias': 'lm.missing' },
    });
    expect(weights.has('decoder.weight')).toBe(true);
    expect([...(await weights.readFloat32('decoder.weight')).data]).toEqual([1, 2]);
    await expect(weights.read('lm.bias')).rejects.toThrow(
      `${file} has no weight 'lm.bias' for PerceiverForMaskedLM, nor the weight 'lm.missing' it is tied to`,
    );
    expect(weights.checkUnused()).toEqual([
      { key: 'embeddings.position_ids', reason: 'matches /(^|\\.)position_ids$/' },
      { key: 'bn.num_batches_tracked', reason: 'matches /(^|\\.)num_batches_tracked$/' },
    ]);
    await expect(weights.readFloat32('bn.num_batches_tracked')).rejects.toThrow(
      /'bn\.num_batches_tracked' is int64, expected a floating-point weight/,
    );
    expect(weights.usedKeys()).toEqual(['embeddings.word_embeddings.weight']);
    await weights.close();
  });
});
