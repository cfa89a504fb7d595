import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type Checkpoint,
  CheckpointError,
  type GraphDtype,
  ModelSession,
  type NamedTensors,
  Tensor,
  describeCheckpointGraphs,
  openCheckpoint,
  writeDescribedGraph,
} from '@ortvision/core';
import {
  checkGraphModelCases,
  compareTensors,
  describeComparison,
  differenceRelativeToLargest,
  fixturePath,
  loadFixture,
  memoryCheckpoint,
  readNpy,
  readOnnxModel,
  readWeightsShapes,
} from '@ortvision/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LevitConfig } from './config.js';
import {
  LevitForImageClassification,
  LevitForImageClassificationWithTeacher,
  LevitModel,
} from './modeling.js';

const classes = { LevitModel, LevitForImageClassification, LevitForImageClassificationWithTeacher };
type LevitClass = (typeof classes)[keyof typeof classes];

const fixtures = ['levit-cls', 'levit-teacher', 'levit-base'] as const;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ortvision-levit-checkpoint-graphs-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The class a fixture's onnx/model.onnx stands for, per its manifest. */
async function fixtureClass(name: string): Promise<LevitClass> {
  const { manifest } = await loadFixture(fixturePath(name));
  return classes[manifest.graphs['onnx/model.onnx']!.describes as keyof typeof classes];
}

/** Describes `modelClass` on the fixture's checkpoint (the key check of a load) and writes its graph. */
async function buildFromCheckpoint(
  name: string,
  modelClass: LevitClass,
  dtype: GraphDtype,
  folder = `${name}-${modelClass.name}-${dtype}`,
): Promise<string> {
  const config = await LevitConfig.fromPretrained(fixturePath(name));
  const described = describeCheckpointGraphs(
    modelClass,
    config,
    await openCheckpoint(fixturePath(name)),
    dtype,
  );
  try {
    return await writeDescribedGraph(modelClass, described, 'model', join(dir, folder));
  } finally {
    await described.weights.close();
  }
}

/** Every model case's outputs from a graph file. */
async function runModelCases(name: string, path: string): Promise<NamedTensors[]> {
  const { manifest } = await loadFixture(fixturePath(name));
  const session = await ModelSession.create(path);
  try {
    const outputs: NamedTensors[] = [];
    for (const testCase of manifest.model) {
      const feeds: NamedTensors = {};
      for (const [input, file] of Object.entries(testCase.feeds)) {
        feeds[input] = await readNpy(fixturePath(name, file));
      }
      outputs.push(await session.run(feeds));
    }
    return outputs;
  } finally {
    await session.dispose();
  }
}

describe.each(fixtures)('%s built from its checkpoint (CheckpointGraphs)', (name) => {
  let path: string;
  beforeAll(async () => {
    path = await buildFromCheckpoint(name, await fixtureClass(name), 'fp32');
  });

  it('has the exported graph’s inputs and outputs (names, dtypes, dims)', async () => {
    const built = await readOnnxModel(path);
    const exported = await readOnnxModel(fixturePath(name, 'onnx', 'model.onnx'));
    expect(built.inputs).toEqual(exported.inputs);
    expect(built.outputs).toEqual(exported.outputs);
  });

  it('matches PyTorch on every model case of the manifest', async () => {
    const results = await checkGraphModelCases(name, path);
    expect(results.length).toBeGreaterThan(0);
    for (const r of results)
      expect(r.comparison.ok, `${r.case} ${r.output}: ${describeComparison(r.comparison)}`).toBe(true);
  });

  // Measured worst (relative to each output's largest value): q8 3.1e-2 (levit-cls batch1), fp16 8.0e-4
  // (levit-teacher distillation_logits). q8 errs more than on ViT: every layer is narrow (16 to 192 features), so
  // one activation scale per tensor covers few values.
  it.each([
    ['q8', 0.05],
    ['fp16', 2e-3],
  ] as const)('%s stays within %s of fp32 (relative to the output’s largest value)', async (dtype, bound) => {
    const reference = await runModelCases(name, path);
    const outputs = await runModelCases(
      name,
      await buildFromCheckpoint(name, await fixtureClass(name), dtype),
    );
    for (const [i, expected] of reference.entries()) {
      for (const [output, tensor] of Object.entries(expected)) {
        expect(differenceRelativeToLargest(outputs[i]![output]!.data, tensor.data), output).toBeLessThan(
          bound,
        );
      }
    }
  });
});

