import { readJsonObject } from '../hub/read-json.js';
import { type ResolveOptions, resolveModelFiles } from '../hub/resolve.js';

/** The parsed files a tokenizer is built from. */
export interface TokenizerFiles {
  /** Where they were read from, for error messages. */
  source: string;
  /** tokenizer.json: the fast-tokenizer definition (normalizer, pre-tokenizer, model, post-processor, decoder). */
  tokenizerJson: Record<string, unknown>;
  /** tokenizer_config.json (`{}` when the folder has none, as transformers allows). */
  tokenizerConfig: Record<string, unknown>;
  /** special_tokens_map.json (`{}` when the folder has none). */
  specialTokensMap: Record<string, unknown>;
}

/**
 * Reads a tokenizer's files from a model folder or a Hub id: tokenizer.json is required, tokenizer_config.json
 * and special_tokens_map.json are optional (transformers allows either to be absent).
 */
export async function readTokenizerFiles(
  idOrPath: string,
  options: ResolveOptions = {},
): Promise<TokenizerFiles> {
  const { files } = await resolveModelFiles(
    idOrPath,
    [
      'tokenizer.json',
      { path: 'tokenizer_config.json', optional: true },
      { path: 'special_tokens_map.json', optional: true },
    ],
    options,
  );
  const read = (path: string | undefined) => (path === undefined ? undefined : readJsonObject(path));
  const [tokenizerJson, tokenizerConfig, specialTokensMap] = await Promise.all([
    read(files['tokenizer.json']),
    read(files['tokenizer_config.json']),
    read(files['special_tokens_map.json']),
  ]);
  return {
    source: idOrPath,
    tokenizerJson: tokenizerJson!,
    tokenizerConfig: tokenizerConfig ?? {},
    specialTokensMap: specialTokensMap ?? {},
  };
}
