import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelSession, type NamedTensors, openSafetensors, writeOnnxModel } from '@ortvision/core';
import { checkModelCase, describeComparison, fixturePath, loadFixture, readOnnxModel } from '@ortvision/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ViTConfig } from './config.js';
import { vitGraphBuilders } from './graph.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ortvision-vit-graph-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const fixtures = ['vit-cls', 'vit-base', 'vit-mim', 'vit-digits'] as const;

/** Builds the fixture's class from its checkpoint and writes it to a fresh folder. */
async function buildFixture(name: string, dtype: 'fp32' | 'fp16' | 'q8' = 'fp32'): Promise<string> {
  const { manifest } = await loadFixture(fixturePath(name));
  const describes = manifest.graphs['onnx/model.onnx']!.describes as keyof typeof vitGraphBuilders;
  const config = await ViTConfig.fromPretrained(fixturePath(name));
  const checkpoint = await openSafetensors(fixturePath(name, 'model.safetensors'));
  try {
    const { graph, unusedKeys } = vitGraphBuilders[describes](config, checkpoint, { dtype });
    expect(unusedKeys).toEqual([]);
    const path = join(dir, `${name}-${dtype}.onnx`);
    await writeOnnxModel(graph, path);
    return path;
  } finally {
    await checkpoint.close();
  }
}

describe.each(fixtures)('%s built from its checkpoint', (name) => {
  let session: ModelSession;
  let path: string;
  beforeAll(async () => {
    path = await buildFixture(name);
    session = await ModelSession.create(path);
  });
  afterAll(() => session?.dispose());

  it('has the exported graph’s inputs and outputs (names, dtypes, batch dimension)', async () => {
    const built = await readOnnxModel(path);
    const exported = await readOnnxModel(fixturePath(name, 'onnx', 'model.onnx'));
    const boundary = (values: typeof built.inputs) =>
      values.map((v) => ({ name: v.name, dtype: v.dtype, rank: v.dims.length, batch: v.dims[0] }));
    expect(boundary(built.inputs)).toEqual(boundary(exported.inputs));
    expect(boundary(built.outputs)).toEqual(boundary(exported.outputs));
    // Where the export has fixed sizes, the built graph has the same.
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
});
