import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Tensor } from '@ortvision/core';
import { encodeNpy, fixturePath, fixturesRoot, readNpy } from '@ortvision/core/testing';
import { describe, expect, it } from 'vitest';
import { type ConformanceAdapter, UnsupportedCaseError } from './adapter.js';
import { findAdapter } from './adapters/index.js';
import { formatResult, runFixture, summarize } from './runner.js';

const none = async () => undefined;

describe('runFixture', () => {
  it('runs the ViT model case through a generic session and reports cases without an adapter', async () => {
    const results = await runFixture(fixturePath('vit-cls'), { adapters: none });
    const model = results.filter((r) => r.kind === 'model');
    expect(model.map((r) => [r.name, r.status])).toEqual([['batch2', 'ok']]);
    expect(model[0]!.worst).toBeLessThan(1e-4);
    const processor = results.filter((r) => r.kind === 'processor');
    expect(processor.length).toBe(13); // 12 PNG/JPEG cases and icc-p3 (a Display P3 JPEG)
    expect(processor.every((r) => r.status === 'no-adapter')).toBe(true);
    expect(processor[0]!.detail).toBe("no adapter for processor call 'ViTImageProcessor' (model_type 'vit')");
    const summary = summarize(results);
    expect(summary).toMatchObject({ passed: 1, failed: 0, notRun: 16, exitCode: 2 });
    expect(summary.lines.at(-1)).toBe('1 passed, 0 failed, 0 skipped');
  });

  it('fails a model case whose expected output differs, saying which output and where', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ortvision-conformance-'));
    await cp(fixturePath('vit-cls'), join(dir, 'vit-cls'), { recursive: true });
    const logitsFile = join(dir, 'vit-cls', 'reference', 'model-batch2-out.logits.npy');
    const logits = await readNpy(logitsFile);
    const shifted = Float32Array.from(logits.data as Float32Array);
    shifted[7] = shifted[7]! + 0.5;
    await writeFile(logitsFile, encodeNpy(new Tensor('float32', shifted, logits.dims)));

    const results = await runFixture(join(dir, 'vit-cls'), {
      adapters: none,
      imagesDir: join(fixturesRoot(), 'images'),
    });
    const model = results.find((r) => r.kind === 'model')!;
    expect(model.status).toBe('fail');
    expect(model.detail).toMatch(/^logits: worst 0\.5\d* at \[1, 2\]/);
    expect(summarize(results).exitCode).toBe(1);
    expect(formatResult(model)).toMatch(/^FAIL vit-cls model\/batch2 {2}worst 0\.5/);
  });

  it('compares processor results exactly unless the case gives atol, and reports adapter errors as failures', async () => {
    const seen: string[] = [];
    const adapter: ConformanceAdapter = {
      processor: {
        ViTImageProcessor: async (testCase, context) => {
          seen.push(context.imagePath((testCase.inputs.images as string[])[0]!));
          if (testCase.name === 'logo') throw new RangeError('boom');
          const expected = await context.readNpy(testCase.outputs.pixel_values!);
          if (testCase.name === 'cats') return { pixel_values: expected };
          // One float32 step off in one element: exact comparison must fail, a JPEG case's atol must pass.
          const data = Float32Array.from(expected.data as Float32Array);
          data[3] = data[3]! + 1e-3;
          return { pixel_values: new Tensor('float32', data, expected.dims) };
        },
      },
    };
    const results = await runFixture(fixturePath('vit-cls'), { adapters: async () => adapter });
    const byName = new Map(results.filter((r) => r.kind === 'processor').map((r) => [r.name, r]));
    expect(byName.get('cats')!.status).toBe('ok');
    expect(byName.get('chelsea')!.status).toBe('fail');
    expect(byName.get('chelsea_exif6')!.status).toBe('ok'); // atol 0.04 in the manifest
    expect(byName.get('logo')!.detail).toBe('RangeError: boom');
    expect(seen[0]).toBe(join(fixturesRoot(), 'images', 'cats.png'));
  });
});

