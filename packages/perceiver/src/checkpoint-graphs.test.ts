import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type GraphDtype,
  type NamedTensors,
  type PreTrainedModel,
  Tensor,
  openCheckpoint,
} from '@ortvision/core';
import {
  type ModelCase,
  checkModelCase,
  compareTensors,
  describeComparison,
  differenceRelativeToLargest,
  fixturePath,
  loadFixture,
  readNpy,
  readOnnxModel,
} from '@ortvision/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixtureFolder } from './__fixtures__/built-fixture.js';
import { type PerceiverFixture, fixtureClasses } from './__fixtures__/fixture-classes.js';
import { PerceiverModel } from './modeling.js';

// Every Perceiver fixture's graphs built from the checkpoint it carries (the CheckpointGraphs each class declares:
// describeCheckpointGraphs + writeDescribedGraph), loaded by the model class from a copy of the fixture's folder
// whose onnx/ holds only the built graphs, and run on every model case of the manifest at its tolerance.

/**
 * perceiver-base's `embeddings-batch2` runs `model_no_preprocessor.onnx`, exported from a second random
 * PerceiverModel that has no checkpoint (fixtures/README.md): no graph built from this checkpoint can answer it.
 */
const NOT_FROM_CHECKPOINT = { fixture: 'perceiver-base', case: 'embeddings-batch2' } as const;

/**
 * q8 and fp16 against fp32, relative to each output's largest value. Worst measured: q8 0.065 (perceiver-flow),
 * 0.050 (multimodal image_logits), 0.032 (mlm), <= 0.022 elsewhere; fp16 0.0026 (multimodal audio_logits),
 * <= 0.0011 elsewhere.
 */
const BOUNDS: Record<Exclude<GraphDtype, 'fp32'>, number> = { q8: 0.1, fp16: 5e-3 };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ortvision-perceiver-checkpoint-graphs-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function load(name: PerceiverFixture, folder: string, dtype: GraphDtype): Promise<PreTrainedModel> {
  return (fixtureClasses[name] as typeof PerceiverModel).fromPretrained(folder, { dtype });
}

/** The manifest's model cases a graph built from the fixture's checkpoint can answer. */
async function checkpointCases(name: PerceiverFixture): Promise<ModelCase[]> {
  const { manifest } = await loadFixture(fixturePath(name));
  return manifest.model.filter(
    (c) => !(name === NOT_FROM_CHECKPOINT.fixture && c.name === NOT_FROM_CHECKPOINT.case),
  );
}

async function runCases(model: PreTrainedModel, name: PerceiverFixture): Promise<NamedTensors[]> {
  const outputs: NamedTensors[] = [];
  for (const testCase of await checkpointCases(name)) {
    const feeds: NamedTensors = {};
    for (const [input, file] of Object.entries(testCase.feeds))
      feeds[input] = await readNpy(fixturePath(name, file));
    outputs.push(await model.forward(feeds as never));
  }
  return outputs;
}

describe.each(Object.keys(fixtureClasses) as PerceiverFixture[])('%s built from its checkpoint', (name) => {
  let folder: string;
  let paths: Record<string, string>;
  let model: PreTrainedModel;
  beforeAll(async () => {
    folder = join(dir, name);
    paths = await buildFixtureFolder(name, folder, 'fp32');
    model = await load(name, folder, 'fp32');
  });
  afterAll(() => model?.dispose());

  it('has the exported graphs’ inputs and outputs (names, dtypes, ranks, batch dimension, fixed sizes)', async () => {
    const { manifest } = await loadFixture(fixturePath(name));
    const files = Object.keys(manifest.graphs).map((file) => file.replace(/^onnx\/|\.onnx$/g, ''));
    expect(Object.keys(paths).sort()).toEqual(files.sort());
    for (const [graph, path] of Object.entries(paths)) {
      const built = await readOnnxModel(path);
      const exported = await readOnnxModel(fixturePath(name, 'onnx', `${graph}.onnx`));
      const boundary = (values: typeof built.inputs) =>
        values.map((v) => ({ name: v.name, dtype: v.dtype, rank: v.dims.length, batch: v.dims[0] }));
      expect(boundary(built.inputs)).toEqual(boundary(exported.inputs));
      expect(boundary(built.outputs)).toEqual(boundary(exported.outputs));
      for (const [i, input] of exported.inputs.entries()) {
        const dims = built.inputs[i]!.dims;
        if (name === 'perceiver-cls-fourier' || name === 'perceiver-cls-conv') {
          // By design: the Fourier positions are computed from the input's size, so height and width stay free.
          expect(dims).toEqual([input.dims[0], input.dims[1], 'height', 'width']);
        } else expect(dims).toEqual(input.dims);
      }
    }
  });

  it('matches PyTorch on every model case of the manifest its checkpoint is behind', async () => {
    const cases = await checkpointCases(name);
    expect(cases.length).toBeGreaterThan(0);
    for (const testCase of cases) {
      for (const { output, comparison } of await checkModelCase(model, name, testCase)) {
        expect(comparison.ok, `${testCase.name} ${output}: ${describeComparison(comparison)}`).toBe(true);
      }
    }
  });

  it.each(Object.entries(BOUNDS))(
    '%s stays within %s of fp32 (relative to each output’s largest value)',
    async (dtype, bound) => {
      await buildFixtureFolder(name, folder, dtype as GraphDtype);
      const variant = await load(name, folder, dtype as GraphDtype);
      try {
        const reference = await runCases(model, name);
        const outputs = await runCases(variant, name);
        for (const [i, expected] of reference.entries()) {
          for (const [output, tensor] of Object.entries(expected)) {
            // batch1-image-only asks for no audio point: nothing to compare.
            if (tensor.size === 0) continue;
            const worst = differenceRelativeToLargest(
              outputs[i]![output]!.data as Float32Array,
              tensor.data as Float32Array,
            );
            expect(worst, `${output}`).toBeLessThan(bound);
          }
        }
      } finally {
        await variant.dispose();
      }
    },
  );
});