describe('LeViT classes on another class’s checkpoint', () => {
  it('LevitForImageClassification reads a distilled checkpoint: its logits are the teacher’s cls_logits', async () => {
    // As transformers' docs load facebook/levit-128S into LevitForImageClassification: classifier_distill unread.
    const path = await buildFromCheckpoint('levit-teacher', LevitForImageClassification, 'fp32');
    const [outputs] = await runModelCases('levit-teacher', path);
    const expected = await readNpy(
      fixturePath('levit-teacher', 'reference', 'model-batch3-out.cls_logits.npy'),
    );
    // The manifest's tolerance for this case.
    const comparison = compareTensors(outputs!.logits!, expected, { atol: 1e-4, rtol: 1e-3 });
    expect(comparison.ok, describeComparison(comparison)).toBe(true);
  });

  it('LevitModel reads a classification checkpoint, leaving the classifier unread as transformers does', async () => {
    const config = await LevitConfig.fromPretrained(fixturePath('levit-cls'));
    const described = describeCheckpointGraphs(
      LevitModel,
      config,
      await openCheckpoint(fixturePath('levit-cls')),
      'fp32',
    );
    try {
      expect(described.weights.checkUnused().map((w) => w.key)).toEqual(
        expect.arrayContaining(['classifier.linear.weight', 'classifier.batch_norm.running_var']),
      );
    } finally {
      await described.weights.close();
    }
  });

  it('LevitForImageClassificationWithTeacher refuses a checkpoint without the distillation head, naming it', async () => {
    const config = await LevitConfig.fromPretrained(fixturePath('levit-cls'));
    const checkpoint = await openCheckpoint(fixturePath('levit-cls'));
    try {
      expect(() =>
        describeCheckpointGraphs(LevitForImageClassificationWithTeacher, config, checkpoint, 'fp32'),
      ).toThrowError(
        new CheckpointError(
          `${fixturePath('levit-cls', 'pytorch_model.bin')} has no weight 'classifier_distill.linear.weight' for LevitForImageClassificationWithTeacher`,
        ),
      );
    } finally {
      await checkpoint.close();
    }
  });
});

/** The fixture's weights in memory, with `extra` added: a checkpoint to provoke the unused-key check with. */
async function fixtureWeightsWith(
  name: string,
  extra: Record<string, Tensor<'float32'>>,
): Promise<Checkpoint> {
  const source = await openCheckpoint(fixturePath(name));
  const weights: Record<string, Tensor<'float32'>> = {};
  for (const key of source.keys()) {
    // memoryCheckpoint holds float32 only: BatchNorm's int64 step counters (which no graph reads) become zeros.
    const { dtype, shape } = source.info(key);
    weights[key] = dtype === 'int64' ? Tensor.zeros('float32', shape) : await source.readFloat32(key);
  }
  await source.close();
  return memoryCheckpoint({ ...weights, ...extra });
}

describe('the unused-key check', () => {
  it('lets a stored attention_bias_idxs buffer pass (older checkpoints carry it; the graph computes it)', async () => {
    const config = await LevitConfig.fromPretrained(fixturePath('levit-cls'));
    const checkpoint = await fixtureWeightsWith('levit-cls', {
      'levit.encoder.stages.0.layers.0.module.attention_bias_idxs': Tensor.zeros('float32', [16, 16]),
    });
    const described = describeCheckpointGraphs(LevitForImageClassification, config, checkpoint, 'fp32');
    expect(described.weights.checkUnused().map((w) => w.key)).toContain(
      'levit.encoder.stages.0.layers.0.module.attention_bias_idxs',
    );
  });

  it('refuses a weight of a deeper model, naming it', async () => {
    const config = await LevitConfig.fromPretrained(fixturePath('levit-cls'));
    const checkpoint = await fixtureWeightsWith('levit-cls', {
      'levit.encoder.stages.2.layers.2.module.linear_up.linear.weight': Tensor.zeros('float32', [96, 48]),
    });
    expect(() =>
      describeCheckpointGraphs(LevitForImageClassification, config, checkpoint, 'fp32'),
    ).toThrowError(
      new CheckpointError(
        "memory.safetensors holds 1 weight that LevitForImageClassification does not use: 'levit.encoder.stages.2.layers.2.module.linear_up.linear.weight' (a checkpoint of another architecture or config?)",
      ),
    );
  });
});

describe('facebook/levit-256 (the real config.json and checkpoint key set)', () => {
  const here = join(dirname(fileURLToPath(import.meta.url)), '__fixtures__', 'levit-256');
  let config: LevitConfig;
  let checkpoint: Checkpoint;
  beforeAll(async () => {
    config = new LevitConfig(JSON.parse(await readFile(join(here, 'config.json'), 'utf8')));
    // Describing reads shapes only: zero-filled tensors of the checkpoint's shapes stand for its weights.
    const { tensors } = await readWeightsShapes(join(here, 'weights-shapes.json'));
    checkpoint = memoryCheckpoint(
      Object.fromEntries(
        Object.entries(tensors).map(([key, { shape }]) => [key, Tensor.zeros('float32', [...shape])]),
      ),
      'pytorch_model.bin',
    );
  });

  it.each([
    [
      'LevitForImageClassificationWithTeacher',
      [
        ['batch_size', 1000],
        ['batch_size', 1000],
        ['batch_size', 1000],
      ],
    ],
    ['LevitForImageClassification', [['batch_size', 1000]]],
    [
      'LevitModel',
      [
        ['batch_size', 16, 512],
        ['batch_size', 512],
      ],
    ],
  ] as const)('%s uses every weight it reads, at the checkpoint’s shapes', (className, outputDims) => {
    const modelClass = classes[className];
    for (const dtype of ['fp32', 'q8'] as const) {
      const described = describeCheckpointGraphs(modelClass, config, checkpoint, dtype);
      const { graph } = described.graphs.model!;
      expect(graph.inputs.map((i) => i.dims)).toEqual([['batch_size', 3, 224, 224]]);
      expect(graph.outputs.map((o) => o.dims)).toEqual(outputDims);
      // What is left unread: only the step counters, and the parts outside the class.
      const unread = described.weights.checkUnused().filter((w) => !w.key.endsWith('num_batches_tracked'));
      const outside = className === 'LevitForImageClassificationWithTeacher' ? [] : ['classifier_distill'];
      if (className === 'LevitModel') outside.push('classifier');
      expect(new Set(unread.map((w) => w.key.split('.')[0]))).toEqual(new Set(outside));
    }
  });
});
