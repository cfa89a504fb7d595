import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatMegabytes, installedPackages } from './install.js';
import { compareItems } from './smoke.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function fakePackage(project: string, path: string, name: string, version = '1.0.0'): Promise<void> {
  await mkdir(join(project, path), { recursive: true });
  await writeFile(join(project, path, 'package.json'), JSON.stringify({ name, version }));
}

describe('installedPackages', () => {
  it('counts scoped, nested and top-level packages, and skips .bin and folders without package.json', async () => {
    const project = await mkdtemp(join(tmpdir(), 'ortvision-installed-'));
    dirs.push(project);
    await fakePackage(project, 'node_modules/sharp', 'sharp', '0.34.5');
    await fakePackage(project, 'node_modules/@img/sharp-linux-x64', '@img/sharp-linux-x64');
    await fakePackage(project, 'node_modules/sharp/node_modules/semver', 'semver', '7.0.0');
    await mkdir(join(project, 'node_modules/.bin'), { recursive: true });
    await mkdir(join(project, 'node_modules/not-a-package'), { recursive: true });
    expect(await installedPackages(project)).toEqual([
      { name: '@img/sharp-linux-x64', version: '1.0.0', path: 'node_modules/@img/sharp-linux-x64' },
      { name: 'sharp', version: '0.34.5', path: 'node_modules/sharp' },
      { name: 'semver', version: '7.0.0', path: 'node_modules/sharp/node_modules/semver' },
    ]);
  });

  it('finds nothing where nothing is installed', async () => {
    const project = await mkdtemp(join(tmpdir(), 'ortvision-installed-'));
    dirs.push(project);
    expect(await installedPackages(project)).toEqual([]);
  });
});

describe('compareItems', () => {
  const expected = [
    { label: 'cat', score: 0.5 },
    { label: 'dog', score: 0.25 },
  ];

  it('passes within atol and names each difference otherwise', () => {
    expect(
      compareItems(
        [
          { label: 'cat', score: 0.50005 },
          { label: 'dog', score: 0.25 },
        ],
        expected,
        ['label', 'score'],
        1e-4,
      ),
    ).toEqual([]);
    expect(
      compareItems(
        [
          { label: 'dog', score: 0.5 },
          { label: 'dog', score: 0.3 },
        ],
        expected,
        ['label', 'score'],
        1e-4,
      ),
    ).toEqual(['result 0 label: got "dog", expected "cat"', 'result 1 score: got 0.3, expected 0.25']);
  });

  it('reports a wrong count or a result that is no list', () => {
    expect(compareItems([], expected, ['label'], 0)).toEqual(['expected 2 results, got 0: []']);
    expect(compareItems({ ok: true }, expected, ['label'], 0)).toEqual([
      'expected a list of 2 results, got {"ok":true}',
    ]);
  });
});

describe('formatMegabytes', () => {
  it('uses decimal megabytes with one decimal', () => {
    expect(formatMegabytes(322_800_000)).toBe('322.8 MB');
  });
});