describe('pnpm conformance', () => {
  const cli = join(dirname(fileURLToPath(import.meta.url)), 'cli.ts');
  const run = (...args: string[]) =>
    promisify(execFile)(
      process.execPath,
      ['--conditions=@ortvision/source', '--import', 'tsx', cli, ...args],
      {
        cwd: dirname(fixturesRoot()),
      },
    ).then(
      (out) => ({ code: 0, stdout: out.stdout }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );

  it('prints one line per case, ends with "N passed, M failed, K skipped" and exits 0 when all pass', async () => {
    const { code, stdout } = await run('fixtures/vit-base');
    const lines = stdout.trim().split('\n');
    expect(lines.at(-1)).toBe('1 passed, 0 failed, 0 skipped');
    expect(lines[0]).toMatch(/^ok {3}vit-base model\/\S+ {2}worst /);
    expect(code).toBe(0);
  });

  it('exits 2 and names the missing adapter', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ortvision-conformance-'));
    await mkdir(join(dir, 'reference'));
    const manifest = {
      fixture: 'mystery',
      model_type: 'not-a-model',
      graphs: {},
      processor: [{ name: 'p', call: 'MysteryProcessor', inputs: {}, kwargs: {}, outputs: {} }],
    };
    await writeFile(join(dir, 'reference', 'manifest.json'), JSON.stringify(manifest));
    const { code, stdout } = await run(dir);
    expect(stdout).toMatch(
      /^N\/A {2}mystery processor\/p {2}no adapter for processor call 'MysteryProcessor'/m,
    );
    expect(stdout).toMatch(
      /1 case\(s\) not run: no adapter for processor call 'MysteryProcessor' \(model_type 'not-a-model'\)/,
    );
    expect(stdout.trim().split('\n').at(-1)).toBe('0 passed, 0 failed, 0 skipped');
    expect(code).toBe(2);
  });

  it('exits 2 with usage on no arguments, and reports a missing fixture as a failure', async () => {
    expect((await run()).code).toBe(2);
    const missing = await run('fixtures/does-not-exist');
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/no fixture manifest at/);
  });
});

describe('UnsupportedCaseError', () => {
  it('reports a case the adapter cannot run yet as not run, not as failed', async () => {
    const adapter: ConformanceAdapter = {
      processor: {
        ViTImageProcessor: async () => {
          throw new UnsupportedCaseError('no adapter for the text inputs of ViTImageProcessor cases');
        },
      },
    };
    const results = await runFixture(fixturePath('vit-cls'), { adapters: async () => adapter });
    const cats = results.find((r) => r.name === 'cats')!;
    expect(cats).toMatchObject({
      status: 'no-adapter',
      detail: 'no adapter for the text inputs of ViTImageProcessor cases',
    });
    expect(summarize(results).exitCode).toBe(2);
  });
});

describe('pnpm conformance <folder of fixtures>', () => {
  it('runs every fixture inside a folder that is not itself a fixture', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ortvision-conformance-'));
    await cp(fixturePath('vit-base'), join(dir, 'a'), { recursive: true });
    await cp(fixturePath('levit-base'), join(dir, 'b'), { recursive: true });
    const { code, stdout } = await promisify(execFile)(process.execPath, [
      '--conditions=@ortvision/source',
      '--import',
      'tsx',
      join(dirname(fileURLToPath(import.meta.url)), 'cli.ts'),
      '--images',
      join(fixturesRoot(), 'images'),
      dir,
    ]).then((out) => ({ code: 0, stdout: out.stdout }));
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ok {3}vit-base model\//m);
    expect(stdout).toMatch(/^ok {3}levit-base pipeline\/features-chelsea/m);
    expect(stdout.trim().split('\n').at(-1)).toMatch(/^\d+ passed, 0 failed, 0 skipped$/);
  });
});

