import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CheckpointError,
  ConfigError,
  type GraphDtype,
  type LabelScore,
  ModelSession,
  type NamedTensors,
  Tensor,
  openSafetensors,
  writeOnnxModel,
} from '@ortvision/core';
import {
  checkModelCase,
  describeComparison,
  differenceRelativeToLargest,
  fixtureImagePath,
  fixturePath,
  loadFixture,
  memoryCheckpoint,
  readNpy,
  readOnnxModel,
} from '@ortvision/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ViTConfig } from './config.js';
import { buildViTForMaskedImageModeling, buildViTModel, vitGraphBuilders } from './graph.js';
import { imageClassification } from './tasks.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ortvision-vit-graph-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const fixtures = ['vit-cls', 'vit-base', 'vit-mim', 'vit-digits'] as const;

/** The model class a fixture's onnx/model.onnx stands for, per its manifest. */
async function describedClass(name: string): Promise<keyof typeof vitGraphBuilders> {
  const { manifest } = await loadFixture(fixturePath(name));
  return manifest.graphs['onnx/model.onnx']!.describes as keyof typeof vitGraphBuilders;
}

/** Builds the fixture's class from its checkpoint into `<dir>/<folder>/onnx/<file>`. */
async function buildFixture(
  name: string,
  dtype: GraphDtype,
  folder: string,
  file = 'model.onnx',
): Promise<string> {
  const config = await ViTConfig.fromPretrained(fixturePath(name));
  const checkpoint = await openSafetensors(fixturePath(name, 'model.safetensors'));
  try {
    const { graph, unusedKeys } = vitGraphBuilders[await describedClass(name)](config, checkpoint, { dtype });
    expect(unusedKeys).toEqual([]);
    await mkdir(join(dir, folder, 'onnx'), { recursive: true });
    return (await writeOnnxModel(graph, join(dir, folder, 'onnx', file))).path;
  } finally {
    await checkpoint.close();
  }
}

/** A fixture's config.json with some fields changed. */
async function configWith(name: string, changes: Record<string, unknown>): Promise<ViTConfig> {
  return new ViTConfig({
    ...JSON.parse(await readFile(fixturePath(name, 'config.json'), 'utf8')),
    ...changes,
  });
}

async function runModelCases(name: string, session: ModelSession): Promise<NamedTensors[]> {
  const { manifest } = await loadFixture(fixturePath(name));
  const outputs: NamedTensors[] = [];
  for (const testCase of manifest.model) {
    const feeds: NamedTensors = {};
    for (const [input, file] of Object.entries(testCase.feeds))
      feeds[input] = await readNpy(fixturePath(name, file));
    outputs.push(await session.run(feeds));
  }
  return outputs;
}

describe.each(fixtures)('%s built from its checkpoint', (name) => {
  let session: ModelSession;
  let path: string;
  beforeAll(async () => {
    path = await buildFixture(name, 'fp32', `${name}-fp32`);
    session = await ModelSession.create(path);
  });
  afterAll(() => session?.dispose());

  it('has the exported graph’s inputs and outputs (names, dtypes, ranks, batch dimension)', async () => {
    const built = await readOnnxModel(path);
    const exported = await readOnnxModel(fixturePath(name, 'onnx', 'model.onnx'));
    const boundary = (values: typeof built.inputs) =>
      values.map((v) => ({ name: v.name, dtype: v.dtype, rank: v.dims.length, batch: v.dims[0] }));
    expect(boundary(built.inputs)).toEqual(boundary(exported.inputs));
    expect(boundary(built.outputs)).toEqual(boundary(exported.outputs));
    // The inputs' fixed sizes too (the exported outputs name their non-batch sizes symbolically; ours are fixed).
    for (const [i, input] of exported.inputs.entries()) expect(built.inputs[i]!.dims).toEqual(input.dims);
  });

  it('matches PyTorch on every model case of the manifest', async () => {
    const { manifest } = await loadFixture(fixturePath(name));
    expect(manifest.model.length).toBeGreaterThan(0);
    const model = { forward: (feeds: NamedTensors) => session.run(feeds) };
    for (const testCase of manifest.model) {
      for (const { output, comparison } of await checkModelCase(model, name, testCase)) {
        expect(comparison.ok, `${testCase.name} ${output}: ${describeComparison(comparison)}`).toBe(true);
      }
    }
  });

  it.each([
    ['q8', 0.02],
    ['fp16', 1e-3],
  ] as const)('%s stays within %s of fp32 (relative to the output’s largest value)', async (dtype, bound) => {
    const variant = await ModelSession.create(await buildFixture(name, dtype, `${name}-${dtype}`));
    try {
      const reference = await runModelCases(name, session);
      const outputs = await runModelCases(name, variant);
      for (const [i, expected] of reference.entries()) {
        for (const [output, tensor] of Object.entries(expected)) {
          expect(differenceRelativeToLargest(outputs[i]![output]!.data, tensor.data), output).toBeLessThan(
            bound,
          );
        }
      }
    } finally {
      await variant.dispose();
    }
  });
});

