import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type BuiltGraph,
  CheckpointError,
  ConfigError,
  ModelSession,
  StateDict,
  Tensor,
  openCheckpoint,
  writeOnnxModel,
} from '@ortvision/core';
import { fixturePath, memoryCheckpoint, readNpy } from '@ortvision/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LevitConfig } from './config.js';
import {
  attentionBiasIndices,
  buildLevitForImageClassification,
  buildLevitForImageClassificationWithTeacher,
  buildLevitModel,
  levitPlan,
} from './graph.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ortvision-levit-graph-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A fixture's config.json with some fields changed. */
async function configWith(name: string, changes: Record<string, unknown>): Promise<LevitConfig> {
  return new LevitConfig({
    ...JSON.parse(await readFile(fixturePath(name, 'config.json'), 'utf8')),
    ...changes,
  });
}

async function levit256(): Promise<LevitConfig> {
  const here = join(dirname(fileURLToPath(import.meta.url)), '__fixtures__', 'levit-256', 'config.json');
  return new LevitConfig(JSON.parse(await readFile(here, 'utf8')));
}

/** Writes a described graph and runs it on a fixture's model-case input. */
async function run(built: BuiltGraph, file: string, input: string): Promise<Record<string, Float32Array>> {
  const { path } = await writeOnnxModel(built.graph, join(dir, file));
  const session = await ModelSession.create(path);
  try {
    const outputs = await session.run({ pixel_values: await readNpy(input) });
    return Object.fromEntries(Object.entries(outputs).map(([k, t]) => [k, t.data as Float32Array]));
  } finally {
    await session.dispose();
  }
}

describe('attentionBiasIndices', () => {
  it('numbers the offsets of a 2x2 grid in order of first appearance, per (query, key) pair', () => {
    // Points (0,0) (0,1) (1,0) (1,1); offsets met in order (0,0) (0,1) (1,0) (1,1).
    const { indices, offsets } = attentionBiasIndices(2, 2, 1);
    expect(offsets).toBe(4);
    expect([...indices]).toEqual([0, 1, 2, 3, 1, 0, 3, 2, 2, 3, 0, 1, 3, 2, 1, 0]);
  });

  it('places a subsampled query (i, j) at (i·stride, j·stride) of the key grid', () => {
    // 3x3 keys, stride 2 -> 2x2 queries at (0,0) (0,2) (2,0) (2,2): row offsets |0-k| and |2-k| are 0, 1, 2.
    const { indices, offsets } = attentionBiasIndices(3, 2, 2);
    expect(offsets).toBe(9);
    expect(indices.length).toBe(4 * 9);
    // The query at (0, 2) against keys (0, 0) (0, 1) (0, 2): column offsets 2, 1, 0.
    expect([...indices.subarray(9, 12)]).toEqual([2, 1, 0]);
    // The query at (2, 2) against key (2, 2): offset (0, 0), the first one met.
    expect(indices[3 * 9 + 8]).toBe(0);
  });

  it.each([
    [14, 14, 1, 196],
    [14, 7, 2, 196],
    [7, 4, 2, 49],
    [4, 4, 1, 16],
  ])(
    '%i -> %i (stride %i) has %i offsets, as LeViT-256’s attention_biases',
    (resIn, resOut, stride, expected) => {
      expect(attentionBiasIndices(resIn, resOut, stride).offsets).toBe(expected);
    },
  );
});

describe('levitPlan', () => {
  it('lays out LeViT-256 as transformers does: 4 attention+MLP pairs per stage, a subsample with its MLP between', async () => {
    const plan = levitPlan(await levit256());
    expect(plan.resolution).toBe(14);
    expect(plan.finalResolution).toBe(4);
    expect(plan.hiddenSize).toBe(512);
    expect(plan.stages.map((layers) => layers.map((l) => l.kind))).toEqual([
      [...Array(4).fill(['attention', 'mlp']).flat(), 'subsample', 'mlp'],
      [...Array(4).fill(['attention', 'mlp']).flat(), 'subsample', 'mlp'],
      Array(4).fill(['attention', 'mlp']).flat(),
    ]);
    expect(plan.stages[0]![8]).toEqual({
      kind: 'subsample',
      inputDim: 256,
      outputDim: 384,
      keyDim: 32,
      heads: 8,
      attentionRatio: 4,
      stride: 2,
      resolutionIn: 14,
      resolutionOut: 7,
    });
  });

  it('subsamples where the config.json saved before building has only two down_ops (no trailing [""])', async () => {
    const plan = levitPlan(await LevitConfig.fromPretrained(fixturePath('levit-cls')));
    expect(plan.stages.map((layers) => layers.length)).toEqual([4, 4, 2]);
    expect(plan.finalResolution).toBe(1);
  });

  it.each([
    [
      { image_size: 72 },
      'LeViT config: image_size 72 gives 5x5 tokens after the patch embeddings, but the attention biases are sized for image_size // patch_size = 4',
    ],
    [
      { depths: [1, 1] },
      'LeViT config: hidden_sizes has 3 entries, but depths has 2 stages (one entry per stage)',
    ],
    [
      {
        down_ops: [
          ['Subsample', 8, 2, 4, 2, 2],
          ['Subsample', 8, 4, 4, 2, 2],
          ['Subsample', 8, 6, 4, 2, 2],
        ],
      },
      'LeViT config: down_ops[2] subsamples after the last stage, which has no next hidden size to go to',
    ],
    [
      { down_ops: [['Subsample', 8, 'two', 4, 2, 2]] },
      'LeViT config: down_ops[0] = ["Subsample",8,"two",4,2,2] is not [\'Subsample\', key_dim, num_heads, attention_ratio, mlp_ratio, stride]',
    ],
    [
      { mlp_ratio: [1.3, 2, 2] },
      'LeViT config: hidden_sizes[0] * mlp_ratio[0] = 20.8 is not a positive whole size',
    ],
  ])('refuses a config transformers could not run (%j)', async (changes, message) => {
    const config = await configWith('levit-cls', changes);
    expect(() => levitPlan(config)).toThrowError(new ConfigError(message));
  });
});

