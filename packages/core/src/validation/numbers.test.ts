import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.js';
import { describeValue } from './describe-value.js';
import { optionsFromKwargs } from './kwargs.js';
import { checkFiniteNumber, checkInteger, checkThreshold } from './numbers.js';

describe('describeValue', () => {
  it('keeps the type visible', () => {
    expect(describeValue('3')).toBe("'3'");
    expect(describeValue(3)).toBe('3');
    expect(describeValue(Number.NaN)).toBe('NaN');
    expect(describeValue(null)).toBe('null');
    expect(describeValue(undefined)).toBe('undefined');
    expect(describeValue(5n)).toBe('5n');
    expect(describeValue([1, 'a', Number.NaN])).toBe("[1, 'a', NaN]");
    expect(describeValue({ a: 1 })).toBe('{"a":1}');
    expect(describeValue(new Float32Array(4))).toBe('a Float32Array of 4');
    expect(describeValue(new URL('https://example.com/x.png'))).toBe('a URL https://example.com/x.png');
    expect(describeValue(new Map())).toBe('a Map');
    expect(describeValue(() => 1)).toBe('a function');
    expect(describeValue('x'.repeat(100))).toHaveLength(62);
  });
});

describe('checkInteger', () => {
  it('accepts integers in range', () => {
    expect(checkInteger(3, 'topK', { min: 1 })).toBe(3);
    expect(checkInteger(0, 'k', { min: 0, max: 2 })).toBe(0);
  });

  it.each([
    ['3', "topK must be an integer >= 1, got '3'"],
    [2.5, 'topK must be an integer >= 1, got 2.5'],
    [0, 'topK must be an integer >= 1, got 0'],
    [Number.NaN, 'topK must be an integer >= 1, got NaN'],
    [null, 'topK must be an integer >= 1, got null'],
  ])('%j -> InvalidArgumentError', (value, message) => {
    expect(() => checkInteger(value, 'topK', { min: 1 })).toThrowError(new InvalidArgumentError(message));
  });

  it('names both ends of a closed range', () => {
    expect(() => checkInteger(5, 'k', { min: 0, max: 4 })).toThrowError(
      'k must be an integer from 0 to 4, got 5',
    );
  });
});

describe('checkFiniteNumber and checkThreshold', () => {
  it('refuse NaN, infinities and strings; checkThreshold gives the fallback for undefined', () => {
    expect(checkThreshold(undefined, 'threshold', 0.1)).toBe(0.1);
    expect(checkThreshold(0.5, 'threshold', 0.1)).toBe(0.5);
    expect(() => checkThreshold(Number.NaN, 'threshold', 0.1)).toThrowError(
      new InvalidArgumentError('threshold must be a finite number, got NaN'),
    );
    expect(() => checkThreshold('0.5', 'threshold', 0.1)).toThrowError(
      "threshold must be a finite number, got '0.5'",
    );
    expect(() => checkThreshold(2, 'threshold', 0.5, { min: 0, max: 1 })).toThrowError(
      'threshold must be a finite number from 0 to 1, got 2',
    );
    expect(() => checkFiniteNumber(Number.POSITIVE_INFINITY, 'scale')).toThrowError(
      'scale must be a finite number, got Infinity',
    );
  });
});

describe('optionsFromKwargs', () => {
  it('renames, drops nulls, and refuses unknown names', () => {
    const names = { top_k: 'topK', function_to_apply: 'functionToApply' } as const;
    expect(optionsFromKwargs({ top_k: 3, function_to_apply: null }, names, 'classification')).toEqual({
      topK: 3,
    });
    expect(() => optionsFromKwargs({ topk: 3 }, names, 'classification')).toThrowError(
      new InvalidArgumentError('unknown classification argument "topk" (known: top_k, function_to_apply)'),
    );
    // a name inherited from Object.prototype is not a known argument
    expect(() => optionsFromKwargs({ toString: 1 }, names, 'classification')).toThrowError(
      InvalidArgumentError,
    );
  });
});
