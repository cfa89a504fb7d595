import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.js';
import { encodeOptionsFromKwargs, splitTokenizerKwargs } from './kwargs.js';

describe('encodeOptionsFromKwargs', () => {
  it('maps Python names to encode options and drops None', () => {
    expect(
      encodeOptionsFromKwargs({
        padding: 'max_length',
        truncation: true,
        max_length: 16,
        add_special_tokens: null,
      }),
    ).toEqual({ padding: 'max_length', truncation: true, maxLength: 16 });
  });

  it('refuses unknown names', () => {
    expect(() => encodeOptionsFromKwargs({ pad_to_multiple_of: 8 })).toThrowError(
      new InvalidArgumentError(
        'unknown tokenizer argument "pad_to_multiple_of" (known: padding, truncation, max_length, add_special_tokens)',
      ),
    );
  });
});

describe('splitTokenizerKwargs', () => {
  it('separates the tokenizer kwargs from the image processor kwargs', () => {
    expect(splitTokenizerKwargs({ padding: true, do_resize: false, max_length: 8 })).toEqual({
      tokenizer: { padding: true, max_length: 8 },
      rest: { do_resize: false },
    });
  });
});
