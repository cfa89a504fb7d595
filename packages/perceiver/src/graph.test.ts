import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  type Checkpoint,
  CheckpointError,
  ConfigError,
  type GraphDtype,
  ModelSession,
  Tensor,
  describeCheckpointGraphs,
  openCheckpoint,
  writeOnnxModel,
} from '@ortvision/core';
import {
  fixturePath,
  fixturesRoot,
  memoryCheckpoint,
  readNpy,
  readOnnxModel,
  readWeightsShapes,
  weightsShapesCheckpoint,
} from '@ortvision/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PerceiverConfig } from './config.js';
import {
  buildPerceiverForImageClassificationConvProcessing,
  buildPerceiverForImageClassificationFourier,
  buildPerceiverForImageClassificationLearned,
  buildPerceiverForMultimodalAutoencoding,
  buildPerceiverForOpticalFlow,
  buildPerceiverForSequenceClassification,
  perceiverGraphBuilders,
} from './graph.js';
import {
  PerceiverForImageClassificationLearned,
  PerceiverForSequenceClassification,
  PerceiverModel,
} from './modeling.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ortvision-perceiver-graph-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A fixture's config.json with some fields changed. */
async function configWith(name: string, changes: Record<string, unknown>): Promise<PerceiverConfig> {
  return new PerceiverConfig({
    ...JSON.parse(await readFile(fixturePath(name, 'config.json'), 'utf8')),
    ...changes,
  });
}

/** Every weight of a fixture's checkpoint in memory, to add, drop or reshape some. */
async function fixtureWeights(name: string): Promise<Record<string, Tensor<'float32'>>> {
  const checkpoint = await openCheckpoint(fixturePath(name));
  const weights: Record<string, Tensor<'float32'>> = {};
  for (const key of checkpoint.keys()) {
    if (checkpoint.info(key).dtype === 'float32') weights[key] = await checkpoint.readFloat32(key);
  }
  await checkpoint.close();
  return weights;
}

/** Builds `build` from a fixture's checkpoint into `<dir>/<file>` (the data file, if any, beside it). */
async function writeBuilt(
  name: string,
  build: (
    config: PerceiverConfig,
    checkpoint: Checkpoint,
    options: { dtype: GraphDtype },
  ) => {
    graph: Parameters<typeof writeOnnxModel>[0];
  },
  file: string,
  dtype: GraphDtype = 'fp32',
): Promise<string> {
  const config = await PerceiverConfig.fromPretrained(fixturePath(name));
  const checkpoint = await openCheckpoint(fixturePath(name));
  try {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    return (await writeOnnxModel(build(config, checkpoint, { dtype }).graph, join(dir, file))).path;
  } finally {
    await checkpoint.close();
  }
}

describe('deepmind/vision-perceiver-learned (real config, full-size checkpoint keys and shapes)', () => {
  const model = join(
    fixturesRoot(),
    '..',
    'tooling',
    'bench',
    'models',
    'deepmind',
    'vision-perceiver-learned',
  );

  it.each(['fp32', 'q8'] as const)(
    'every weight of its checkpoint is read with the shape the config implies (%s)',
    async (dtype) => {
      const config = await PerceiverConfig.fromPretrained(model);
      const shapes = await readWeightsShapes(join(model, 'weights-shapes.json'));
      expect(shapes.class).toBe('PerceiverForImageClassificationLearned');
      const described = describeCheckpointGraphs(
        PerceiverForImageClassificationLearned,
        config,
        weightsShapesCheckpoint(shapes, { name: 'vision-perceiver-learned.safetensors' }),
        dtype,
      );
      const { graph, unusedKeys } = described.graphs.model!;
      expect(unusedKeys).toEqual([]);
      expect(graph.inputs.map((i) => [i.value.name, i.dims])).toEqual([
        ['pixel_values', ['batch_size', 3, 224, 224]],
      ]);
      expect(graph.outputs.map((o) => [o.value.name, o.dims])).toEqual([['logits', ['batch_size', 1000]]]);
      // 8 blocks of the same 6 self-attention layers: one set of weights, applied 48 times.
      const queries = graph.nodes.filter((n) =>
        n.name.startsWith('perceiver.encoder.self_attends.0.attention.self.query/'),
      );
      expect(queries.length).toBe(8 * (dtype === 'q8' ? 1 : 2));
      const exported = await readOnnxModel(join(model, 'onnx', 'model.onnx'));
      expect(exported.inputs.map((i) => [i.name, i.dims])).toEqual([
        ['pixel_values', ['batch_size', 3, 224, 224]],
      ]);
      await described.weights.close();
    },
  );
});

