import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointError, ConfigError, InvalidArgumentError, MissingDependencyError } from '../errors.js';
import { TinyModel } from '../modeling/__fixtures__/tiny-model-class.js';
import { HIDDEN, tinyForward, tinyWeights, writeTinyFolder } from '../modeling/__fixtures__/tiny-model.js';
import { Tensor } from '../tensor/tensor.js';
import { exportModel } from './export-model.js';
import { chooseModelClass, importModelPackage } from './model-package.js';

let dir: string;
let graphCacheDir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ortvision-export-'));
  graphCacheDir = join(dir, 'graph-cache');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function expectTinyOutputs(folder: string, dtype: 'fp32' | 'q8' = 'fp32'): Promise<void> {
  const model = await TinyModel.fromPretrained(folder, { graphSource: 'onnx', dtype });
  try {
    const x = Float32Array.from({ length: HIDDEN }, (_, i) => Math.cos(i));
    const { y } = await model.forward({ x: new Tensor('float32', x, [1, HIDDEN]) });
    const expected = tinyForward(x);
    const got = y!.data as Float32Array;
    // q8 quantizes weights and activations to 8 bits: a few hundredths on values of order 1.
    const tolerance = dtype === 'q8' ? 0.05 : 1e-5;
    for (let i = 0; i < HIDDEN; i++) expect(Math.abs(got[i]! - expected[i]!)).toBeLessThan(tolerance);
  } finally {
    await model.dispose();
  }
}

describe('exportModel', () => {
  it('writes the graphs built from the checkpoint in the Hub layout, with config.json: it loads as an ONNX folder', async () => {
    const folder = await writeTinyFolder(join(dir, 'tiny'), { format: 'pytorch' });
    const out = join(dir, 'out');
    for (const dtype of ['fp32', 'q8'] as const) {
      const target = `${out}-${dtype}`;
      const exported = await exportModel(TinyModel, folder, { out: target, dtype, graphCacheDir });
      const name = dtype === 'q8' ? 'model_quantized.onnx' : 'model.onnx';
      expect(exported).toEqual({
        out: target,
        graphs: { model: `onnx/${name}` },
        sources: { model: 'checkpoint' },
        // q8's int8 weights of this tiny model are under 1 KiB: they stay inside the graph file.
        files: ['config.json', `onnx/${name}`, ...(dtype === 'q8' ? [] : [`onnx/${name}_data`])],
      });
      await expectTinyOutputs(target, dtype);
    }
    // Exported graphs are taken as they are: a second export copies the first's, building nothing.
    const copied = await exportModel(TinyModel, `${out}-fp32`, {
      out: join(dir, 'again'),
      graphSource: 'onnx',
      graphCacheDir: join(dir, 'unused-cache'),
    });
    expect(copied.sources).toEqual({ model: 'onnx' });
    expect(existsSync(join(dir, 'unused-cache'))).toBe(false);
    expect(await readFile(join(dir, 'again', 'onnx', 'model.onnx_data'))).toEqual(
      await readFile(join(`${out}-fp32`, 'onnx', 'model.onnx_data')),
    );
  });

  it('refuses a folder that is not empty, a bad dtype or graphSource, before reading the model', async () => {
    const folder = await writeTinyFolder(join(dir, 'tiny'));
    const out = join(dir, 'out');
    await mkdir(out);
    await writeFile(join(out, 'keep.txt'), 'mine');
    await expect(exportModel(TinyModel, folder, { out })).rejects.toThrowError(
      new InvalidArgumentError(
        `exportModel: ${out} already exists and is not empty; give a new or empty folder`,
      ),
    );
    await expect(
      exportModel(TinyModel, folder, { out: join(dir, 'x'), dtype: 'int4' as never }),
    ).rejects.toThrowError(
      new InvalidArgumentError(`exportModel: dtype must be 'fp32', 'fp16' or 'q8', got 'int4'`),
    );
    await expect(
      exportModel(TinyModel, folder, { out: join(dir, 'x'), graphSource: 'hub' as never }),
    ).rejects.toThrowError("exportModel: graphSource must be 'auto', 'onnx' or 'checkpoint', got 'hub'");
    await expect(exportModel(TinyModel, folder, { out: '' })).rejects.toThrowError(
      "exportModel: out must be a folder path, got ''",
    );
  });

  it('a bad checkpoint fails the export and leaves no folder behind', async () => {
    const { 'dense.1.bias': _dropped, ...weights } = tinyWeights();
    const folder = await writeTinyFolder(join(dir, 'tiny'), { weights });
    const out = join(dir, 'out');
    await expect(exportModel(TinyModel, folder, { out, graphCacheDir })).rejects.toThrow(CheckpointError);
    expect((await readdir(dir)).filter((name) => name !== 'graph-cache')).toEqual(['tiny']);
  });
});

describe('finding the model package of a config', () => {
  it('says which package to install for a model type it cannot import', async () => {
    await expect(importModelPackage({ model_type: 'no-such-model' }, dir)).rejects.toThrowError(
      new MissingDependencyError(
        "config.json's model_type 'no-such-model' is handled by @ortvision/no-such-model, which is not installed: npm install @ortvision/no-such-model",
      ),
    );
    await expect(importModelPackage({ model_type: '../../etc' }, dir)).rejects.toThrowError(
      new ConfigError(
        `config.json's model_type "../../etc" names no ortvision package (expected a name like 'vit')`,
      ),
    );
  });

  it('chooses the class config.json names, or the one asked for', () => {
    const tiny = { name: '@ortvision/tiny', modelClasses: { TinyModel } };
    expect(chooseModelClass(tiny, { architectures: ['Other', 'TinyModel'] })).toBe(TinyModel);
    expect(chooseModelClass(tiny, { architectures: null }, 'TinyModel')).toBe(TinyModel);
    expect(() => chooseModelClass(tiny, { architectures: ['Other'] })).toThrowError(
      "config.json's architectures (Other) name no class of @ortvision/tiny (it has: TinyModel); name the class to use (ortvision export --class <ModelClass>)",
    );
    expect(() => chooseModelClass(tiny, {}, 'Huge')).toThrowError(
      '@ortvision/tiny has no model class Huge (it has: TinyModel)',
    );
  });
});
