import { optionsFromKwargs } from '../validation/kwargs.js';
import type { EncodeOptions } from './tokenizer.js';

/** Python tokenizer keyword arguments and the `encode` option each one is. */
export const tokenizerKwargNames: Readonly<Record<string, keyof EncodeOptions & string>> = {
  padding: 'padding',
  truncation: 'truncation',
  max_length: 'maxLength',
  add_special_tokens: 'addSpecialTokens',
};

/**
 * Python tokenizer keyword arguments (`{"padding": "max_length", "max_length": 16}`, as fixture manifests and
 * Python snippets write them) as `encode` options. Unknown names throw, so nothing is silently ignored.
 */
export function encodeOptionsFromKwargs(kwargs: Readonly<Record<string, unknown>>): EncodeOptions {
  return optionsFromKwargs<EncodeOptions>(kwargs, tokenizerKwargNames, 'tokenizer');
}

/** Splits a multimodal processor's Python kwargs into the tokenizer's and the rest (the image processor's). */
export function splitTokenizerKwargs(kwargs: Readonly<Record<string, unknown>>): {
  tokenizer: Record<string, unknown>;
  rest: Record<string, unknown>;
} {
  const tokenizer: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(kwargs)) {
    if (key in tokenizerKwargNames) tokenizer[key] = value;
    else rest[key] = value;
  }
  return { tokenizer, rest };
}
