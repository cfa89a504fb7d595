import { readFile } from 'node:fs/promises';
import { ModelNotFoundError } from '../errors.js';
import { openModelRepo } from '../hub/model-repo.js';
import { readJsonObject } from '../hub/read-json.js';
import { type ResolveOptions, resolveModelFiles } from '../hub/resolve.js';
import { clipTokenizerJson } from './clip-tokenizer-json.js';
import { readSentencePieceModel } from './sentencepiece-model.js';
import { xlmRobertaTokenizerJson } from './xlm-roberta-tokenizer-json.js';

type Json = Record<string, unknown>;

/** The parsed files a tokenizer is built from. */
export interface TokenizerFiles {
  /** Where they were read from, for error messages. */
  source: string;
  /**
   * tokenizer.json: the fast-tokenizer definition (normalizer, pre-tokenizer, model, post-processor, decoder), read
   * from the folder or built from the slow tokenizer's files.
   */
  tokenizerJson: Json;
  /**
   * The files tokenizerJson came from, for error messages: `tokenizer.json` (the default), or the slow files it was
   * built from (`vocab.json + merges.txt`, `sentencepiece.bpe.model`).
   */
  tokenizerJsonFrom?: string;
  /** tokenizer_config.json (`{}` when the folder has none, as transformers allows). */
  tokenizerConfig: Json;
  /** special_tokens_map.json (`{}` when the folder has none). */
  specialTokensMap: Json;
}

interface ConfigFiles {
  source: string;
  tokenizerConfig: Json;
  specialTokensMap: Json;
}

/** A slow tokenizer class core can build tokenizer.json for: the files it reads and the conversion. */
interface SlowTokenizerFormat {
  /** transformers' slow class; its fast twin (`...Fast`) names the same format. */
  tokenizerClass: string;
  files: readonly string[];
  build(paths: Record<string, string>, configs: ConfigFiles): Promise<Json>;
}

const slowTokenizerFormats: readonly SlowTokenizerFormat[] = [
  {
    tokenizerClass: 'CLIPTokenizer',
    files: ['vocab.json', 'merges.txt'],
    async build(paths, configs) {
      const [vocab, merges] = await Promise.all([
        readJsonObject(paths['vocab.json']!),
        readFile(paths['merges.txt']!, 'utf8'),
      ]);
      return clipTokenizerJson({ ...configs, vocab, merges });
    },
  },
  {
    tokenizerClass: 'XLMRobertaTokenizer',
    files: ['sentencepiece.bpe.model'],
    async build(paths, configs) {
      const modelFile = 'sentencepiece.bpe.model';
      const model = readSentencePieceModel(
        await readFile(paths[modelFile]!),
        `${configs.source}/${modelFile}`,
      );
      return xlmRobertaTokenizerJson({ ...configs, model, modelFile });
    },
  },
];

// AutoTokenizer's fallback when tokenizer_config.json names no class: the tokenizer of config.json's model_type.
const tokenizerClassOfModelType: Readonly<Record<string, string>> = {
  clip: 'CLIPTokenizer',
  clipseg: 'CLIPTokenizer',
  owlvit: 'CLIPTokenizer',
  owlv2: 'CLIPTokenizer',
  altclip: 'XLMRobertaTokenizer',
  'xlm-roberta': 'XLMRobertaTokenizer',
};

function describeFormats(): string {
  return slowTokenizerFormats.map((f) => `${f.files.join(' + ')} (${f.tokenizerClass})`).join(' or ');
}

/** The slow tokenizer class, from tokenizer_config.json or else from config.json's model_type, as AutoTokenizer. */
async function slowTokenizerClass(
  idOrPath: string,
  tokenizerConfig: Json,
  options: ResolveOptions,
): Promise<string | undefined> {
  const named = tokenizerConfig.tokenizer_class;
  if (typeof named === 'string') return named.replace(/Fast$/, '');
  const { files } = await resolveModelFiles(idOrPath, [{ path: 'config.json', optional: true }], options);
  if (files['config.json'] === undefined) return undefined;
  const modelType = (await readJsonObject(files['config.json'])).model_type;
  return typeof modelType === 'string' ? tokenizerClassOfModelType[modelType] : undefined;
}

