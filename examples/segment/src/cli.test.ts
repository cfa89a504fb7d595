import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixtureImagePath, fixturePath } from '@ortvision/core/testing';
import { runExample } from '@ortvision/example-shared/testing';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';

const cli = join(dirname(fileURLToPath(import.meta.url)), 'cli.ts');
const run = (...args: string[]) => runExample(cli, args);

interface Report {
  model_type: string;
  subtask?: string;
  segments: { label: string; score: number | null; area: number }[];
  empty_segments?: number;
  picture: string;
}

async function tempPng(name: string): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), 'ortvision-segment-')), name);
}

/** The picture is the image plus a white legend band: one line per segment. */
async function expectLegendPicture(path: string, width: number, height: number): Promise<void> {
  const meta = await sharp(path).metadata();
  expect([meta.format, meta.width]).toEqual(['png', width]);
  expect(meta.height).toBeGreaterThan(height);
}

describe('segment example', () => {
  it('segments by text and image prompts with the fixture CLIPSeg, one mask per prompt', async () => {
    const out = await tempPng('clipseg.png');
    const { code, stdout } = await run(
      fixtureImagePath('cats.png'),
      'a cat',
      'a remote control',
      '--prompt-image',
      fixtureImagePath('chelsea.png'),
      '--threshold',
      '0.5',
      '--out',
      out,
    );
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as Report;
    expect(report.model_type).toBe('clipseg');
    expect(report.segments.map((s) => s.label)).toEqual(['a cat', 'a remote control', 'image: chelsea.png']);
    for (const { score, area } of report.segments) {
      expect(score).toBeGreaterThan(0);
      expect(score).toBeLessThanOrEqual(1);
      expect(area).toBeGreaterThanOrEqual(0);
      expect(area).toBeLessThanOrEqual(1);
    }
    await expectLegendPicture(out, 640, 480);
  });

  it('runs Mask2Former panoptic and semantic segmentation over the model labels', async () => {
    const out = await tempPng('panoptic.png');
    const [panoptic, semantic] = await Promise.all([
      run('--model', fixturePath('mask2former'), '--out', out),
      run(
        '--model',
        fixturePath('mask2former'),
        '--subtask',
        'semantic',
        '--out',
        await tempPng('semantic.png'),
      ),
    ]);
    expect(panoptic.code).toBe(0);
    const report = JSON.parse(panoptic.stdout) as Report;
    // Random weights: the fixture finds one confident "sky" segment over most of cats.png at the default 0.9.
    expect(report).toMatchObject({ model_type: 'mask2former', subtask: 'panoptic' });
    expect(report.segments.map((s) => s.label)).toEqual(['sky']);
    expect(report.segments[0]!.score).toBeGreaterThan(0.9);
    expect(report.segments[0]!.area).toBeGreaterThan(0.9);
    await expectLegendPicture(out, 640, 480);

    expect(semantic.code).toBe(0);
    const labels = (JSON.parse(semantic.stdout) as Report).segments;
    // Semantic: one segment per label present, no scores, and together they cover every pixel once.
    expect(labels.every((s) => s.score === null)).toBe(true);
    expect(labels.reduce((sum, s) => sum + s.area, 0)).toBeCloseTo(1, 3);
  });

  it('leaves segments that cover no pixel out of the JSON and the legend, and counts them (issue #17)', async () => {
    const out = await tempPng('instance.png');
    const { code, stdout } = await run(
      '--model',
      fixturePath('mask2former'),
      '--subtask',
      'instance',
      '--threshold',
      '0',
      '--out',
      out,
    );
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as Report;
    // Random weights at threshold 0: 8 instances, of which 4 have no pixel above the mask threshold.
    expect(report.empty_segments).toBe(4);
    expect(report.segments).toHaveLength(4);
    for (const { area } of report.segments) expect(area).toBeGreaterThan(0);
    // The legend band holds one line per listed segment only.
    const withLegend = (await sharp(out).metadata()).height!;
    const lineHeight = Math.round(Math.max(11, Math.round(640 / 40)) * 1.4);
    expect(withLegend).toBe(480 + 4 * lineHeight + Math.round(lineHeight / 2));
  });

  it('writes JPEG for --out x.jpg, and a missing folder is a one-line error', async () => {
    const out = await tempPng('segmented.jpg');
    const [jpeg, missing] = await Promise.all([run('--out', out), run('--out', '/nonexistent/x.png')]);
    expect(jpeg.code).toBe(0);
    expect((await sharp(out).metadata()).format).toBe('jpeg');
    expect([missing.code, missing.stderr.trim()]).toEqual([
      1,
      'InvalidArgumentError: --out /nonexistent/x.png: the folder /nonexistent does not exist',
    ]);
  });

  it('says what is wrong with its arguments, with exit code 1', async () => {
    // Three processes at once: each spends most of its time starting Node.
    const [subtask, prompts, foreign] = await Promise.all([
      run('--model', fixturePath('mask2former'), '--subtask', 'everything'),
      run('--model', fixturePath('mask2former'), fixtureImagePath('cats.png'), 'a cat'),
      run('--model', fixturePath('owlv2')),
    ]);
    expect([subtask.code, subtask.stderr.trim()]).toEqual([
      1,
      'InvalidArgumentError: --subtask must be one of semantic, instance, panoptic, got "everything"',
    ]);
    expect(prompts.code).toBe(1);
    expect(prompts.stderr).toContain('InvalidArgumentError: Mask2Former takes no prompts (got ["a cat"])');
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toMatch(
      /ModelNotFoundError: .*owlv2 is a 'owlv2' model; this example segments with clipseg, mask2former/,
    );
  });
});
