import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.js';
import { checkOptions, closestName, optionNames, pickOptions } from './option-names.js';

interface Options {
  topK?: number;
  threshold?: number;
  device?: string;
  dtype?: string;
  subtask?: string;
}

const OPTIONS = optionNames<Options>({
  topK: true,
  threshold: true,
  device: true,
  dtype: true,
  subtask: true,
});

describe('optionNames', () => {
  it('lists every key once, frozen', () => {
    expect(OPTIONS).toEqual(['topK', 'threshold', 'device', 'dtype', 'subtask']);
    expect(Object.isFrozen(OPTIONS)).toBe(true);
  });
});

describe('closestName', () => {
  it.each([
    ['topk', 'topK'],
    ['top_k', 'topK'],
    ['treshold', 'threshold'],
    ['devce', 'device'],
    ['dType', 'dtype'],
    ['subTask', 'subtask'],
    ['thresold', 'threshold'],
    ['thresh', 'threshold'],
  ])('%s -> %s', (typo, meant) => {
    expect(closestName(typo, OPTIONS)).toBe(meant);
  });

  it('prefers a near spelling over a shared start', () => {
    expect(closestName('sizeDivisr', ['size', 'sizeDivisor'])).toBe('sizeDivisor');
    expect(closestName('truncate', ['padding', 'truncation'])).toBe('truncation');
  });

  it('gives nothing when no name is close', () => {
    expect(closestName('colour', OPTIONS)).toBeUndefined();
    expect(closestName('x', OPTIONS)).toBeUndefined();
  });
});

describe('checkOptions', () => {
  it('returns the options, and {} for undefined', () => {
    const options = { topK: 3 };
    expect(checkOptions(options, OPTIONS, 'f')).toBe(options);
    expect(checkOptions(undefined, OPTIONS, 'f')).toEqual({});
  });

  it('names an unknown key and the closest valid one, or lists the valid ones', () => {
    expect(() => checkOptions({ topk: 3 } as Options, OPTIONS, 'imageClassification')).toThrowError(
      new InvalidArgumentError("unknown option 'topk' for imageClassification (did you mean 'topK'?)"),
    );
    // a misspelled key is refused even when its value is undefined
    expect(() => checkOptions({ treshold: undefined } as Options, OPTIONS, 'f')).toThrowError(
      "unknown option 'treshold' for f (did you mean 'threshold'?)",
    );
    expect(() => checkOptions({ colour: 'red' } as Options, OPTIONS, 'f')).toThrowError(
      "unknown option 'colour' for f (valid: topK, threshold, device, dtype, subtask)",
    );
  });

  it.each([
    [null, 'null'],
    [[], '[]'],
    ['fast', "'fast'"],
    [3, '3'],
  ])('%j is a typed error, not a TypeError', (value, shown) => {
    expect(() => checkOptions(value as Options, OPTIONS, 'f')).toThrowError(
      new InvalidArgumentError(`the options of f must be an object (or left out), got ${shown}`),
    );
  });
});

describe('pickOptions', () => {
  it('keeps the listed keys that are present', () => {
    expect(pickOptions<Options>({ topK: 1, other: 2, dtype: undefined }, OPTIONS)).toEqual({
      topK: 1,
      dtype: undefined,
    });
  });
});
