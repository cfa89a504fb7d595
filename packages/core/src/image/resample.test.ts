import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.js';
import { readNpy } from '../testing/npy.js';
import { resizePixels, toResampleFilter } from './resample.js';

// References made by PIL itself (Pillow 9.4.0, the fixtures' version): see __fixtures__/README.md.
const here = join(dirname(fileURLToPath(import.meta.url)), '__fixtures__');

interface RefCase {
  source: string;
  resample: number;
  width: number;
  height: number;
  offset: number;
}
interface Refs {
  pillow: string;
  sources: Record<string, { width: number; height: number; channels: number }>;
  cases: RefCase[];
}

const refs = JSON.parse(readFileSync(join(here, 'resample-refs.json'), 'utf8')) as Refs;
const flats = new Map<string, Uint8Array>();
async function flat(source: string): Promise<Uint8Array> {
  let data = flats.get(source);
  if (!data) {
    data = (await readNpy(join(here, `resample-${source}.npy`))).data as Uint8Array;
    flats.set(source, data);
  }
  return data;
}

describe('resizePixels against PIL', () => {
  it('has references from the Pillow version the fixtures used', () => {
    expect(refs.pillow).toBe('9.4.0');
    expect(new Set(refs.cases.map((c) => c.resample))).toEqual(new Set([0, 1, 2, 3, 4, 5]));
  });

  it.each(
    refs.cases.map((c) => [`${c.source} -> ${c.width}x${c.height} ${toResampleFilter(c.resample)}`, c]),
  )('%s', async (_label, c) => {
    const testCase = c as RefCase;
    const shape = refs.sources[testCase.source]!;
    const data = await flat(testCase.source);
    const src = data.subarray(0, shape.width * shape.height * shape.channels);
    const size = testCase.width * testCase.height * shape.channels;
    const expected = data.subarray(testCase.offset, testCase.offset + size);
    const got = resizePixels({ ...shape, data: src }, testCase.width, testCase.height, testCase.resample);
    expect(got.length).toBe(size);
    let mismatches = 0;
    let first = -1;
    for (let i = 0; i < size; i++) {
      if (got[i] !== expected[i]) {
        mismatches++;
        if (first < 0) first = i;
      }
    }
    expect(
      mismatches,
      first < 0 ? '' : `first mismatch at ${first}: got ${got[first]}, PIL ${expected[first]}`,
    ).toBe(0);
  });
});

describe('resizePixels', () => {
  const pixels = { data: new Uint8Array([10, 20, 30, 40, 50, 60]), width: 2, height: 1, channels: 3 };

  it('returns an equal copy when the size does not change', () => {
    const out = resizePixels(pixels, 2, 1, 'bicubic');
    expect(Array.from(out)).toEqual([10, 20, 30, 40, 50, 60]);
    expect(out).not.toBe(pixels.data);
  });

  it('rejects bad sizes and filters', () => {
    expect(() => resizePixels(pixels, 0, 1, 'bilinear')).toThrow(InvalidArgumentError);
    expect(() => resizePixels(pixels, 2.5, 1, 'bilinear')).toThrow(/width 2.5: expected an integer >= 1/);
    expect(() => resizePixels(pixels, 3, 1, 7)).toThrow(/unknown resample filter 7/);
    expect(() => toResampleFilter('cubic' as never)).toThrow(InvalidArgumentError);
  });

  it('maps PIL codes to names', () => {
    expect([0, 1, 2, 3, 4, 5].map(toResampleFilter)).toEqual([
      'nearest',
      'lanczos',
      'bilinear',
      'bicubic',
      'box',
      'hamming',
    ]);
  });
});
