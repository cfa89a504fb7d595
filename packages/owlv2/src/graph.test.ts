import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CheckpointError, type GraphDtype, describeCheckpointGraphs, openCheckpoint } from '@ortvision/core';
import {
  type FixtureGraphsCheck,
  boundaryDifferences,
  checkFixtureGraphs,
  fixtureCheckpointWith,
  fixturePath,
  graphBoundary,
  readNpy,
  readWeightsShapes,
  relativeErrors,
  weightsShapesCheckpoint,
} from '@ortvision/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Owlv2Config } from './config.js';
import { buildOwlv2ForObjectDetection, owlv2BoxBias } from './graph.js';
import { Owlv2ForObjectDetection, Owlv2Model, Owlv2TextModel, Owlv2VisionModel } from './modeling.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ortvision-owlv2-graph-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const fixture = fixturePath('owlv2');

async function fixtureConfig(changes: Record<string, unknown> = {}): Promise<Owlv2Config> {
  return new Owlv2Config({ ...JSON.parse(await readFile(join(fixture, 'config.json'), 'utf8')), ...changes });
}

/** Every graph of Owlv2ForObjectDetection built from the fixture's model.safetensors, run on every case. */
async function detection(dtype: GraphDtype): Promise<FixtureGraphsCheck> {
  return checkFixtureGraphs(Owlv2ForObjectDetection, await fixtureConfig(), 'owlv2', dtype, join(dir, dtype));
}

describe('OWLv2 graphs built from the fixture checkpoint (Owlv2ForObjectDetection)', () => {
  let fp32: FixtureGraphsCheck;
  beforeAll(async () => {
    fp32 = await detection('fp32');
  });

  it('matches PyTorch on every model case of the manifest (9 cases on 4 graphs)', async () => {
    expect(Object.keys(fp32.graphs).sort()).toEqual([
      'onnx/class_head.onnx',
      'onnx/model.onnx',
      'onnx/text_model.onnx',
      'onnx/vision_model.onnx',
    ]);
    expect(fp32.cases).toHaveLength(9);
    expect(fp32.failures).toEqual([]);
    // Masked queries are exactly -1e6, not merely close (case masked-queries).
    const masked = fp32.results.find((r) => r.case === 'masked-queries' && r.output === 'logits')!;
    const expected = (await readNpy(join(fixture, 'reference', 'model-masked-queries-out.logits.npy')))
      .data as Float32Array;
    const fills = [...expected.keys()].filter((i) => expected[i] === -1e6);
    expect(fills.length).toBeGreaterThan(0);
    for (const i of fills) expect((masked.actual!.data as Float32Array)[i]).toBe(-1e6);
  });

  it('has the exported graphs’ inputs and outputs', async () => {
    for (const [graph, path] of Object.entries(fp32.graphs)) {
      expect(await boundaryDifferences(path, join(fixture, graph)), graph).toEqual([]);
    }
  });

  it('has the layouts of fixtures/README.md: image_embeds 4-D in model.onnx, flattened in vision_model.onnx', async () => {
    const dims = async (graph: string, output: string) =>
      (await graphBoundary(fp32.graphs[graph]!)).outputs.find((o) => o.name === output)!.dims;
    expect(await dims('onnx/model.onnx', 'image_embeds')).toEqual(['batch_size', 6, 6, 32]);
    expect(await dims('onnx/vision_model.onnx', 'image_embeds')).toEqual(['batch_size', 36, 32]);
    expect(await dims('onnx/model.onnx', 'text_embeds')).toEqual(['batch_size', 'num_queries', 16]);
  });

  it.each([
    ['q8', 0.05],
    ['fp16', 2e-3],
  ] as const)(
    '%s stays within %s of fp32 on every case (relative to the output’s largest value)',
    async (dtype, bound) => {
      // Masked logits are -1e6 in both and would hide the others' error in "relative to the largest value".
      const errors = relativeErrors(fp32.results, (await detection(dtype)).results, (v) => v === -1e6);
      expect(errors.filter((e) => e.error >= bound)).toEqual([]);
      console.info(
        `owlv2 ${dtype}: worst relative error vs fp32 ${Math.max(...errors.map((e) => e.error)).toExponential(2)}`,
      );
    },
  );
});

