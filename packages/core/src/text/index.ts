export { ENCODE_OPTIONS, Tokenizer } from './tokenizer.js';
export type { DecodeOptions, EncodeOptions, TokenIds, TokenizerBackend } from './tokenizer.js';
export { checkRoomForSpecialTokens, padIds, resolveStrategy, truncateIds } from './batch-encoding.js';
export type {
  BatchEncoding,
  Padding,
  PaddingTruncationOptions,
  Strategy,
  Truncation,
} from './batch-encoding.js';
export { parseTokenizerSettings } from './tokenizer-config.js';
export type { Side, SpecialTokenRole, TokenizerSettings } from './tokenizer-config.js';
export { readTokenizerFiles } from './tokenizer-files.js';
export type { TokenizerFiles } from './tokenizer-files.js';
export { encodeOptionsFromKwargs, splitTokenizerKwargs, tokenizerKwargNames } from './kwargs.js';