describe('perceiver-base without preprocessor', () => {
  it('embeddings-batch2 is not a case of this checkpoint: its graph comes from another random model', async () => {
    const { manifest } = await loadFixture(fixturePath('perceiver-base'));
    const testCase = manifest.model.find((c) => c.name === NOT_FROM_CHECKPOINT.case)!;
    expect(testCase.graph).toBe('onnx/model_no_preprocessor.onnx');
    const exported = await readOnnxModel(fixturePath('perceiver-base', 'onnx', 'model_no_preprocessor.onnx'));
    const exportedLatents = (await exported.readInitializer('inner.embeddings.latents')) as Float32Array;
    const checkpoint = await openCheckpoint(fixturePath('perceiver-base'));
    const latents = (await checkpoint.readFloat32('embeddings.latents')).data;
    await checkpoint.close();
    expect(exportedLatents.length).toBe(latents.length);
    expect(exportedLatents).not.toEqual(latents);
  });

  it('built from the checkpoint, gives text-batch2’s states for the text embeddings computed outside the graph', async () => {
    // PerceiverModel(inputs=embeddings(ids) + position_embeddings(arange(seq))) is the text graph's computation:
    // the case text-batch2 answers the bare graph too, fed the embeddings of its ids.
    const folder = join(dir, 'perceiver-base-bare');
    await buildFixtureFolder('perceiver-base', folder);
    const model = await PerceiverModel.fromPretrained(folder);
    try {
      const { manifest } = await loadFixture(fixturePath('perceiver-base'));
      const testCase = manifest.model.find((c) => c.name === 'text-batch2')!;
      const ids = (await readNpy(
        fixturePath('perceiver-base', testCase.feeds.input_ids!),
      )) as Tensor<'int64'>;
      const mask = (await readNpy(
        fixturePath('perceiver-base', testCase.feeds.attention_mask!),
      )) as Tensor<'int64'>;
      const checkpoint = await openCheckpoint(fixturePath('perceiver-base'));
      const tokens = (await checkpoint.readFloat32('input_preprocessor.embeddings.weight')).data;
      const positions = (await checkpoint.readFloat32('input_preprocessor.position_embeddings.weight')).data;
      await checkpoint.close();
      const [batch, seq] = ids.dims as [number, number];
      const width = model.config.d_model;
      const inputs = new Float32Array(batch * seq * width);
      for (let b = 0; b < batch; b++)
        for (let s = 0; s < seq; s++) {
          const id = Number(ids.data[b * seq + s]);
          for (let c = 0; c < width; c++) {
            inputs[(b * seq + s) * width + c] = Math.fround(
              tokens[id * width + c]! + positions[s * width + c]!,
            );
          }
        }
      const { last_hidden_state } = await model.forward({
        inputs: new Tensor('float32', inputs, [batch, seq, width]),
        attention_mask: mask,
      });
      const expected = await readNpy(fixturePath('perceiver-base', testCase.expected.last_hidden_state!));
      const comparison = compareTensors(last_hidden_state, expected, {
        atol: testCase.atol,
        rtol: testCase.rtol,
      });
      expect(comparison.ok, describeComparison(comparison)).toBe(true);
    } finally {
      await model.dispose();
    }
  });
});
