import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CheckpointError,
  ConfigError,
  type GraphDtype,
  ModelSession,
  Tensor,
  describeCheckpointGraphs,
  openCheckpoint,
} from '@ortvision/core';
import {
  type FixtureGraphsCheck,
  boundaryDifferences,
  checkFixtureGraphs,
  differenceRelativeToLargest,
  fixtureCheckpointWith,
  fixturePath,
  memoryCheckpoint,
  readWeightsShapes,
  relativeErrors,
  weightsShapesCheckpoint,
} from '@ortvision/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AltCLIPConfig } from './config.js';
import { buildAltCLIPTextFeatures } from './graph.js';
import { AltCLIPModel, AltCLIPTextModel, AltCLIPVisionModel } from './modeling.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ortvision-altclip-graph-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const fixture = fixturePath('altclip');

async function fixtureConfig(changes: Record<string, unknown> = {}): Promise<AltCLIPConfig> {
  const json = JSON.parse(await readFile(join(fixture, 'config.json'), 'utf8'));
  return new AltCLIPConfig({ ...json, text_config: { ...json.text_config, ...changes } });
}

/** Every graph of AltCLIPModel built from the fixture's pytorch_model.bin, run on every case. */
async function joint(dtype: GraphDtype): Promise<FixtureGraphsCheck> {
  return checkFixtureGraphs(AltCLIPModel, await fixtureConfig(), 'altclip', dtype, join(dir, dtype));
}

describe('AltCLIP graphs built from the fixture checkpoint (AltCLIPModel)', () => {
  let fp32: FixtureGraphsCheck;
  beforeAll(async () => {
    fp32 = await joint('fp32');
  });

  it('matches PyTorch on every model case of the manifest (5 cases on 3 graphs)', () => {
    expect(Object.keys(fp32.graphs).sort()).toEqual([
      'onnx/model.onnx',
      'onnx/text_model.onnx',
      'onnx/vision_model.onnx',
    ]);
    expect(fp32.cases).toHaveLength(5);
    expect(fp32.failures).toEqual([]);
  });

  it('has the exported graphs’ inputs and outputs', async () => {
    for (const [graph, path] of Object.entries(fp32.graphs)) {
      expect(await boundaryDifferences(path, join(fixture, graph)), graph).toEqual([]);
    }
  });

  it('gives a padded text the embeddings of the text alone (positions from input_ids, padding masked)', async () => {
    const session = await ModelSession.create(fp32.graphs['onnx/text_model.onnx']!);
    try {
      const run = async (ids: number[], mask: number[]) => {
        const { text_embeds } = await session.run({
          input_ids: new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
          attention_mask: new Tensor('int64', BigInt64Array.from(mask, BigInt), [1, mask.length]),
        });
        return text_embeds!.data as Float32Array;
      };
      const padded = await run([0, 17, 42, 2, 1, 1], [1, 1, 1, 1, 0, 0]);
      const alone = await run([0, 17, 42, 2], [1, 1, 1, 1]);
      expect(differenceRelativeToLargest(padded, alone)).toBeLessThan(1e-5);
    } finally {
      await session.dispose();
    }
  });

  it.each([
    ['q8', 0.05],
    ['fp16', 2e-3],
  ] as const)(
    '%s stays within %s of fp32 on every case (relative to the output’s largest value)',
    async (dtype, bound) => {
      const errors = relativeErrors(fp32.results, (await joint(dtype)).results);
      expect(errors.filter((e) => e.error >= bound)).toEqual([]);
      console.info(
        `altclip ${dtype}: worst relative error vs fp32 ${Math.max(...errors.map((e) => e.error)).toExponential(2)}`,
      );
    },
  );
});

describe('AltCLIP tower classes', () => {
  it.each([
    ['AltCLIPTextModel', AltCLIPTextModel, 'text_model'],
    ['AltCLIPVisionModel', AltCLIPVisionModel, 'vision_model'],
  ] as const)(
    '%s reads the AltCLIPModel checkpoint, the other tower left unread, and matches its case',
    async (_, modelClass, graph) => {
      const check = await checkFixtureGraphs(
        modelClass,
        await fixtureConfig(),
        'altclip',
        'fp32',
        join(dir, modelClass.name),
        {
          partial: true,
        },
      );
      expect(Object.keys(check.graphs)).toEqual([`onnx/${graph}.onnx`]);
      expect(check.cases).toHaveLength(1);
      expect(check.failures).toEqual([]);
    },
  );
});

describe('AltCLIP graph builders', () => {
  it('refuse a checkpoint whose shapes disagree with the config, naming file and key', async () => {
    const config = await fixtureConfig({ max_position_embeddings: 514 });
    const checkpoint = await openCheckpoint(fixture);
    try {
      expect(() => buildAltCLIPTextFeatures(config, checkpoint)).toThrowError(
        new CheckpointError(
          `${join(fixture, 'pytorch_model.bin')}: 'text_model.roberta.embeddings.position_embeddings.weight' has shape [66, 24], but the config implies [514, 24]`,
        ),
      );
    } finally {
      await checkpoint.close();
    }
  });

  it('refuse a text config they cannot build, as ConfigErrors', async () => {
    const checkpoint = memoryCheckpoint({});
    const noPadding = await fixtureConfig({ pad_token_id: null });
    expect(() => buildAltCLIPTextFeatures(noPadding, checkpoint)).toThrowError(
      new ConfigError(
        'text_config.pad_token_id is null: the text tower numbers positions after the padding id (RoBERTa), so it needs one',
      ),
    );
    const relative = await fixtureConfig({ position_embedding_type: 'relative_key' });
    expect(() => buildAltCLIPTextFeatures(relative, checkpoint)).toThrowError(
      new ConfigError(
        'text_config.position_embedding_type "relative_key" cannot be built (expected "absolute", as AltCLIP\'s checkpoints have)',
      ),
    );
  });

  it('refuse a checkpoint without the text transformation, naming the first missing key', async () => {
    const checkpoint = await fixtureCheckpointWith(
      'altclip',
      (key) => (key.startsWith('text_model.transformation.') ? undefined : key),
      'altclip.safetensors',
    );
    const config = await fixtureConfig();
    expect(() => describeCheckpointGraphs(AltCLIPModel, config, checkpoint, 'fp32')).toThrowError(
      new CheckpointError(
        "altclip.safetensors has no weight 'text_model.transformation.weight' for AltCLIPModel",
      ),
    );
  });

  it('describe every graph of BAAI/AltCLIP on its real key set and config (no weight read)', async () => {
    const model = fileURLToPath(new URL('../../../tooling/bench/models/BAAI/AltCLIP', import.meta.url));
    const config = await AltCLIPConfig.fromPretrained(model);
    const shapes = await readWeightsShapes(join(model, 'weights-shapes.json'));
    for (const modelClass of [AltCLIPModel, AltCLIPTextModel, AltCLIPVisionModel]) {
      const described = describeCheckpointGraphs(modelClass, config, weightsShapesCheckpoint(shapes), 'q8');
      expect(Object.keys(described.graphs)).toEqual(Object.keys(modelClass.checkpointGraphs.graphs));
    }
  });
});