describe('--from-checkpoint: graphs built from each fixture’s checkpoint', () => {
  const fromCheckpoint = async () => ({
    graphCacheDir: await mkdtemp(join(tmpdir(), 'ortvision-conformance-graphs-')),
  });

  it('ignores onnx/: a fixture whose exported graph is broken passes on the graph built from its checkpoint', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ortvision-conformance-'));
    await cp(fixturePath('vit-digits'), join(dir, 'vit-digits'), { recursive: true });
    await writeFile(join(dir, 'vit-digits', 'onnx', 'model.onnx'), 'not a graph');
    const options = { adapters: findAdapter, imagesDir: join(fixturesRoot(), 'images') };
    const exported = await runFixture(join(dir, 'vit-digits'), options);
    expect(exported.filter((r) => r.kind === 'model').map((r) => r.status)).toEqual(['fail']);
    const built = await runFixture(join(dir, 'vit-digits'), {
      ...options,
      fromCheckpoint: await fromCheckpoint(),
    });
    const byKind = (kind: string) => built.filter((r) => r.kind === kind).map((r) => r.status);
    expect(byKind('model')).toEqual(['ok']);
    expect(byKind('pipeline').length).toBeGreaterThan(0);
    expect(byKind('pipeline').every((status) => status === 'ok')).toBe(true);
    expect(byKind('processor').every((status) => status === 'ok')).toBe(true);
    expect(summarize(built).exitCode).toBe(0);
  });

  it('skips, with the reason, a case whose graph was exported from other weights than the checkpoint', async () => {
    const results = await runFixture(fixturePath('perceiver-base'), {
      adapters: findAdapter,
      fromCheckpoint: await fromCheckpoint(),
    });
    const model = Object.fromEntries(results.filter((r) => r.kind === 'model').map((r) => [r.name, r]));
    expect(model['text-batch2']!.status).toBe('ok');
    expect(model['embeddings-batch2']).toMatchObject({
      status: 'skipped',
      detail: expect.stringMatching(
        /^onnx\/model_no_preprocessor\.onnx has no checkpoint behind it: its initializer 'inner\.embeddings\.latents' is not the checkpoint's 'embeddings\.latents' \(max \|difference\| [\d.]+\): the graph was exported from other weights$/,
      ),
    });
    const summary = summarize(results);
    expect(summary).toMatchObject({ failed: 0, skipped: 1, exitCode: 0 });
    expect(summary.lines.at(-1)).toBe(`${summary.passed} passed, 0 failed, 1 skipped`);
    expect(formatResult(model['embeddings-batch2']!)).toMatch(
      /^skip perceiver-base model\/embeddings-batch2 {2}onnx\/model_no_preprocessor\.onnx has no checkpoint behind it/,
    );
  });

  it('skips the model and pipeline cases of a class that builds no graphs, and of a fixture without checkpoint', async () => {
    // vit's adapter with its classification class stripped of its builders: a package that runs exported graphs only.
    const vit = (await findAdapter('vit'))!;
    const exportedOnly: ConformanceAdapter = {
      ...vit,
      classes: {
        ViTForImageClassification: {
          name: 'ViTForImageClassification',
          graphs: { model: 'model' },
          checkpointGraphs: undefined,
        },
      },
    };
    const results = await runFixture(fixturePath('vit-cls'), {
      adapters: async () => exportedOnly,
      fromCheckpoint: await fromCheckpoint(),
    });
    const skipped = results.filter((r) => r.status === 'skipped');
    expect(new Set(skipped.map((r) => r.kind))).toEqual(new Set(['model', 'pipeline']));
    expect(skipped.find((r) => r.kind === 'model')!.detail).toBe(
      "ViTForImageClassification builds no graph 'model' from a checkpoint (it runs exported ONNX graphs only)",
    );
    expect(skipped.find((r) => r.kind === 'pipeline')!.detail).toBe(
      "no model class of model_type 'vit' builds graphs from a checkpoint",
    );
    expect(results.filter((r) => r.kind === 'processor').every((r) => r.status === 'ok')).toBe(true);
    expect(summarize(results).exitCode).toBe(0);

    const dir = await mkdtemp(join(tmpdir(), 'ortvision-conformance-'));
    await cp(fixturePath('vit-digits'), join(dir, 'vit-digits'), { recursive: true });
    await rm(join(dir, 'vit-digits', 'model.safetensors'));
    const bare = await runFixture(join(dir, 'vit-digits'), {
      adapters: findAdapter,
      imagesDir: join(fixturesRoot(), 'images'),
      fromCheckpoint: await fromCheckpoint(),
    });
    for (const r of bare.filter((c) => c.kind === 'model' || c.kind === 'pipeline')) {
      expect(r.status, r.name).toBe('skipped');
      expect(r.detail).toMatch(
        /^the fixture has no checkpoint to build (onnx\/model\.onnx|the graphs) from$/,
      );
    }
  });

  it('pnpm conformance --from-checkpoint prints the skip and ends with "N passed, 0 failed, 1 skipped"', async () => {
    const cli = join(dirname(fileURLToPath(import.meta.url)), 'cli.ts');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '--conditions=@ortvision/source',
        '--import',
        'tsx',
        cli,
        '--from-checkpoint',
        'fixtures/perceiver-base',
      ],
      { cwd: dirname(fixturesRoot()) },
    );
    expect(stdout).toMatch(
      /^skip perceiver-base model\/embeddings-batch2 {2}onnx\/model_no_preprocessor\.onnx/m,
    );
    expect(stdout.trim().split('\n').at(-1)).toMatch(/^\d+ passed, 0 failed, 1 skipped$/);
  });
});