describe('vit-digits q8', () => {
  it('gives fp32’s label on at least 29 of the 30 held-out digits', async () => {
    const folder = join(dir, 'digits-pipeline');
    await buildFixture('vit-digits', 'fp32', 'digits-pipeline');
    await buildFixture('vit-digits', 'q8', 'digits-pipeline', 'model_quantized.onnx');
    for (const file of ['config.json', 'preprocessor_config.json']) {
      await copyFile(fixturePath('vit-digits', file), join(folder, file));
    }
    const fp32 = await imageClassification(folder);
    const q8 = await imageClassification(folder, { dtype: 'q8' });
    try {
      const { manifest } = await loadFixture(fixturePath('vit-digits'));
      expect(manifest.pipeline).toHaveLength(30);
      let agree = 0;
      for (const testCase of manifest.pipeline) {
        const image = fixtureImagePath((testCase.inputs as { images: string[] }).images[0]!);
        // One image in, one ranking out: a LabelScore[] whose first entry is the label.
        const [a] = (await fp32(image, { topK: 1 })) as LabelScore[];
        const [b] = (await q8(image, { topK: 1 })) as LabelScore[];
        if (a!.label === b!.label) agree++;
      }
      expect(agree).toBeGreaterThanOrEqual(29);
    } finally {
      await fp32.dispose();
      await q8.dispose();
    }
  });
});

describe('ViT graph builders', () => {
  it('write the same bytes for the same checkpoint, config and dtype', async () => {
    for (const dtype of ['fp32', 'q8'] as const) {
      const first = await buildFixture('vit-mim', dtype, `same-a-${dtype}`);
      const second = await buildFixture('vit-mim', dtype, `same-b-${dtype}`);
      for (const suffix of ['', '_data']) {
        expect((await readFile(`${second}${suffix}`)).equals(await readFile(`${first}${suffix}`))).toBe(true);
      }
    }
  });

  it('name nodes by module path and initializers by state-dict key', async () => {
    const model = await readOnnxModel(await buildFixture('vit-cls', 'fp32', 'names'));
    const names = model.nodes.map((n) => n.name);
    expect(names).toContain('vit.encoder.layer.0.attention.attention.query/MatMul');
    expect(names).toContain('vit.encoder.layer.1.intermediate/Gelu');
    expect(names).toContain('classifier/MatMul');
    const initializers = model.initializers.map((t) => t.name);
    expect(initializers).toContain('vit.embeddings.cls_token');
    expect(initializers).toContain('vit.encoder.layer.0.attention.output.dense.weight/transposed');
  });

  it('build ViTModel without pooler when the checkpoint has none, or when asked', async () => {
    const config = await ViTConfig.fromPretrained(fixturePath('vit-base'));
    const checkpoint = await openSafetensors(fixturePath('vit-base', 'model.safetensors'));
    try {
      const { graph, unusedKeys } = buildViTModel(config, checkpoint, { addPoolingLayer: false });
      expect(graph.outputs.map((o) => o.value.name)).toEqual(['last_hidden_state']);
      expect(unusedKeys).toEqual(['pooler.dense.weight', 'pooler.dense.bias']);
      const outputs = await (async () => {
        const path = join(dir, 'no-pooler.onnx');
        await writeOnnxModel(graph, path);
        const session = await ModelSession.create(path);
        try {
          return await runModelCases('vit-base', session);
        } finally {
          await session.dispose();
        }
      })();
      const expected = await readNpy(
        fixturePath('vit-base', 'reference', 'model-batch2-out.last_hidden_state.npy'),
      );
      const actual = outputs[0]!.last_hidden_state!.data as Float32Array;
      for (let i = 0; i < actual.length; i++) {
        expect(Math.abs(actual[i]! - (expected.data as Float32Array)[i]!)).toBeLessThan(
          1e-4 + 1e-3 * Math.abs((expected.data as Float32Array)[i]!),
        );
      }
    } finally {
      await checkpoint.close();
    }
  });

  it('refuse a checkpoint whose shapes disagree with the config, naming file and key', async () => {
    const config = await configWith('vit-cls', { hidden_size: 64 });
    const checkpoint = await openSafetensors(fixturePath('vit-cls', 'model.safetensors'));
    try {
      expect(() => vitGraphBuilders.ViTForImageClassification(config, checkpoint)).toThrowError(
        new CheckpointError(
          `${fixturePath('vit-cls', 'model.safetensors')}: 'vit.embeddings.patch_embeddings.projection.weight' has shape [32, 3, 8, 8], but the config implies [64, 3, 8, 8]`,
        ),
      );
    } finally {
      await checkpoint.close();
    }
  });

  it('refuse a checkpoint without the keys of the class, naming the first missing one', async () => {
    const config = await ViTConfig.fromPretrained(fixturePath('vit-cls'));
    const checkpoint = memoryCheckpoint(
      { 'vit.embeddings.cls_token': Tensor.zeros('float32', [1, 1, 32]) },
      'cls.safetensors',
    );
    expect(() => vitGraphBuilders.ViTForImageClassification(config, checkpoint)).toThrowError(
      new CheckpointError(
        "cls.safetensors has no weight 'vit.embeddings.patch_embeddings.projection.weight'",
      ),
    );
  });

  it('refuse masked-image modeling when patch_size differs from encoder_stride, as transformers does', async () => {
    const config = await configWith('vit-mim', { encoder_stride: 16 });
    expect(() => buildViTForMaskedImageModeling(config, memoryCheckpoint({}))).toThrowError(
      new ConfigError(
        'ViTForMaskedImageModeling needs patch_size (8) equal to encoder_stride (16) to reconstruct the image',
      ),
    );
  });
});
