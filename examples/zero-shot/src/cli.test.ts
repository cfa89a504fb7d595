import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HubServer, fixtureImagePath, fixturePath } from '@ortvision/core/testing';
import { runExample } from '@ortvision/example-shared/testing';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';

const cli = join(dirname(fileURLToPath(import.meta.url)), 'cli.ts');
const run = (...args: string[]) => runExample(cli, args);

describe('zero-shot example', () => {
  it('ranks labels with the fixture AltCLIP as the pipeline does, prints JSON and writes a captioned PNG', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'ortvision-zero-shot-')), 'ranked.png');
    const { code, stdout } = await run(
      fixtureImagePath('cats.png'),
      '--labels',
      'cat,dog,remote control,couch',
      '--top-k',
      '3',
      '--out',
      out,
    );
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as { labels: { label: string; score: number }[]; picture: string };
    // The altclip fixture's zero-shot-cats pipeline case (random weights, but these are Python's numbers).
    expect(report.labels.map((l) => l.label)).toEqual(['cat', 'couch', 'remote control']);
    expect(report.labels[0]!.score).toBeCloseTo(0.3164, 3);
    expect(report.labels[1]!.score).toBeCloseTo(0.3088, 3);
    expect(report.picture).toBe(out);
    const picture = await sharp(out).metadata();
    expect([picture.format, picture.width]).toEqual(['png', 640]);
    expect(picture.height).toBeGreaterThan(480); // the caption band
  });

  it('downloads a Hub model with a progress bar on stderr (from a local Hub stand-in)', async () => {
    const hub = await HubServer.start({ repoId: 'ortvision/altclip', folder: fixturePath('altclip') });
    const cache = await mkdtemp(join(tmpdir(), 'ortvision-zero-shot-cache-'));
    try {
      const out = join(cache, 'ranked.png');
      const env = { HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: cache, HF_HUB_OFFLINE: '' };
      const { code, stdout, stderr } = await runExample(
        cli,
        ['--model', 'ortvision/altclip', '--labels', 'cat,dog', '--out', out],
        env,
      );
      expect(code).toBe(0);
      expect(JSON.parse(stdout).model).toBe('ortvision/altclip');
      // Not a terminal: one finished bar per downloaded file.
      expect(stderr).toMatch(/onnx\/vision_model\.onnx \[#+\] 100% /);
      expect(stderr).toMatch(/onnx\/text_model\.onnx \[#+\] 100% /);
    } finally {
      await hub.close();
      await rm(cache, { recursive: true, force: true });
    }
  });

  it('says what is wrong with its arguments, with exit code 1', async () => {
    const [template, labels, images] = await Promise.all([
      run('--template', 'a photo of {} and {}'),
      run('--labels', ' , '),
      run(fixtureImagePath('cats.png'), fixtureImagePath('logo.png')),
    ]);
    expect(template.code).toBe(1);
    expect(template.stderr).toContain('InvalidArgumentError: hypothesisTemplate "a photo of {} and {}"');
    expect([labels.code, labels.stderr.trim()]).toEqual([
      1,
      'InvalidArgumentError: --labels needs at least one comma-separated item, got " , "',
    ]);
    expect(images.code).toBe(1);
    expect(images.stderr).toContain('InvalidArgumentError: zero-shot takes one image, got 2');
  });
});
