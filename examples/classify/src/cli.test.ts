import { mkdtemp, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixtureImagePath, fixturePath, fixtureVariant } from '@ortvision/core/testing';
import { runExample } from '@ortvision/example-shared/testing';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';

const cli = join(dirname(fileURLToPath(import.meta.url)), 'cli.ts');
const run = (...args: string[]) => runExample(cli, args);

describe('classify example', () => {
  it('classifies a handwritten digit offline with the shipped model, prints JSON and writes a captioned PNG', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ortvision-classify-'));
    const out = join(dir, 'digit.png');
    const { code, stdout } = await run(
      fixtureImagePath('digits/digit_1022_4.png'),
      '--top-k',
      '2',
      '--out',
      out,
    );
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.model_type).toBe('vit');
    expect(report.results[0].labels.map((l: { label: string }) => l.label)).toEqual(['4', '7']);
    expect(report.results[0].labels[0].score).toBeCloseTo(0.9643, 3);
    const picture = await sharp(out).metadata();
    expect(picture.format).toBe('png');
    // 64 px digits are enlarged 5x for the picture, plus the caption band.
    expect(picture.width).toBe(320);
    expect(picture.height).toBeGreaterThan(320);
  });

  it('gives the same labels on a copy of vit-digits without onnx/, its graph built from the checkpoint', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ortvision-classify-'));
    const model = await fixtureVariant('vit-digits', join(dir, 'vit-digits'), { onnx: null });
    const digit = fixtureImagePath('digits/digit_1022_4.png');
    const shipped = await run(digit, '--top-k', '2', '--out', join(dir, 'shipped.png'));
    const built = await run(digit, '--model', model, '--top-k', '2', '--out', join(dir, 'built.png'));
    expect([built.code, shipped.code]).toEqual([0, 0]);
    const labels = (stdout: string) => JSON.parse(stdout).results[0].labels;
    const [fromCheckpoint, fromExport] = [labels(built.stdout), labels(shipped.stdout)];
    expect(fromCheckpoint.map((l: { label: string }) => l.label)).toEqual(['4', '7']);
    expect(fromCheckpoint.map((l: { label: string }) => l.label)).toEqual(
      fromExport.map((l: { label: string }) => l.label),
    );
    // The graph built from the checkpoint is the exported one's function: same scores to float32 rounding.
    expect(fromCheckpoint[0].score).toBeCloseTo(fromExport[0].score, 5);
  });

  it('says what is wrong with a bad device or a model it cannot classify with', async () => {
    const badDevice = await run('--device', 'gpu');
    expect(badDevice.code).toBe(1);
    expect(badDevice.stderr).toContain(
      'InvalidArgumentError: --device must be one of cpu, cuda, auto, got "gpu"',
    );
    const badTopK = await run('--top-k', '0');
    expect(badTopK.code).toBe(1);
    expect(badTopK.stderr).toContain('InvalidArgumentError: --top-k must be an integer >= 1, got "0"');
    const notClassifier = await run('--model', fixturePath('clipseg'));
    expect(notClassifier.code).toBe(1);
    expect(notClassifier.stderr).toMatch(
      /ModelNotFoundError: .*clipseg is a 'clipseg' model; this example classifies with vit, levit, perceiver/,
    );
  });

  it('writes the picture in the format its extension names, and refuses others before loading a model', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ortvision-classify-'));
    const out = join(dir, 'digit.jpg');
    const jpeg = await run(fixtureImagePath('digits/digit_1022_4.png'), '--out', out);
    expect(jpeg.code).toBe(0);
    expect((await sharp(out).metadata()).format).toBe('jpeg');
    const bmp = await run('--out', join(dir, 'digit.bmp'));
    expect([bmp.code, bmp.stderr.trim()]).toEqual([
      1,
      `InvalidArgumentError: --out ${join(dir, 'digit.bmp')} ends in .bmp: pictures are written as .png, .jpg, .jpeg or .webp (chosen by the extension)`,
    ]);
  });

  it('--out in a folder that does not exist is a one-line error, not a stack trace', async () => {
    const { code, stdout, stderr } = await run('--out', '/nonexistent/x.png');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.trim()).toBe(
      'InvalidArgumentError: --out /nonexistent/x.png: the folder /nonexistent does not exist',
    );
  });

  it('classifies an image URL as a URL (not a path under the current folder)', async () => {
    const digit = await readFile(fixtureImagePath('digits/digit_1022_4.png'));
    const server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'image/png' });
      response.end(digit);
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/digit.png`;
      const out = join(await mkdtemp(join(tmpdir(), 'ortvision-classify-')), 'url.png');
      const { code, stdout, stderr } = await run(url, '--out', out);
      expect(stderr).not.toContain('Error');
      expect(code).toBe(0);
      const report = JSON.parse(stdout);
      expect(report.results[0].image).toBe(url);
      expect(report.results[0].labels[0].label).toBe('4');
    } finally {
      await new Promise((done) => server.close(done));
    }
  });
});
