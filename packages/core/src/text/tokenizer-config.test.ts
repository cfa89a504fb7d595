import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { parseTokenizerSettings } from './tokenizer-config.js';

describe('parseTokenizerSettings', () => {
  it('has transformers defaults for an empty config', () => {
    expect(parseTokenizerSettings({}, {})).toEqual({
      tokenizerClass: undefined,
      modelMaxLength: Number.POSITIVE_INFINITY,
      paddingSide: 'right',
      truncationSide: 'right',
      cleanUpTokenizationSpaces: true,
      specialTokens: {},
    });
  });

  it('reads special tokens saved as strings or AddedToken objects; special_tokens_map.json wins', () => {
    const settings = parseTokenizerSettings(
      {
        bos_token: { __type: 'AddedToken', content: '<s>', lstrip: false },
        pad_token: '<pad>',
        mask_token: null,
        eos_token: '</s>',
      },
      { pad_token: { content: '<|pad|>', normalized: false }, eos_token: '</s>' },
    );
    expect(settings.specialTokens).toEqual({ bos_token: '<s>', pad_token: '<|pad|>', eos_token: '</s>' });
  });

  it("treats transformers' int(1e30) model_max_length as no limit", () => {
    // the value Python's json writes for int(1e30)
    const config = JSON.parse('{"model_max_length": 1000000000000000019884624838656}');
    expect(parseTokenizerSettings(config, {}).modelMaxLength).toBe(Number.POSITIVE_INFINITY);
    expect(parseTokenizerSettings({ model_max_length: 77 }, {}).modelMaxLength).toBe(77);
  });

  it('rejects fields of the wrong type, naming the file and the value', () => {
    expect(() => parseTokenizerSettings({ padding_side: 'top' }, {}, 'x/tokenizer_config.json')).toThrow(
      new ConfigError('x/tokenizer_config.json: padding_side must be "left" or "right", got "top"'),
    );
    expect(() => parseTokenizerSettings({ model_max_length: '77' }, {})).toThrow(
      new ConfigError('tokenizer_config.json: model_max_length must be a positive integer, got "77"'),
    );
    expect(() => parseTokenizerSettings({}, { pad_token: 3 })).toThrow(
      new ConfigError(
        'special_tokens_map.json: pad_token must be a string or an object with a "content" string, got 3',
      ),
    );
    expect(() => parseTokenizerSettings({ clean_up_tokenization_spaces: 'yes' }, {})).toThrow(ConfigError);
    expect(() => parseTokenizerSettings({ tokenizer_class: 1 }, {})).toThrow(ConfigError);
  });
});
