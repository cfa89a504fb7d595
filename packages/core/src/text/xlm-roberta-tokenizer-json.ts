import { ConfigError } from '../errors.js';
import { type SpecialTokenDefaults, addedTokensFromConfig } from './added-tokens.js';
import type { SentencePieceModel } from './sentencepiece-model.js';
import { tokenizerJson } from './tokenizer-json.js';

type Json = Record<string, unknown>;

/** The slow XLMRobertaTokenizer's SentencePiece model, parsed, and the config files beside it. */
export interface XlmRobertaSlowFiles {
  model: SentencePieceModel;
  /** The model file's name, for messages (`sentencepiece.bpe.model`). */
  modelFile: string;
  tokenizerConfig: Json;
  specialTokensMap: Json;
  /** The model folder or Hub id, for messages. */
  source: string;
}

// XLMRobertaTokenizer's constructor: its special tokens, and <mask> strips the space before it.
const xlmRobertaDefaults: SpecialTokenDefaults = {
  tokens: {
    bos_token: '<s>',
    eos_token: '</s>',
    sep_token: '</s>',
    cls_token: '<s>',
    unk_token: '<unk>',
    pad_token: '<pad>',
    mask_token: '<mask>',
  },
  flags: { mask_token: { lstrip: true } },
};

const METASPACE = '\u2581';

/**
 * Refuses a model whose tokenization the converted pipeline (fixed normalizer tail, Metaspace, Unigram, fairseq ids)
 * would not reproduce, instead of returning a tokenizer that silently differs from sentencepiece's.
 */
function checkSupported({ model, modelFile, source }: XlmRobertaSlowFiles): void {
  const where = `${source}/${modelFile}`;
  const { trainerSpec: trainer, normalizerSpec: normalizer } = model;
  if (trainer.modelType !== 'unigram') {
    throw new ConfigError(
      `${where} is a ${trainer.modelType.toUpperCase()} SentencePiece model; an XLM-RoBERTa tokenizer is built only from a Unigram model (trainer_spec.model_type 1), as transformers' XLMRobertaConverter does`,
    );
  }
  if (trainer.unkId !== 0 || trainer.bosId !== 1 || trainer.eosId !== 2) {
    throw new ConfigError(
      `${where}: unk_id/bos_id/eos_id are ${trainer.unkId}/${trainer.bosId}/${trainer.eosId}; XLM-RoBERTa's fairseq ids (<s> 0, <pad> 1, </s> 2, <unk> 3, pieces shifted by one) need 0/1/2`,
    );
  }
  const unsupported = [
    trainer.byteFallback && 'byte_fallback is on (bytes of unknown characters would become <unk>)',
    trainer.treatWhitespaceAsSuffix && 'treat_whitespace_as_suffix is on',
    !normalizer.addDummyPrefix && 'add_dummy_prefix is off',
    !normalizer.removeExtraWhitespaces && 'remove_extra_whitespaces is off',
    !normalizer.escapeWhitespaces && 'escape_whitespaces is off',
  ].filter((reason): reason is string => reason !== false);
  if (unsupported.length > 0) {
    throw new ConfigError(
      `${where}: ${unsupported.join(', ')}; the converted XLM-RoBERTa tokenizer assumes sentencepiece's defaults there and would tokenize differently`,
    );
  }
}

/**
 * The tokenizer.json that transformers 4.37.2 builds from a slow XLMRobertaTokenizer's SentencePiece model
 * (`XLMRobertaConverter` in convert_slow_tokenizer.py, tokenizers 0.15 layout), with the added tokens the config
 * files name:
 * - model: Unigram with fairseq's ids: `<s>` 0, `<pad>` 1, `</s>` 2, `<unk>` 3 (the unk id), then the model's
 *   pieces from its 4th on (SentencePiece id + 1) with their scores, `<mask>` last;
 * - normalizer: the model's precompiled charsmap (when it has one), strip trailing spaces, runs of two or more spaces
 *   -> "▁";
 * - pre-tokenizer and decoder: Metaspace ("▁", prefix space on every text);
 * - post-processor: `<s> $A </s>` (pairs `<s> $A </s> </s> $B </s>`).
 * Models that are not Unigram, or whose settings this pipeline does not reproduce, are refused with a ConfigError.
 *
 * @example
 * ```ts
 * const model = readSentencePieceModel(bytes, 'sentencepiece.bpe.model');
 * const json = xlmRobertaTokenizerJson({ model, modelFile: 'sentencepiece.bpe.model', tokenizerConfig, specialTokensMap, source: dir });
 * ```
 */
export function xlmRobertaTokenizerJson(files: XlmRobertaSlowFiles): Record<string, unknown> {
  checkSupported(files);
  const { model } = files;
  const vocab: [string, number][] = [
    ['<s>', 0],
    ['<pad>', 0],
    ['</s>', 0],
    ['<unk>', 0],
    ...model.pieces.slice(3).map(({ piece, score }): [string, number] => [piece, score]),
    ['<mask>', 0],
  ];
  // Special tokens are looked up a handful of times: a scan of the ~250k pieces beats indexing them all
  const idOf = (token: string) => {
    const id = vocab.findIndex(([piece]) => piece === token);
    return id < 0 ? undefined : id;
  };
  const addedTokens = addedTokensFromConfig({
    configs: files,
    vocabularyId: idOf,
    vocabularySize: vocab.length,
    defaults: xlmRobertaDefaults,
  });
  const charsmap = model.normalizerSpec.precompiledCharsmap;
  const metaspace = {
    type: 'Metaspace',
    replacement: METASPACE,
    add_prefix_space: true,
    prepend_scheme: 'always',
  };
  const special = (id: string) => ({ SpecialToken: { id, type_id: 0 } });
  const sequence = (id: string) => ({ Sequence: { id, type_id: 0 } });
  return tokenizerJson({
    added_tokens: addedTokens,
    normalizer: {
      type: 'Sequence',
      normalizers: [
        ...(charsmap.length > 0
          ? [{ type: 'Precompiled', precompiled_charsmap: Buffer.from(charsmap).toString('base64') }]
          : []),
        { type: 'Strip', strip_left: false, strip_right: true },
        { type: 'Replace', pattern: { Regex: ' {2,}' }, content: METASPACE },
      ],
    },
    pre_tokenizer: metaspace,
    post_processor: {
      type: 'TemplateProcessing',
      single: [special('<s>'), sequence('A'), special('</s>')],
      pair: [special('<s>'), sequence('A'), special('</s>'), special('</s>'), sequence('B'), special('</s>')],
      special_tokens: {
        '<s>': { id: '<s>', ids: [0], tokens: ['<s>'] },
        '</s>': { id: '</s>', ids: [2], tokens: ['</s>'] },
      },
    },
    decoder: { ...metaspace },
    model: { type: 'Unigram', unk_id: 3, vocab, byte_fallback: false },
  });
}
