import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { palette } from '@ortvision/core';
import { fixtureImagePath } from '@ortvision/core/testing';
import { runExample } from '@ortvision/example-shared/testing';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';

const cli = join(dirname(fileURLToPath(import.meta.url)), 'cli.ts');
const run = (...args: string[]) => runExample(cli, args);

interface Report {
  mode: string;
  labels?: string[];
  query_image?: string;
  threshold: number;
  detections: { label: string; score: number; box: Record<string, number> }[];
  outside_image: number;
  picture: string;
}

describe('detect example', () => {
  it('detects text queries with the fixture OWLv2, prints the boxes and writes the image with them drawn', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'ortvision-detect-')), 'cats.png');
    const { code, stdout, stderr } = await run(
      fixtureImagePath('cats.png'),
      '--labels',
      'a cat, a remote control',
      '--threshold',
      '0.5',
      '--out',
      out,
    );
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as Report;
    expect(report).toMatchObject({
      mode: 'zero-shot',
      labels: ['a cat', 'a remote control'],
      threshold: 0.5,
    });
    expect(report.picture).toBe(out);
    // Random weights, but the fixture's scores are deterministic: its best box on cats.png is "a cat" at
    // 0.69 (the same box the owlv2 package's pipeline case finds), and seven pass 0.5.
    expect(report.detections).toHaveLength(7);
    expect(report.detections[0]).toMatchObject({
      label: 'a cat',
      box: { xmin: 546, ymin: 519, xmax: 733, ymax: 760 },
    });
    expect(report.detections[0]!.score).toBeCloseTo(0.6915, 3);
    for (const { score } of report.detections) expect(score).toBeGreaterThan(0.5);
    const scores = report.detections.map((d) => d.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    const picture = await sharp(out).metadata();
    expect([picture.format, picture.width, picture.height]).toEqual(['png', 640, 480]);
    // OWLv2 looks at the image padded to 640x640: boxes like the first lie (partly) below the 480 px image. They are
    // counted, drawn clipped to the image, and a note says so (issue #17: they were silently not drawn).
    const outside = report.detections.filter(
      ({ box }) => box.xmin! < 0 || box.ymin! < 0 || box.xmax! > 640 || box.ymax! > 480,
    );
    expect(outside.length).toBeGreaterThan(0);
    expect(report.outside_image).toBe(outside.length);
    expect(stderr.trim()).toBe(
      `note: ${outside.length} of 7 boxes reach past the image's edges (OWLv2 looks at the image padded to a square); the picture shows them clipped, labelled "(clipped)" or "(outside the image)"`,
    );
    // The first two boxes (the same one, ymin 519) lie entirely below the image: drawn as a strip on the bottom edge
    // under xmin..xmax = 546..640, in the colour of one of them (palette 0 or 1; the later is drawn on top).
    const { data } = await sharp(out).raw().toBuffer({ resolveWithObject: true });
    const bottom = Array.from(data.subarray((479 * 640 + 600) * 3, (479 * 640 + 600) * 3 + 3));
    const distance = (c: readonly number[]) => c.reduce((sum, v, i) => sum + Math.abs(v - bottom[i]!), 0);
    expect(Math.min(distance(palette[0]!), distance(palette[1]!))).toBeLessThan(60);
  });

  it('finds what a query image shows (image-guided), boxes labelled "query"', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'ortvision-detect-')), 'guided.png');
    const { code, stdout } = await run('--query-image', fixtureImagePath('logo.png'), '--out', out);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as Report;
    expect(report.mode).toBe('image-guided');
    expect(report.query_image).toBe(fixtureImagePath('logo.png'));
    expect(report.detections.length).toBeGreaterThan(0);
    // Scores are display alphas: the best box is 1 by construction.
    expect(report.detections[0]!.score).toBeCloseTo(1, 4);
    expect(new Set(report.detections.map((d) => d.label))).toEqual(new Set(['query']));
    expect((await sharp(out).metadata()).width).toBe(640);
  });

  it('says what is wrong with its arguments, with exit code 1', async () => {
    const [both, threshold, typo] = await Promise.all([
      run('--labels', 'a cat', '--query-image', fixtureImagePath('logo.png')),
      run('--threshold', 'high'),
      run('--label', 'a cat'),
    ]);
    expect([both.code, both.stderr.trim()]).toEqual([
      1,
      'InvalidArgumentError: give --labels or --query-image, not both',
    ]);
    expect([threshold.code, threshold.stderr.trim()]).toEqual([
      1,
      'InvalidArgumentError: --threshold must be a number in [0, 1], got "high"',
    ]);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('InvalidArgumentError: unknown option --label;');
  });
});
