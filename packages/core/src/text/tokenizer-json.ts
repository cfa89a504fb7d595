import type { AddedTokenJson } from './added-tokens.js';

/** The pipeline parts of a tokenizer.json (the `tokenizers` library's serialization). */
export interface TokenizerJsonParts {
  added_tokens: AddedTokenJson[];
  normalizer: Record<string, unknown>;
  pre_tokenizer: Record<string, unknown>;
  post_processor: Record<string, unknown>;
  decoder: Record<string, unknown>;
  model: Record<string, unknown>;
}

/**
 * A whole tokenizer.json object from its parts, in the layout `tokenizers` writes (format version 1.0, no
 * truncation or padding configured: ortvision's `Tokenizer` applies transformers' own).
 *
 * @example
 * tokenizerJson({ added_tokens: [], normalizer, pre_tokenizer, post_processor, decoder, model }).version; // '1.0'
 */
export function tokenizerJson(parts: TokenizerJsonParts): Record<string, unknown> {
  return { version: '1.0', truncation: null, padding: null, ...parts };
}
