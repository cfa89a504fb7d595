import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type PackedManifest,
  listTarball,
  packPackage,
  readTarballFile,
  run,
  tarballProblems,
} from './tarball.js';

const root = resolve(import.meta.dirname, '../../..');

const goodManifest: PackedManifest = {
  name: '@ortvision/x',
  version: '1.0.0',
  sideEffects: false,
  exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } },
  dependencies: { '@ortvision/core': '^1.0.0' },
};
const goodFiles = ['README.md', 'dist/index.d.ts', 'dist/index.js', 'package.json'];

describe('tarballProblems', () => {
  it('accepts a package with built entry points, a README and publish exports', () => {
    expect(tarballProblems(goodFiles, goodManifest)).toEqual([]);
  });

  it('names missing files and files users do not need', () => {
    const files = [
      'dist/index.js',
      'dist/index.js.map',
      'dist/.tsbuildinfo',
      'src/index.ts',
      'dist/a.test.js',
    ];
    expect(tarballProblems([...files, 'package.json'], goodManifest)).toEqual([
      'README.md is missing',
      'dist/index.d.ts is missing',
      'dist/index.js.map is a source map, which users do not need',
      'dist/.tsbuildinfo is TypeScript build state, which users do not need',
      'src/index.ts is TypeScript sources, which users do not need',
      'dist/a.test.js is a test, which users do not need',
      'exports["."]["types"] points at ./dist/index.d.ts, which is not in the tarball',
    ]);
  });

  it('rejects the workspace source condition, workspace ranges, side effects and untyped exports', () => {
    const manifest: PackedManifest = {
      ...goodManifest,
      sideEffects: true,
      exports: { '.': { '@ortvision/source': './src/index.ts', default: './dist/index.js' } },
      dependencies: { '@ortvision/core': 'workspace:^' },
    };
    expect(tarballProblems(goodFiles, manifest)).toEqual([
      'sideEffects is true, expected false',
      'exports["."]["@ortvision/source"] is the workspace-only source condition (publishConfig.exports was not applied)',
      'an exports entry has no types condition',
      'dependency @ortvision/core is still workspace:^',
    ]);
  });
});

// The real thing for one model package and core: what `pnpm publish` would upload. `tsc -b` makes the test
// independent of a prior `pnpm build` (it is a quick up-to-date check when CI has built already).
describe('pnpm pack of @ortvision/levit and @ortvision/core', () => {
  let dir: string;
  const packed: Record<string, { files: string[]; manifest: PackedManifest }> = {};

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ortvision-pack-test-'));
    await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'packages/levit'], {
      cwd: root,
    });
    for (const name of ['core', 'levit']) {
      const tarball = await packPackage(join(root, 'packages', name), dir);
      packed[name] = {
        files: await listTarball(tarball),
        manifest: JSON.parse(await readTarballFile(tarball, 'package.json')) as PackedManifest,
      };
    }
  }, 180_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.each(['core', 'levit'])('%s: the tarball has nothing missing and nothing extra', (name) => {
    const { files, manifest } = packed[name] as { files: string[]; manifest: PackedManifest };
    expect(tarballProblems(files, manifest)).toEqual([]);
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files).toContain('README.md');
    expect(files.filter((file) => !file.startsWith('dist/'))).toEqual(['README.md', 'package.json']);
  });

  it('publishes exports without the source condition and core as a version range', () => {
    const { manifest } = packed.levit as { manifest: PackedManifest };
    const coreVersion = (packed.core as { manifest: PackedManifest }).manifest.version;
    expect(manifest.exports).toEqual({ '.': { types: './dist/index.d.ts', default: './dist/index.js' } });
    expect(manifest.dependencies).toEqual({ '@ortvision/core': `^${coreVersion}` });
  });

  it('core ships @huggingface/tokenizers as an optional peer, and the testing entry point', () => {
    const { files, manifest } = packed.core as { files: string[]; manifest: PackedManifest };
    expect(Object.keys(manifest.dependencies ?? {}).sort()).toEqual([
      'onnxruntime-node',
      'protobufjs',
      'sharp',
    ]);
    expect(Object.keys(manifest.peerDependencies ?? {})).toEqual(['@huggingface/tokenizers']);
    expect(manifest.peerDependenciesMeta).toEqual({ '@huggingface/tokenizers': { optional: true } });
    expect(files).toContain('dist/testing/index.js');
  });
});
