import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FixtureFormatError } from '../errors.js';
import { fixturePath } from './fixtures.js';
import { isNpyReference, loadFixture, validateManifest } from './manifest.js';

describe('loadFixture', () => {
  it('reads and types a fixture manifest', async () => {
    const fixture = await loadFixture(fixturePath('vit-cls'));
    expect(fixture.manifest.model_type).toBe('vit');
    expect(fixture.manifest.graphs['onnx/model.onnx']?.outputs).toEqual(['logits']);
    expect(fixture.manifest.processor.length).toBeGreaterThan(5);
    expect(fixture.manifest.model[0]?.feeds.pixel_values).toBe('reference/model-batch2-in.pixel_values.npy');
    expect(fixture.imagesDir).toBe(join(fixturePath('vit-cls'), '..', 'images'));
  });

  it('reads every fixture in the repository', async () => {
    const names = [
      'altclip',
      'clipseg',
      'levit-base',
      'mask2former',
      'owlv2',
      'perceiver-flow',
      'vit-digits',
    ];
    for (const name of names) {
      const { manifest } = await loadFixture(fixturePath(name));
      expect(manifest.fixture).toBe(name);
    }
  });

  it('names the missing or invalid manifest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ortvision-manifest-'));
    await expect(loadFixture(dir)).rejects.toThrowError(/no fixture manifest at .*reference\/manifest\.json/);
    await mkdir(join(dir, 'reference'));
    await writeFile(join(dir, 'reference', 'manifest.json'), '{ not json');
    await expect(loadFixture(dir)).rejects.toThrowError(/manifest\.json is not valid JSON/);
  });
});

describe('validateManifest', () => {
  const minimal = { fixture: 'x', model_type: 'vit', graphs: {} };

  it('fills absent case lists with empty ones', () => {
    const manifest = validateManifest({ ...minimal });
    expect(manifest.processor).toEqual([]);
    expect(manifest.pipeline).toEqual([]);
  });

  it('names the bad field of a case', () => {
    expect(() =>
      validateManifest({ ...minimal, model: [{ name: 'a', graph: 'g', feeds: [] }] }),
    ).toThrowError(/model\[0\]\.feeds must be an object/);
    expect(() => validateManifest({ ...minimal, model_type: 3 })).toThrowError(FixtureFormatError);
    expect(() =>
      validateManifest({ ...minimal, model: [{ name: 'a', graph: 'g', feeds: {}, expected: {}, atol: -1 }] }),
    ).toThrowError(/model\[0\]\.atol must be a number >= 0/);
  });

  it('recognises {npy: path} references only in their exact form', () => {
    expect(isNpyReference({ npy: 'reference/a.npy' })).toBe(true);
    expect(isNpyReference({ npy: 'a.npy', extra: 1 })).toBe(false);
    expect(isNpyReference(['a.npy'])).toBe(false);
  });
});