describe('Perceiver graph builders', () => {
  it('write the same bytes for the same checkpoint, config and dtype', async () => {
    for (const dtype of ['fp32', 'q8'] as const) {
      const first = await writeBuilt(
        'perceiver-multimodal',
        buildPerceiverForMultimodalAutoencoding,
        `same-a-${dtype}/model.onnx`,
        dtype,
      );
      const second = await writeBuilt(
        'perceiver-multimodal',
        buildPerceiverForMultimodalAutoencoding,
        `same-b-${dtype}/model.onnx`,
        dtype,
      );
      for (const suffix of ['', '_data']) {
        expect((await readFile(`${second}${suffix}`)).equals(await readFile(`${first}${suffix}`))).toBe(true);
      }
    }
  });

  it('name nodes by module path and initializers by state-dict key', async () => {
    const model = await readOnnxModel(
      await writeBuilt('perceiver-flow', buildPerceiverForOpticalFlow, 'names.onnx'),
    );
    const names = model.nodes.map((n) => n.name);
    expect(names).toContain('perceiver.encoder.cross_attention.attention.self.layernorm2/LayerNormalization');
    expect(names).toContain('perceiver.encoder.self_attends.0.mlp/Gelu');
    expect(names).toContain('perceiver.decoder.decoder.final_layer/MatMul');
    expect(names).toContain('perceiver.input_preprocessor.position_embeddings/Sin');
    const initializers = model.initializers.map((t) => t.name);
    expect(initializers).toContain('perceiver.embeddings.latents');
    expect(initializers).toContain('perceiver.input_preprocessor.conv_after_patches.weight/transposed');
  });

  it('take the Fourier and conv classifiers’ input size from the image, as PyTorch does', async () => {
    for (const [name, build] of [
      ['perceiver-cls-fourier', buildPerceiverForImageClassificationFourier],
      ['perceiver-cls-conv', buildPerceiverForImageClassificationConvProcessing],
    ] as const) {
      const session = await ModelSession.create(await writeBuilt(name, build, `${name}-any-size.onnx`));
      try {
        // The exported graphs take only their export size; these run on others (values unchecked: no reference).
        for (const [height, width] of [
          [20, 28],
          [40, 40],
        ] as const) {
          const pixels = new Tensor(
            'float32',
            Float32Array.from({ length: 3 * height * width }, (_, i) => Math.sin(i)),
            [1, 3, height, width],
          );
          const { logits } = await session.run({ pixel_values: pixels });
          expect(logits!.dims).toEqual([1, 5]);
          expect((logits!.data as Float32Array).every(Number.isFinite)).toBe(true);
        }
        // At the export size they are the fixture's model: batch1 again.
        const pixels = await readNpy(fixturePath(name, 'reference', 'model-batch1-in.pixel_values.npy'));
        const expected = await readNpy(fixturePath(name, 'reference', 'model-batch1-out.logits.npy'));
        const { logits } = await session.run({ pixel_values: pixels });
        const worst = Math.max(
          ...(logits!.data as Float32Array).map((v, i) => Math.abs(v - (expected.data as Float32Array)[i]!)),
        );
        expect(worst).toBeLessThan(1e-4);
      } finally {
        await session.dispose();
      }
    }
  });

  it('refuse a checkpoint whose shapes disagree with the config, naming file and key', async () => {
    const config = await configWith('perceiver-seq-cls', { d_latents: 64 });
    const checkpoint = await openCheckpoint(fixturePath('perceiver-seq-cls'));
    try {
      expect(() => buildPerceiverForSequenceClassification(config, checkpoint)).toThrowError(
        new CheckpointError(
          `${fixturePath('perceiver-seq-cls', 'model.safetensors')}: 'perceiver.embeddings.latents' has shape [16, 32], but the config implies [16, 64]`,
        ),
      );
    } finally {
      await checkpoint.close();
    }
  });

  it('refuse a checkpoint without a weight of the class, naming it', async () => {
    const config = await PerceiverConfig.fromPretrained(fixturePath('perceiver-cls-learned'));
    const { 'perceiver.input_preprocessor.positions_projection.weight': _, ...weights } =
      await fixtureWeights('perceiver-cls-learned');
    expect(() =>
      buildPerceiverForImageClassificationLearned(config, memoryCheckpoint(weights, 'learned.safetensors')),
    ).toThrowError(
      new CheckpointError(
        "learned.safetensors has no weight 'perceiver.input_preprocessor.positions_projection.weight'",
      ),
    );
  });

  it('refuse a checkpoint holding weights no graph of the class reads', async () => {
    const config = await PerceiverConfig.fromPretrained(fixturePath('perceiver-seq-cls'));
    const weights = await fixtureWeights('perceiver-seq-cls');
    weights['perceiver.encoder.self_attends.2.layernorm.weight'] = Tensor.zeros('float32', [32]);
    expect(() =>
      describeCheckpointGraphs(PerceiverForSequenceClassification, config, memoryCheckpoint(weights), 'fp32'),
    ).toThrowError(
      new CheckpointError(
        "memory.safetensors holds 1 weight that PerceiverForSequenceClassification does not use: 'perceiver.encoder.self_attends.2.layernorm.weight' (a checkpoint of another architecture or config?)",
      ),
    );
  });

  it('build PerceiverModel from a head model’s checkpoint, leaving the decoder unread as transformers does', async () => {
    const config = await PerceiverConfig.fromPretrained(fixturePath('perceiver-seq-cls'));
    const described = describeCheckpointGraphs(
      PerceiverModel,
      config,
      await openCheckpoint(fixturePath('perceiver-seq-cls')),
      'fp32',
    );
    expect(Object.keys(described.graphs)).toEqual(['model', 'model_no_preprocessor']);
    expect(described.graphs.model!.unusedKeys.every((key) => key.startsWith('decoder.'))).toBe(true);
    await described.weights.close();
  });

  it('leave PerceiverModel’s text graph out on a checkpoint without a text preprocessor; build the bare graph', async () => {
    // An image checkpoint's encoder reads its preprocessor's channels (322 here): transformers' PerceiverModel
    // (no preprocessor) reads d_model channels, as the real checkpoints' configs have them; the fixture's config
    // says 32, which transformers refuses too (size mismatch).
    const raw = JSON.parse(await readFile(fixturePath('perceiver-cls-conv', 'config.json'), 'utf8'));
    const checkpoint = await openCheckpoint(fixturePath('perceiver-cls-conv'));
    try {
      expect(() =>
        describeCheckpointGraphs(PerceiverModel, new PerceiverConfig(raw), checkpoint, 'fp32'),
      ).toThrowError(
        new CheckpointError(
          `${fixturePath('perceiver-cls-conv', 'pytorch_model.bin')}: 'encoder.cross_attention.attention.self.layernorm2.weight' has shape [322], but the config implies [32]`,
        ),
      );
      const config = new PerceiverConfig({ ...raw, d_model: 322 });
      const described = describeCheckpointGraphs(PerceiverModel, config, checkpoint, 'fp32');
      expect(Object.keys(described.graphs)).toEqual(['model_no_preprocessor']);
    } finally {
      await checkpoint.close();
    }
  });

  it.each([
    [
      'perceiver-seq-cls',
      { num_self_attention_heads: 3 },
      'd_latents (32) must be divisible by num_self_attention_heads (3)',
    ],
    [
      'perceiver-seq-cls',
      { qk_channels: null, cross_attention_shape_for_attention: 'x' },
      `cross_attention_shape_for_attention "x" is not 'q' or 'kv' (as transformers requires)`,
    ],
    [
      'perceiver-seq-cls',
      { qk_channels: 30, num_cross_attention_heads: 4 },
      'perceiver.encoder.cross_attention.attention: qk_channels (30) must be divisible by num_heads (4)',
    ],
    ['perceiver-flow', { train_size: [8] }, 'train_size must be [height, width], got [8]'],
    [
      'perceiver-multimodal',
      { output_shape: [1, 1, 12, 12] },
      'PerceiverForMultimodalAutoencoding needs at least 2 frames, got output_shape [1,1,12,12]',
    ],
  ] as const)('%s with %j: a ConfigError saying why', async (name, changes, message) => {
    const config = await configWith(name, changes);
    const builder = {
      'perceiver-seq-cls': perceiverGraphBuilders.PerceiverForSequenceClassification,
      'perceiver-flow': perceiverGraphBuilders.PerceiverForOpticalFlow,
      'perceiver-multimodal': perceiverGraphBuilders.PerceiverForMultimodalAutoencoding,
    }[name];
    const checkpoint = await openCheckpoint(fixturePath(name));
    try {
      expect(() => builder(config, checkpoint)).toThrowError(new ConfigError(message));
    } finally {
      await checkpoint.close();
    }
  });
});
