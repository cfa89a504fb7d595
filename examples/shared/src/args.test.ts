import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from '@ortvision/core';
import { describe, expect, it, vi } from 'vitest';
import { checkFlags, listFlag, numberFlag, parseArgs } from './args.js';
import { checkOutput, outputPath, resolveInput } from './paths.js';

const defaults = { model: 'fixtures/x', out: 'out.png' };

describe('parseArgs', () => {
  it('splits common options, example flags and positional arguments (both --name value and --name=value)', () => {
    const args = parseArgs(
      ['--', 'a.png', '--device=auto', '--labels', 'a cat,a=b', 'b.png', '--model', 'm'],
      defaults,
    );
    expect(args).toEqual({
      model: 'm',
      device: 'auto',
      out: 'out.png',
      positional: ['a.png', 'b.png'],
      flags: { labels: 'a cat,a=b' },
    });
    expect(parseArgs([], defaults)).toMatchObject({ model: 'fixtures/x', device: 'cpu', out: 'out.png' });
  });

  it('names the option that is missing its value or has a bad device', () => {
    expect(() => parseArgs(['--threshold'], defaults)).toThrow(
      new InvalidArgumentError('--threshold needs a value'),
    );
    expect(() => parseArgs(['--device', 'gpu'], defaults)).toThrow(
      new InvalidArgumentError('--device must be one of cpu, cuda, auto, got "gpu"'),
    );
  });
});

describe('flag readers', () => {
  it('reads numbers within their range and says which one is wrong', () => {
    expect(numberFlag({ t: '0.25' }, 't', 0.1, { min: 0, max: 1 })).toBe(0.25);
    expect(numberFlag({}, 't', 0.1)).toBe(0.1);
    expect(() => numberFlag({ t: '2' }, 't', 0.1, { min: 0, max: 1 })).toThrow(
      new InvalidArgumentError('--t must be a number in [0, 1], got "2"'),
    );
    expect(() => numberFlag({ k: '1.5' }, 'k', 3, { min: 1, integer: true })).toThrow(
      new InvalidArgumentError('--k must be an integer >= 1, got "1.5"'),
    );
    expect(() => numberFlag({ k: '' }, 'k', 3)).toThrow(InvalidArgumentError);
  });

  it('splits lists on commas and rejects an empty one', () => {
    expect(listFlag({ labels: ' 猫, a remote ,,' }, 'labels')).toEqual(['猫', 'a remote']);
    expect(listFlag({}, 'labels')).toBeUndefined();
    expect(() => listFlag({ labels: ' , ' }, 'labels')).toThrow(
      new InvalidArgumentError('--labels needs at least one comma-separated item, got " , "'),
    );
  });

  it('rejects unknown flags, listing the known ones', () => {
    expect(() => checkFlags({ treshold: '1' }, ['threshold'])).toThrow(
      new InvalidArgumentError(
        'unknown option --treshold; this example takes --model, --device, --out, --threshold',
      ),
    );
    expect(() => checkFlags({ threshold: '1' }, ['threshold'])).not.toThrow();
  });
});

describe('outputPath', () => {
  it('numbers the pictures after the first', () => {
    vi.stubEnv('INIT_CWD', '/tmp/here');
    try {
      expect(outputPath('out.png')).toBe('/tmp/here/out.png');
      expect(outputPath('pics/out.png', 2)).toBe('/tmp/here/pics/out-3.png');
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('resolveInput', () => {
  it('resolves paths where the command was typed and keeps URLs as URLs (issue #17)', () => {
    vi.stubEnv('INIT_CWD', '/tmp/here');
    try {
      expect(resolveInput('cat.png')).toBe('/tmp/here/cat.png');
      for (const url of [
        'https://example.com/cat.png',
        'HTTP://example.com/a.jpg',
        'data:image/png;base64,iVBO',
        'file:///tmp/x.png',
      ]) {
        expect(resolveInput(url)).toBe(url);
      }
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('checkOutput', () => {
  it('picks the format from the extension', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ortvision-out-'));
    expect(['a.png', 'a.JPG', 'a.jpeg', 'a.webp'].map((name) => checkOutput(join(dir, name)))).toEqual([
      'png',
      'jpeg',
      'jpeg',
      'webp',
    ]);
  });

  it('refuses an unsupported extension, a missing folder and a file as the folder, naming them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ortvision-out-'));
    expect(() => checkOutput(join(dir, 'a.bmp'))).toThrow(
      new InvalidArgumentError(
        `--out ${join(dir, 'a.bmp')} ends in .bmp: pictures are written as .png, .jpg, .jpeg or .webp (chosen by the extension)`,
      ),
    );
    expect(() => checkOutput(join(dir, 'result'))).toThrow(/has no file extension/);
    expect(() => checkOutput('/nonexistent/x.png')).toThrow(
      new InvalidArgumentError('--out /nonexistent/x.png: the folder /nonexistent does not exist'),
    );
    await writeFile(join(dir, 'file'), '');
    expect(() => checkOutput(join(dir, 'file', 'x.png'))).toThrow(
      new InvalidArgumentError(
        `--out ${join(dir, 'file', 'x.png')}: the folder ${join(dir, 'file')} is not a folder`,
      ),
    );
  });
});