describe('OWLv2 tower classes', () => {
  it.each([
    ['Owlv2Model', Owlv2Model, ['text_model', 'vision_model'], 4],
    ['Owlv2TextModel', Owlv2TextModel, ['text_model'], 2],
    ['Owlv2VisionModel', Owlv2VisionModel, ['vision_model'], 2],
  ] as const)(
    '%s reads the detection checkpoint, the other graphs’ weights left unread, and matches its cases',
    async (_, modelClass, graphs, cases) => {
      const check = await checkFixtureGraphs(
        modelClass,
        await fixtureConfig(),
        'owlv2',
        'fp32',
        join(dir, modelClass.name),
        {
          partial: true,
        },
      );
      expect(Object.keys(check.graphs)).toEqual(graphs.map((g) => `onnx/${g}.onnx`));
      expect(check.cases).toHaveLength(cases);
      expect(check.failures).toEqual([]);
    },
  );

  it('Owlv2TextModel also reads a checkpoint of Owlv2Model alone (no owlv2. prefix, no heads)', async () => {
    const prefix = 'owlv2.';
    const base = await fixtureCheckpointWith(
      'owlv2',
      (key) => (key.startsWith(prefix) ? key.slice(prefix.length) : undefined),
      'base.safetensors',
    );
    const config = await fixtureConfig();
    expect(Object.keys(describeCheckpointGraphs(Owlv2TextModel, config, base, 'fp32').graphs)).toEqual([
      'text_model',
    ]);
    expect(() => describeCheckpointGraphs(Owlv2VisionModel, config, base, 'fp32')).toThrowError(
      new CheckpointError(
        "base.safetensors has no weight 'layer_norm.weight' for Owlv2VisionModel: the checkpoint holds only the base model (its keys lack the 'owlv2.' prefix), not this weight outside it",
      ),
    );
  });
});

describe('OWLv2 graph builders', () => {
  it('compute the box bias of transformers’ compute_box_bias in float32', () => {
    // numpy/torch float32 for a 2 x 2 grid: centres (1/2 or 1) and sizes 1/2 as log(c + 1e-4) - log1p(-c + 1e-4).
    // In float32 a centre of 1/2 gives 2^-24, not 0, and a centre of 1 gives 9.21027 (float64: 9.21044).
    const half = 2 ** -24;
    const one = 9.210274696350098;
    const expected = [
      [half, half, half, half],
      [one, half, half, half],
      [half, one, half, half],
      [one, one, half, half],
    ].flat();
    const bias = owlv2BoxBias(2);
    expect(bias.length).toBe(16);
    for (const [i, value] of expected.entries()) expect(bias[i]).toBeCloseTo(value, 6);
  });

  it('refuse a checkpoint whose shapes disagree with the config, naming file and key', async () => {
    const config = await fixtureConfig({ projection_dim: 12 });
    const checkpoint = await openCheckpoint(fixture);
    try {
      expect(() => buildOwlv2ForObjectDetection(config, checkpoint)).toThrowError(
        new CheckpointError(
          `${join(fixture, 'model.safetensors')}: 'owlv2.text_projection.weight' has shape [16, 16], but the config implies [12, 16]`,
        ),
      );
    } finally {
      await checkpoint.close();
    }
  });

  it('refuse a checkpoint without the objectness head, naming the first missing key', async () => {
    const owlvit = await fixtureCheckpointWith(
      'owlv2',
      (key) => (key.startsWith('objectness_head.') ? undefined : key),
      'owlvit.safetensors',
    );
    const config = await fixtureConfig();
    expect(() => describeCheckpointGraphs(Owlv2ForObjectDetection, config, owlvit, 'fp32')).toThrowError(
      new CheckpointError(
        "owlvit.safetensors has no weight 'objectness_head.dense0.weight' for Owlv2ForObjectDetection",
      ),
    );
  });

  it('describe every graph of google/owlv2-base-patch16-ensemble on its real key set and config (no weight read)', async () => {
    const model = fileURLToPath(
      new URL('../../../tooling/bench/models/google/owlv2-base-patch16-ensemble', import.meta.url),
    );
    const config = await Owlv2Config.fromPretrained(model);
    const shapes = await readWeightsShapes(join(model, 'weights-shapes.json'));
    for (const modelClass of [Owlv2ForObjectDetection, Owlv2Model, Owlv2TextModel, Owlv2VisionModel]) {
      const described = describeCheckpointGraphs(modelClass, config, weightsShapesCheckpoint(shapes), 'q8');
      expect(Object.keys(described.graphs)).toEqual(Object.keys(modelClass.checkpointGraphs.graphs));
    }
    const { graph } = buildOwlv2ForObjectDetection(config, weightsShapesCheckpoint(shapes));
    expect(graph.inputs.find((i) => i.value.name === 'pixel_values')!.dims).toEqual([
      'batch_size',
      3,
      960,
      960,
    ]);
    expect(graph.outputs.find((o) => o.value.name === 'pred_boxes')!.dims).toEqual(['batch_size', 3600, 4]);
  });
});
