import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Tensor } from '../tensor/tensor.js';
import { checkpointFolders, fixturePath } from './fixtures.js';
import { loadFixture } from './manifest.js';
import {
  checkClassModelCases,
  checkGraphModelCases,
  checkModelCase,
  classModelCases,
} from './model-cases.js';
import { readNpy } from './npy.js';

describe('checkModelCase', async () => {
  const { manifest } = await loadFixture(fixturePath('vit-cls'));
  const testCase = manifest.model[0]!;
  const expected = await readNpy(fixturePath('vit-cls', testCase.expected.logits!));

  it('feeds the case inputs and passes outputs equal to the expected ones', async () => {
    let fed: string[] = [];
    const model = {
      forward: async (inputs: Record<string, Tensor>) => {
        fed = Object.keys(inputs);
        return { logits: expected };
      },
    };
    const [result] = await checkModelCase(model, 'vit-cls', testCase);
    expect(fed).toEqual(['pixel_values']);
    expect(result!.output).toBe('logits');
    expect(result!.comparison.ok).toBe(true);
  });

  it('fails on values beyond the tolerance and on a missing output', async () => {
    const shifted = Float32Array.from(expected.data as Float32Array, (v) => v + 0.5);
    const off = await checkModelCase(
      { forward: async () => ({ logits: new Tensor('float32', shifted, expected.dims) }) },
      'vit-cls',
      testCase,
    );
    expect(off[0]!.comparison.ok).toBe(false);
    expect(off[0]!.comparison.worstAbsError).toBeCloseTo(0.5, 5);
    const missing = await checkModelCase({ forward: async () => ({}) }, 'vit-cls', testCase);
    expect(missing[0]!.comparison.shapeMismatch).toBe("no output 'logits' (got nothing)");
  });
});

describe('checkGraphModelCases', () => {
  it('runs every case of the graph on the given file: the exported graph passes its own cases', async () => {
    const results = await checkGraphModelCases('vit-cls', fixturePath('vit-cls', 'onnx', 'model.onnx'));
    const { manifest } = await loadFixture(fixturePath('vit-cls'));
    expect(results.map((r) => `${r.case} ${r.output}`)).toEqual(
      manifest.model.map((c) => `${c.name} logits`),
    );
    expect(results.every((r) => r.comparison.ok)).toBe(true);
  });

  it('fails the cases on another model’s graph (vit-cls’s 5 logits for vit-digits’s 10)', async () => {
    const results = await checkGraphModelCases('vit-digits', fixturePath('vit-cls', 'onnx', 'model.onnx'));
    expect(results.length).toBeGreaterThan(0);
    expect(results.every((r) => !r.comparison.ok)).toBe(true);
  });

  it('gives no result for a graph key no case targets', async () => {
    expect(
      await checkGraphModelCases('vit-cls', fixturePath('vit-cls', 'onnx', 'model.onnx'), 'onnx/x.onnx'),
    ).toEqual([]);
  });
});

describe('checkClassModelCases', async () => {
  const { manifest } = await loadFixture(fixturePath('vit-cls'));
  const expected = await Promise.all(
    manifest.model.map((c) => readNpy(fixturePath('vit-cls', c.expected.logits!))),
  );
  /** A stand-in model class: records what it was loaded with and whether it was released. */
  function fakeClass(graphs: Record<string, string>) {
    const log: string[] = [];
    const modelClass = {
      name: 'FakeModel',
      graphs,
      fromPretrained: async (path: string, options?: { graphCacheDir?: string }) => {
        log.push(`load ${path} ${options?.graphCacheDir}`);
        return { dispose: async () => void log.push('dispose') };
      },
    };
    return { modelClass, log };
  }

  it('loads the class with the options, runs every case of each graph through its forward, and releases it', async () => {
    const { modelClass, log } = fakeClass({ model: 'model' });
    let call = 0;
    const cases = classModelCases(modelClass, () => ({
      model: async () => ({ logits: expected[call++]! }),
    }));
    const results = await checkClassModelCases('vit-cls', cases, '/some/folder', {
      graphCacheDir: '/graphs',
    });
    expect(results.map((r) => r.case)).toEqual(manifest.model.map((c) => c.name));
    expect(results.every((r) => r.comparison.ok)).toBe(true);
    expect(log).toEqual(['load /some/folder /graphs', 'dispose']);
  });

  it('fails when the forwards and the class name different graphs, or a graph has no case; releases the model', async () => {
    const other = fakeClass({ model: 'model', text_model: 'text_model' });
    const partial = classModelCases(other.modelClass, () => ({ model: async () => ({}) }));
    await expect(checkClassModelCases('vit-cls', partial, '/f')).rejects.toThrowError(
      'FakeModel has the graphs model, text_model, but the forwards run model',
    );
    expect(other.log.at(-1)).toBe('dispose');
    const uncovered = fakeClass({ text_model: 'text_model' });
    const noCase = classModelCases(uncovered.modelClass, () => ({ text_model: async () => ({}) }));
    await expect(checkClassModelCases('vit-cls', noCase, '/f')).rejects.toThrowError(
      'vit-cls has no model case on onnx/text_model.onnx',
    );
  });
});

describe('checkpointFolders', () => {
  it('copies a fixture without onnx/ once, gives a graph cache inside, and removes it all', async () => {
    const folders = await checkpointFolders('core-test');
    const folder = await folders.folder('vit-cls');
    expect(await folders.folder('vit-cls')).toBe(folder);
    expect(existsSync(join(folder, 'config.json'))).toBe(true);
    expect(existsSync(join(folder, 'model.safetensors'))).toBe(true);
    expect(existsSync(join(folder, 'onnx'))).toBe(false);
    expect(folders.options.graphCacheDir.startsWith(folders.dir)).toBe(true);
    await folders.remove();
    expect(existsSync(folders.dir)).toBe(false);
  });
});