describe('LeViT graph builders', () => {
  it('fold every BatchNorm, and name nodes by module path and initializers by state-dict key', async () => {
    const config = await LevitConfig.fromPretrained(fixturePath('levit-teacher'));
    const checkpoint = await openCheckpoint(fixturePath('levit-teacher'));
    try {
      const { graph, unusedKeys } = buildLevitForImageClassificationWithTeacher(config, checkpoint);
      // Only the step counters are left: every BatchNorm's four tensors went into a folded weight.
      expect(unusedKeys.filter((k) => !k.endsWith('num_batches_tracked'))).toEqual([]);
      expect(graph.nodes.some((n) => n.opType === 'BatchNormalization')).toBe(false);
      const names = graph.nodes.map((n) => n.name);
      expect(names).toContain('levit.patch_embeddings.embedding_layer_1.convolution/Conv');
      expect(names).toContain('levit.patch_embeddings.activation_layer_1/HardSwish');
      expect(names).toContain('levit.encoder.stages.0.layers.0.module.queries_keys_values.linear/MatMul');
      expect(names).toContain('levit.encoder.stages.0.layers.2.queries_subsample/Slice');
      expect(names).toContain('levit.encoder.stages.1.layers.1/Add_residual');
      expect(names).toContain('classifier_distill.linear/MatMul');
      const initializers = graph.initializers.map((i) => [i.value.name, i.dims]);
      expect(initializers).toContainEqual([
        'levit.patch_embeddings.embedding_layer_1.convolution.weight/folded',
        [2, 3, 3, 3],
      ]);
      expect(initializers).toContainEqual([
        'levit.encoder.stages.0.layers.0.module.attention_biases/gathered',
        [2, 16, 16],
      ]);
      // The first subsample: down_ops[0]'s 2 heads, 2x2 queries against 4x4 keys.
      expect(initializers).toContainEqual([
        'levit.encoder.stages.0.layers.2.attention_biases/gathered',
        [2, 4, 16],
      ]);
      expect(initializers).toContainEqual(['classifier.linear.weight/folded_transposed', [48, 6]]);
    } finally {
      await checkpoint.close();
    }
  });

  it('build the head as nn.Identity when num_labels is 0: the logits are the pooled features', async () => {
    const input = fixturePath('levit-cls', 'reference', 'model-batch2-in.pixel_values.npy');
    const checkpoint = await openCheckpoint(fixturePath('levit-cls'));
    try {
      const config = await configWith('levit-cls', { id2label: {}, label2id: {} });
      const headless = buildLevitForImageClassification(config, checkpoint);
      expect(headless.unusedKeys.filter((k) => k.startsWith('classifier.'))).toHaveLength(7);
      expect(headless.graph.outputs.map((o) => o.dims)).toEqual([['batch_size', 48]]);
      const { logits } = await run(headless, 'headless.onnx', input);
      // LevitModel on the same weights, read through transformers' base-model-prefix rule.
      const base = buildLevitModel(config, new StateDict(checkpoint, { baseModelPrefix: 'levit' }));
      const { pooler_output } = await run(base, 'base.onnx', input);
      expect([...logits!]).toEqual([...pooler_output!]);
    } finally {
      await checkpoint.close();
    }
  });

  it('refuse a checkpoint whose shapes disagree with the config, naming file, key and both shapes', async () => {
    const config = await configWith('levit-cls', { key_dim: [4, 8, 8] });
    const checkpoint = await openCheckpoint(fixturePath('levit-cls'));
    try {
      expect(() => buildLevitForImageClassification(config, checkpoint)).toThrowError(
        new CheckpointError(
          `${fixturePath('levit-cls', 'pytorch_model.bin')}: 'levit.encoder.stages.0.layers.0.module.queries_keys_values.linear.weight' has shape [64, 16], but the config implies [32, 16]`,
        ),
      );
    } finally {
      await checkpoint.close();
    }
  });

  it('refuse attention biases sized for another resolution (a checkpoint for another image_size)', async () => {
    const config = await configWith('levit-base', { image_size: 48 });
    const checkpoint = await openCheckpoint(fixturePath('levit-base'));
    try {
      expect(() => buildLevitModel(config, checkpoint)).toThrowError(
        new CheckpointError(
          `${fixturePath('levit-base', 'model.safetensors')}: 'encoder.stages.0.layers.0.module.attention_biases' has shape [2, 16], but the config implies [2, 9]`,
        ),
      );
    } finally {
      await checkpoint.close();
    }
  });

  it('refuse a checkpoint without the keys of the class, naming the first missing one', async () => {
    const config = await LevitConfig.fromPretrained(fixturePath('levit-cls'));
    const checkpoint = memoryCheckpoint(
      {
        'levit.patch_embeddings.embedding_layer_1.convolution.weight': Tensor.zeros('float32', [2, 3, 3, 3]),
      },
      'levit.safetensors',
    );
    expect(() => buildLevitForImageClassification(config, checkpoint)).toThrowError(
      new CheckpointError(
        "levit.safetensors has no weight 'levit.patch_embeddings.embedding_layer_1.batch_norm.weight'",
      ),
    );
  });
});
