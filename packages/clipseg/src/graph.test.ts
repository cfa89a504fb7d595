import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CheckpointError,
  ConfigError,
  type GraphDtype,
  describeCheckpointGraphs,
  openCheckpoint,
} from '@ortvision/core';
import {
  type FixtureGraphsCheck,
  boundaryDifferences,
  checkFixtureGraphs,
  fixtureCheckpointWith,
  fixturePath,
  memoryCheckpoint,
  readOnnxModel,
  readWeightsShapes,
  relativeErrors,
  weightsShapesCheckpoint,
} from '@ortvision/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIPSegConfig } from './config.js';
import { buildCLIPSegForImageSegmentation, clipsegGraphBuilders } from './graph.js';
import {
  CLIPSegForImageSegmentation,
  CLIPSegModel,
  CLIPSegTextModel,
  CLIPSegVisionModel,
} from './modeling.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ortvision-clipseg-graph-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const fixture = fixturePath('clipseg');

async function fixtureConfig(changes: Record<string, unknown> = {}): Promise<CLIPSegConfig> {
  return new CLIPSegConfig({
    ...JSON.parse(await readFile(join(fixture, 'config.json'), 'utf8')),
    ...changes,
  });
}

/** Every graph of CLIPSegForImageSegmentation built from the fixture's pytorch_model.bin, run on every case. */
async function segmentation(dtype: GraphDtype): Promise<FixtureGraphsCheck> {
  return checkFixtureGraphs(
    CLIPSegForImageSegmentation,
    await fixtureConfig(),
    'clipseg',
    dtype,
    join(dir, dtype),
  );
}

describe('CLIPSeg graphs built from the fixture checkpoint (CLIPSegForImageSegmentation)', () => {
  let fp32: FixtureGraphsCheck;
  beforeAll(async () => {
    fp32 = await segmentation('fp32');
  });

  it('matches PyTorch on every model case of the manifest (11 cases on 4 graphs)', () => {
    expect(Object.keys(fp32.graphs).sort()).toEqual([
      'onnx/conditional_model.onnx',
      'onnx/model.onnx',
      'onnx/text_model.onnx',
      'onnx/vision_model.onnx',
    ]);
    expect(fp32.cases).toHaveLength(11);
    expect(fp32.failures).toEqual([]);
  });

  it('has the exported graphs’ inputs and outputs', async () => {
    for (const [graph, path] of Object.entries(fp32.graphs)) {
      expect(await boundaryDifferences(path, join(fixture, graph), { inputSizes: false }), graph).toEqual([]);
    }
  });

  it('leaves height and width symbolic where the exported graphs fix them at the processor size', async () => {
    const model = await readOnnxModel(fp32.graphs['onnx/model.onnx']!);
    expect(model.inputs.find((i) => i.name === 'pixel_values')!.dims).toEqual([
      'batch_size',
      3,
      'height',
      'width',
    ]);
    expect(model.outputs[0]!.dims).toEqual(['batch_size', 'height', 'width']);
  });

  it.each([
    ['q8', 0.05],
    ['fp16', 2e-3],
  ] as const)(
    '%s stays within %s of fp32 on every case (relative to the output’s largest value)',
    async (dtype, bound) => {
      const errors = relativeErrors(fp32.results, (await segmentation(dtype)).results);
      expect(errors.filter((e) => e.error >= bound)).toEqual([]);
      console.info(
        `clipseg ${dtype}: worst relative error vs fp32 ${Math.max(...errors.map((e) => e.error)).toExponential(2)}`,
      );
    },
  );
});

describe('CLIPSeg tower classes', () => {
  it.each([
    ['CLIPSegModel', CLIPSegModel, ['text_model', 'vision_model'], 3],
    ['CLIPSegTextModel', CLIPSegTextModel, ['text_model'], 2],
    ['CLIPSegVisionModel', CLIPSegVisionModel, ['vision_model'], 1],
  ] as const)(
    '%s reads the segmentation checkpoint (clip.*, decoder left unread) and matches its cases',
    async (_, modelClass, graphs, cases) => {
      const check = await checkFixtureGraphs(
        modelClass,
        await fixtureConfig(),
        'clipseg',
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
});

describe('CLIPSeg graph builders', () => {
  it('refuse a checkpoint whose shapes disagree with the config, naming file and key', async () => {
    const config = await fixtureConfig({ reduce_dim: 32 });
    const checkpoint = await openCheckpoint(fixture);
    try {
      expect(() => buildCLIPSegForImageSegmentation(config, checkpoint)).toThrowError(
        new CheckpointError(
          `${join(fixture, 'pytorch_model.bin')}: 'decoder.reduces.0.weight' has shape [16, 16], but the config implies [32, 16]`,
        ),
      );
    } finally {
      await checkpoint.close();
    }
  });

  it('refuse extract_layers beyond the vision tower, as a ConfigError', async () => {
    const config = await fixtureConfig({ extract_layers: [0, 3] });
    expect(() => buildCLIPSegForImageSegmentation(config, memoryCheckpoint({}))).toThrowError(
      new ConfigError(
        'extract_layers [0, 3] holds 3, which is not a layer of the 3-layer vision tower (expected 0 to 2)',
      ),
    );
  });

  it('refuse a checkpoint without the decoder, naming the first missing key', async () => {
    const clipOnly = await fixtureCheckpointWith(
      'clipseg',
      (key) => (key.startsWith('decoder.') ? undefined : key),
      'clip-only.safetensors',
    );
    const config = await fixtureConfig();
    expect(() =>
      describeCheckpointGraphs(CLIPSegForImageSegmentation, config, clipOnly, 'fp32'),
    ).toThrowError(
      new CheckpointError(
        "clip-only.safetensors has no weight 'decoder.reduces.0.weight' for CLIPSegForImageSegmentation",
      ),
    );
  });

  it('describe every graph of CIDAS/clipseg-rd64-refined on its real key set and config (no weight read)', async () => {
    const model = fileURLToPath(
      new URL('../../../tooling/bench/models/CIDAS/clipseg-rd64-refined', import.meta.url),
    );
    const config = await CLIPSegConfig.fromPretrained(model);
    const shapes = await readWeightsShapes(join(model, 'weights-shapes.json'));
    for (const modelClass of [
      CLIPSegForImageSegmentation,
      CLIPSegModel,
      CLIPSegTextModel,
      CLIPSegVisionModel,
    ]) {
      const described = describeCheckpointGraphs(modelClass, config, weightsShapesCheckpoint(shapes), 'q8');
      expect(Object.keys(described.graphs)).toEqual(Object.keys(modelClass.checkpointGraphs.graphs));
    }
    const { graph } = clipsegGraphBuilders.CLIPSegForImageSegmentation.model(
      config,
      weightsShapesCheckpoint(shapes),
    );
    // The decoder reads layers 3, 6 and 9: the vision tower stops after layer 9, as torch's export does.
    const layers = new Set(
      graph.nodes.flatMap((n) => /^clip\.vision_model\.encoder\.layers\.(\d+)\//.exec(n.name)?.[1] ?? []),
    );
    expect([...layers].map(Number).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
