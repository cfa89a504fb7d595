import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, ModelNotFoundError } from '../errors.js';

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

async function readJsonObject(path: string, required: boolean): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      if (!required) return undefined;
      throw new ModelNotFoundError(
        `${path} does not exist: a tokenizer is read from tokenizer.json (the fast-tokenizer file saved by transformers)`,
      );
    }
    throw new ModelNotFoundError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ConfigError(`${path} must hold a JSON object`);
  }
  return json as Record<string, unknown>;
}

/**
 * Reads a tokenizer's files from a local folder. This is the one place that touches the file system, so that
 * resolving a Hub id (packages/core/src/hub) can replace it without changing the Tokenizer.
 */
export async function readTokenizerFiles(folder: string): Promise<TokenizerFiles> {
  const info = await stat(folder).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new ModelNotFoundError(
      `no local folder "${folder}": Tokenizer.fromPretrained expects a folder holding tokenizer.json (Hub ids are not resolved yet)`,
    );
  }
  const [tokenizerJson, tokenizerConfig, specialTokensMap] = await Promise.all([
    readJsonObject(join(folder, 'tokenizer.json'), true),
    readJsonObject(join(folder, 'tokenizer_config.json'), false),
    readJsonObject(join(folder, 'special_tokens_map.json'), false),
  ]);
  return {
    source: folder,
    tokenizerJson: tokenizerJson!,
    tokenizerConfig: tokenizerConfig ?? {},
    specialTokensMap: specialTokensMap ?? {},
  };
}
