import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { fixtureImagePath, fixturePath, fixtureVariant } from '@ortvision/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageClassification } from './tasks.js';

// `ortvision export` (core's bin) end to end on vit-digits: it finds @ortvision/vit from config.json's model_type,
// builds the graph from the checkpoint, and writes a folder that loads as an exported ONNX model.

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(packageDir, '..', 'core', 'src', 'cli', 'ortvision.ts');
const digits = readdirSync(fixtureImagePath('digits')).map((name) => fixtureImagePath(`digits/${name}`));

async function ortvision(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--conditions=@ortvision/source', '--import', 'tsx', cli, ...args],
      // Run from the package, as a user's project that installed it: the command finds @ortvision/vit there.
      { cwd: packageDir, env: { ...process.env, INIT_CWD: '' } },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ortvision-vit-export-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ortvision export', () => {
  it('exports vit-digits built from its checkpoint; the export loads with graphSource onnx and gives the same labels', async () => {
    const folder = await fixtureVariant('vit-digits', join(dir, 'digits'), { onnx: null });
    const out = join(dir, 'exported');
    // vit-digits' config.json names no architectures: the class is given.
    const { code, stdout, stderr } = await ortvision(
      'export',
      folder,
      '--out',
      out,
      '--class',
      'ViTForImageClassification',
      '--graph-cache-dir',
      join(dir, 'graphs'),
    );
    expect(stderr).not.toMatch(/Error/);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      modelClass: 'ViTForImageClassification',
      out,
      graphs: { model: 'onnx/model.onnx' },
      sources: { model: 'checkpoint' },
      files: ['config.json', 'onnx/model.onnx', 'onnx/model.onnx_data', 'preprocessor_config.json'],
    });
    const reference = await imageClassification(fixturePath('vit-digits'), { graphSource: 'onnx' });
    const exported = await imageClassification(out, { graphSource: 'onnx' });
    try {
      const expected = (await reference(digits, { topK: 1 })).map((labels) => labels[0]!.label);
      const got = (await exported(digits, { topK: 1 })).map((labels) => labels[0]!.label);
      expect(got).toEqual(expected);
    } finally {
      await Promise.all([reference.dispose(), exported.dispose()]);
    }
  });

  it('answers bad arguments with a typed one-line error and exit code 2', async () => {
    const folder = fixturePath('vit-digits');
    const cases: [string[], string][] = [
      [
        ['export', folder, '--out', join(dir, 'a'), '--dtype', 'q4'],
        '--dtype must be fp32, fp16 or q8, got "q4"',
      ],
      [['export', folder], 'export needs --out <dir>, the folder to write'],
      [['export', '--out', join(dir, 'a')], 'export takes one model (a Hub id or a folder), got none'],
      [
        ['export', folder, '--out', join(dir, 'a'), '--graph-source', 'hub'],
        '--graph-source must be auto, onnx or checkpoint, got "hub"',
      ],
      [['export', folder, '--out', join(dir, 'a'), '--outt', 'x'], "Unknown option '--outt'"],
      [['convert', folder], 'unknown command "convert" (expected export)'],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await ortvision(...args);
      expect([code, stderr.split('\n')[0]], args.join(' ')).toEqual([2, expect.stringContaining(message)]);
      expect(stderr).toMatch(/^InvalidArgumentError: /);
    }
  });

  it('says what to install for a model type whose package is missing, which class to name, and refuses a folder in use (exit 1)', async () => {
    const unnamed = await ortvision('export', fixturePath('vit-cls'), '--out', join(dir, 'c'));
    expect([unnamed.code, unnamed.stderr.trim()]).toEqual([
      1,
      "InvalidArgumentError: config.json's architectures (none) name no class of @ortvision/vit (it has: ViTModel, ViTForImageClassification, ViTForMaskedImageModeling); name the class to use (ortvision export --class <ModelClass>)",
    ]);
    const other = join(dir, 'other-model');
    await mkdir(other);
    await writeFile(join(other, 'config.json'), JSON.stringify({ model_type: 'segformer' }));
    const missing = await ortvision('export', other, '--out', join(dir, 'b'));
    expect([missing.code, missing.stderr.trim()]).toEqual([
      1,
      "MissingDependencyError: config.json's model_type 'segformer' is handled by @ortvision/segformer, which is not installed: npm install @ortvision/segformer",
    ]);
    const used = join(dir, 'used');
    await mkdir(used);
    await writeFile(join(used, 'notes.txt'), 'mine');
    const busy = await ortvision('export', fixturePath('vit-cls'), '--out', used, '--class', 'ViTModel');
    expect([busy.code, busy.stderr.trim()]).toEqual([
      1,
      `InvalidArgumentError: exportModel: ${used} already exists and is not empty; give a new or empty folder`,
    ]);
  });
});
