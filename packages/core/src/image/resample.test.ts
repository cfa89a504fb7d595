import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.js';
import { readNpy } from '../testing/npy.js';
import { type ResampleFilter, resizePixels, toResampleFilter } from './resample.js';

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

describe('resizePixels channel independence', () => {
  // PIL filters each band on its own, so an interleaved resize must equal resizing every channel as a gray
  // image (the 1-channel path, itself checked against PIL above). This covers the word-reading RGB and
  // vertical passes on sizes the fixtures do not: large downscales, odd row lengths, unaligned buffers.
  function noise(length: number, seed: number): Uint8Array {
    const data = new Uint8Array(length);
    let state = seed;
    for (let i = 0; i < length; i++) {
      state = (Math.imul(state, 1103515245) + 12345) | 0;
      // Mostly smooth with noise and saturated runs, so clipping and overshoot both happen.
      const value = ((i * 7) & 255) + ((state >>> 24) & 63) - 32;
      data[i] = (state >>> 16) % 11 === 0 ? ((state >>> 8) & 1) * 255 : Math.max(0, Math.min(255, value));
    }
    return data;
  }

  function plane(data: Uint8Array, channels: number, c: number): Uint8Array {
    const out = new Uint8Array(data.length / channels);
    for (let i = 0; i < out.length; i++) out[i] = data[i * channels + c]!;
    return out;
  }

  const cases: [number, number, number, number, number, ResampleFilter][] = [
    [3, 191, 67, 23, 11, 'bilinear'],
    [3, 97, 61, 224, 150, 'bicubic'],
    [3, 130, 41, 17, 41, 'lanczos'],
    [3, 45, 90, 45, 13, 'hamming'],
    [3, 301, 7, 32, 5, 'box'],
    [3, 7, 5, 3, 2, 'bicubic'],
    [4, 83, 57, 21, 19, 'bicubic'],
    [4, 40, 30, 97, 64, 'lanczos'],
    [2, 66, 50, 16, 34, 'bilinear'],
    [1, 200, 120, 52, 36, 'lanczos'],
  ];
  it.each(cases)('%i channels %ix%i -> %ix%i %s', (channels, width, height, outWidth, outHeight, filter) => {
    const length = width * height * channels;
    const backing = noise(length + 1, width * 31 + height);
    for (const data of [backing.subarray(0, length), backing.subarray(1)]) {
      const got = resizePixels({ data, width, height, channels }, outWidth, outHeight, filter);
      for (let c = 0; c < channels; c++) {
        const gray = resizePixels(
          { data: plane(data, channels, c), width, height, channels: 1 },
          outWidth,
          outHeight,
          filter,
        );
        expect(plane(got, channels, c)).toEqual(gray);
      }
    }
  });
});
