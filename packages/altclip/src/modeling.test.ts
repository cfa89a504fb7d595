import { InputShapeError, type NamedTensors, Tensor } from '@ortvision/core';
import {
  type ModelCase,
  compareTensors,
  describeComparison,
  fixturePath,
  loadFixture,
  readNpy,
} from '@ortvision/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { AltCLIPModel, AltCLIPTextModel, AltCLIPVisionModel } from './modeling.js';

const dir = fixturePath('altclip');
const { manifest } = await loadFixture(dir);
const model = await AltCLIPModel.fromPretrained(dir);
const textModel = await AltCLIPTextModel.fromPretrained(dir);
const visionModel = await AltCLIPVisionModel.fromPretrained(dir);
afterAll(() => Promise.all([model.dispose(), textModel.dispose(), visionModel.dispose()]));

async function feeds(testCase: ModelCase): Promise<Record<string, Tensor>> {
  const entries = Object.entries(testCase.feeds);
  return Object.fromEntries(
    await Promise.all(entries.map(async ([n, f]) => [n, await readNpy(`${dir}/${f}`)])),
  );
}

async function expectOutputs(outputs: NamedTensors, testCase: ModelCase): Promise<void> {
  expect(Object.keys(outputs).sort()).toEqual(Object.keys(testCase.expected).sort());
  for (const [name, file] of Object.entries(testCase.expected)) {
    const tolerance = { atol: testCase.atol ?? 0, rtol: testCase.rtol ?? 0 };
    const comparison = compareTensors(outputs[name]!, await readNpy(`${dir}/${file}`), tolerance);
    expect(comparison.ok, `${name}: ${describeComparison(comparison)}`).toBe(true);
  }
}

const byGraph = (graph: string) =>
  manifest.model.filter((c) => c.graph === graph).map((c) => [c.name, c] as const);

describe('AltCLIP model cases of fixture altclip', () => {
  it('covers all three graphs', () => {
    for (const graph of ['onnx/model.onnx', 'onnx/text_model.onnx', 'onnx/vision_model.onnx']) {
      expect(byGraph(graph).length).toBeGreaterThan(0);
    }
  });

  it.each(byGraph('onnx/model.onnx'))('AltCLIPModel.forward: %s', async (_name, testCase) => {
    const f = await feeds(testCase);
    await expectOutputs(
      await model.forward(f as { input_ids: Tensor<'int64'>; pixel_values: Tensor<'float32'> }),
      testCase,
    );
  });

  it.each(byGraph('onnx/text_model.onnx'))(
    'getTextFeatures and AltCLIPTextModel: %s',
    async (_name, testCase) => {
      const f = (await feeds(testCase)) as { input_ids: Tensor<'int64'>; attention_mask: Tensor<'int64'> };
      await expectOutputs({ text_embeds: await model.getTextFeatures(f) }, testCase);
      await expectOutputs(await textModel.forward(f), testCase);
    },
  );

  it.each(byGraph('onnx/vision_model.onnx'))(
    'getImageFeatures and AltCLIPVisionModel: %s',
    async (_name, testCase) => {
      const f = (await feeds(testCase)) as { pixel_values: Tensor<'float32'> };
      await expectOutputs({ image_embeds: await model.getImageFeatures(f) }, testCase);
      await expectOutputs(await visionModel.forward(f), testCase);
    },
  );
});

describe('AltCLIPModel.logitScale', () => {
  it("measures the graph's logit_scale (the fixture's is logit_scale_init_value)", async () => {
    const scale = await model.logitScale();
    expect(Math.abs(scale - model.config.logit_scale_init_value)).toBeLessThan(1e-5);
    expect(await model.logitScale()).toBe(scale);
  });
});

describe('AltCLIPModel input checks', () => {
  const ids = (seq: number) => new Tensor('int64', new BigInt64Array(seq).fill(5n), [1, seq]);

  it('defaults attention_mask to ones', async () => {
    const input_ids = new Tensor('int64', BigInt64Array.from([0n, 5n, 9n, 2n]), [1, 4]);
    const attention_mask = new Tensor('int64', new BigInt64Array(4).fill(1n), [1, 4]);
    const a = await model.getTextFeatures({ input_ids });
    const b = await model.getTextFeatures({ input_ids, attention_mask });
    expect(a.toNumbers()).toEqual(b.toNumbers());
  });

  it('rejects texts longer than the position embeddings allow, before ONNX Runtime', async () => {
    expect(model.config.text_config.maxSequenceLength).toBe(64);
    await expect(model.getTextFeatures({ input_ids: ids(65) })).rejects.toThrow(InputShapeError);
    await expect(model.getTextFeatures({ input_ids: ids(65) })).rejects.toThrow(/truncation: true/);
    await expect(model.getTextFeatures({ input_ids: ids(64) })).resolves.toBeInstanceOf(Tensor);
  });

  it('rejects int32 ids and a mask of another shape', async () => {
    const int32 = new Tensor('int32', new Int32Array(3), [1, 3]) as unknown as Tensor<'int64'>;
    await expect(model.getTextFeatures({ input_ids: int32 })).rejects.toThrow(/input_ids must be an int64/);
    await expect(model.getTextFeatures({ input_ids: ids(3), attention_mask: ids(4) })).rejects.toThrow(
      /attention_mask must be an int64 Tensor shaped like input_ids \[1, 3\]/,
    );
  });

  it('rejects pixel_values of the wrong size, naming the expected shape', async () => {
    const pixels = Tensor.zeros('float32', [1, 3, 24, 24]);
    await expect(model.getImageFeatures({ pixel_values: pixels })).rejects.toThrow(/\[batch, 3, 32, 32\]/);
    await expect(visionModel.forward({ pixel_values: pixels })).rejects.toThrow(InputShapeError);
  });
});
