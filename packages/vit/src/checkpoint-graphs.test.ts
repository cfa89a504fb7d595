import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CheckpointError,
  Tensor,
  describeCheckpointGraphs,
  openCheckpoint,
  writeDescribedGraph,
} from '@ortvision/core';
import {
  checkGraphModelCases,
  describeComparison,
  fixturePath,
  loadFixture,
  memoryCheckpoint,
} from '@ortvision/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ViTConfig } from './config.js';
import { ViTForImageClassification, ViTForMaskedImageModeling, ViTModel } from './modeling.js';

const classes = { ViTModel, ViTForImageClassification, ViTForMaskedImageModeling };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ortvision-vit-checkpoint-graphs-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ViT classes build their graphs from the fixtures checkpoints (CheckpointGraphs)', () => {
  it.each(['vit-cls', 'vit-base', 'vit-mim', 'vit-digits'])(
    '%s: every model case at its tolerance',
    async (name) => {
      const { manifest } = await loadFixture(fixturePath(name));
      const modelClass = classes[manifest.graphs['onnx/model.onnx']!.describes as keyof typeof classes];
      const config = await ViTConfig.fromPretrained(fixturePath(name));
      const described = describeCheckpointGraphs(
        modelClass,
        config,
        await openCheckpoint(fixturePath(name)),
        'fp32',
      );
      const path = await writeDescribedGraph(modelClass, described, 'model', join(dir, name));
      await described.weights.close();
      expect(path).toBe(join(dir, name, 'model.onnx'));
      const results = await checkGraphModelCases(name, path);
      expect(results.length).toBeGreaterThan(0);
      for (const r of results) {
        expect(r.comparison.ok, `${r.case} ${r.output}: ${describeComparison(r.comparison)}`).toBe(true);
      }
    },
  );

  it('a ViTModel reads a classification checkpoint, leaving its classifier unread as transformers does', async () => {
    const config = await ViTConfig.fromPretrained(fixturePath('vit-cls'));
    const described = describeCheckpointGraphs(
      ViTModel,
      config,
      await openCheckpoint(fixturePath('vit-cls')),
      'fp32',
    );
    expect(Object.keys(described.graphs)).toEqual(['model']);
    await described.weights.close();
  });

  it('refuses a checkpoint holding a weight no graph reads, naming it', async () => {
    const config = await ViTConfig.fromPretrained(fixturePath('vit-cls'));
    const source = await openCheckpoint(fixturePath('vit-cls'));
    const weights: Record<string, Tensor<'float32'>> = {};
    for (const key of source.keys()) weights[key] = await source.readFloat32(key);
    await source.close();
    weights['vit.encoder.layer.9.output.dense.weight'] = new Tensor('float32', new Float32Array(4), [2, 2]);
    expect(() =>
      describeCheckpointGraphs(ViTForImageClassification, config, memoryCheckpoint(weights), 'fp32'),
    ).toThrow(
      new CheckpointError(
        "memory.safetensors holds 1 weight that ViTForImageClassification does not use: 'vit.encoder.layer.9.output.dense.weight' (a checkpoint of another architecture or config?)",
      ),
    );
  });
});