/** tokenizer.json built from the slow tokenizer's files, for a folder that has no tokenizer.json. */
async function buildFromSlowFiles(
  idOrPath: string,
  configs: ConfigFiles,
  options: ResolveOptions,
): Promise<{ tokenizerJson: Json; tokenizerJsonFrom: string }> {
  const tokenizerClass = await slowTokenizerClass(idOrPath, configs.tokenizerConfig, options);
  const format = slowTokenizerFormats.find((f) => f.tokenizerClass === tokenizerClass);
  if (format === undefined) {
    const which =
      tokenizerClass === undefined
        ? 'names no tokenizer_class (tokenizer_config.json) or known model_type (config.json)'
        : `has tokenizer_class ${tokenizerClass}, which core cannot build from its slow files`;
    throw new ModelNotFoundError(
      `${idOrPath} has no tokenizer.json and ${which}; add tokenizer.json, or the slow files of ${describeFormats()}`,
    );
  }
  const { files } = await resolveModelFiles(
    idOrPath,
    format.files.map((path) => ({ path, optional: true })),
    options,
  );
  const missing = format.files.filter((path) => files[path] === undefined);
  if (missing.length > 0) {
    throw new ModelNotFoundError(
      `${idOrPath} has no tokenizer.json, nor ${tokenizerClass}'s ${format.files.join(' + ')} to build it from (missing: ${missing.join(', ')}); either would do`,
    );
  }
  return {
    tokenizerJson: await format.build(files as Record<string, string>, configs),
    tokenizerJsonFrom: format.files.join(' + '),
  };
}

/**
 * Reads a tokenizer's files from a model folder or a Hub id, choosing the source once, in transformers' order:
 * tokenizer.json when the folder has one; else the slow tokenizer's files, converted into a tokenizer.json as
 * transformers' fast-tokenizer conversion does (CLIPTokenizer: vocab.json + merges.txt; XLMRobertaTokenizer:
 * sentencepiece.bpe.model; the class comes from tokenizer_config.json, else config.json's model_type).
 * tokenizer_config.json and special_tokens_map.json are optional (transformers allows either to be absent). With
 * neither tokenizer.json nor the slow files, the `ModelNotFoundError` names what is missing and what would do.
 *
 * @example
 * ```ts
 * const files = await readTokenizerFiles('./owlv2-base-patch16-ensemble'); // vocab.json + merges.txt, no tokenizer.json
 * files.tokenizerJsonFrom; // 'vocab.json + merges.txt'
 * ```
 */
export async function readTokenizerFiles(
  idOrPath: string,
  resolveOptions: ResolveOptions = {},
): Promise<TokenizerFiles> {
  // One snapshot for every file this reads (tokenizer.json, else config.json and the slow files).
  const options = { ...resolveOptions, repo: await openModelRepo(idOrPath, resolveOptions) };
  const { files } = await resolveModelFiles(
    idOrPath,
    [
      { path: 'tokenizer.json', optional: true },
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
  const configs: ConfigFiles = {
    source: idOrPath,
    tokenizerConfig: tokenizerConfig ?? {},
    specialTokensMap: specialTokensMap ?? {},
  };
  if (tokenizerJson !== undefined) return { ...configs, tokenizerJson, tokenizerJsonFrom: 'tokenizer.json' };
  return { ...configs, ...(await buildFromSlowFiles(idOrPath, configs, options)) };
}

/**
 * Names a tokenizer.json for messages: `dir/tokenizer.json`, or `the tokenizer.json built from dir/vocab.json +
 * merges.txt`.
 */
export function describeTokenizerJson(files: TokenizerFiles): string {
  const from = files.tokenizerJsonFrom ?? 'tokenizer.json';
  return from === 'tokenizer.json'
    ? `${files.source}/tokenizer.json`
    : `the tokenizer.json built from ${files.source}/${from}`;
}
