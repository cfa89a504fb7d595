import { ConfigError } from '../errors.js';
import { type SpecialTokenDefaults, addedTokensFromConfig } from './added-tokens.js';
import { savedToken, specialTokenEntry } from './tokenizer-config.js';
import { tokenizerJson } from './tokenizer-json.js';

type Json = Record<string, unknown>;

/** The slow CLIPTokenizer's files, read, and the config files beside them. */
export interface ClipSlowFiles {
  /** vocab.json: token -> id. */
  vocab: Json;
  /** merges.txt's text. */
  merges: string;
  tokenizerConfig: Json;
  specialTokensMap: Json;
  /** The model folder or Hub id, for messages. */
  source: string;
}

// CLIPTokenizer's constructor: bos/eos/unk default to these and, given as strings, become AddedTokens with
// normalized=true (matched after lowercasing: "<|ENDOFTEXT|>" in a text is the end token, fixture clipseg,
// pipeline case `tokenizer-agreement`); the pad token is left a plain string.
const clipDefaults: SpecialTokenDefaults = {
  tokens: {
    bos_token: '<|startoftext|>',
    eos_token: '<|endoftext|>',
    unk_token: '<|endoftext|>',
    pad_token: '<|endoftext|>',
  },
  flags: {
    bos_token: { normalized: true },
    eos_token: { normalized: true },
    unk_token: { normalized: true },
  },
};

// CLIPTokenizer reads merges.txt as lines [1, 49152 - 256 - 2 + 1): line 0 is the "#version" header, and at most
// 48894 merges are used (the vocabulary is 256 bytes, 256 bytes + "</w>", one token per merge, 2 special tokens).
const MAX_MERGES = 49152 - 256 - 2;
const MERGE_LINE = /^\s*(\S+)\s+(\S+)\s*$/;

/**
 * The merges of a CLIP merges.txt in rank order, as tokenizer.json lists them ("a b"), read as the slow
 * CLIPTokenizer reads them: header line skipped, at most 48894 merges, each line two tokens split on whitespace. A
 * pair listed twice keeps its first rank, as the fast-tokenizer conversion does.
 */
export function parseClipMerges(text: string, source: string): string[] {
  const lines = text
    .trim()
    .split('\n')
    .slice(1, MAX_MERGES + 1);
  const merges = new Set<string>();
  lines.forEach((line, i) => {
    const pair = MERGE_LINE.exec(line);
    if (pair === null) {
      throw new ConfigError(
        `${source}/merges.txt line ${i + 2}: expected two tokens separated by a space, got ${JSON.stringify(line.slice(0, 60))}`,
      );
    }
    merges.add(`${pair[1]} ${pair[2]}`);
  });
  return [...merges];
}

/** vocab.json's token -> id map, checked, and its size. */
function checkVocab(vocab: Json, source: string): { ids: Record<string, number>; size: number } {
  let size = 0;
  for (const token in vocab) {
    const id = vocab[token];
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
      throw new ConfigError(
        `${source}/vocab.json: the id of ${JSON.stringify(token)} must be a non-negative integer, got ${JSON.stringify(id)}`,
      );
    }
    size++;
  }
  return { ids: vocab as Record<string, number>, size };
}

/** The text of a special token the tokenizer cannot do without (CLIP's bos, eos and unk). */
function requiredToken(files: ClipSlowFiles, role: 'bos_token' | 'eos_token' | 'unk_token'): string {
  const source = `${files.source}/tokenizer_config.json`;
  const entry = specialTokenEntry(files.tokenizerConfig, files.specialTokensMap, role, source);
  const token = savedToken(entry.value === undefined ? clipDefaults.tokens[role] : entry.value, entry.where);
  if (token === undefined) throw new ConfigError(`${entry.where} is null, but a CLIP tokenizer needs one`);
  return token.content;
}

/**
 * The tokenizer.json that transformers 4.37.2 builds from a slow CLIPTokenizer's vocab.json + merges.txt
 * (`CLIPConverter` in convert_slow_tokenizer.py), with the added tokens the config files name:
 * - normalizer: NFC, every whitespace run -> one space, lowercase;
 * - pre-tokenizer: CLIP's split (contractions, letter runs, single digits, other non-space runs; spaces dropped),
 *   then byte-level (no prefix space);
 * - model: byte-level BPE with end-of-word suffix `</w>`, no continuing-subword prefix, unk token from the config,
 *   no dropout;
 * - decoder: byte-level; post-processor: `<|startoftext|> $A <|endoftext|>` (RobertaProcessing, ids from the
 *   vocabulary).
 * The Hub's CLIP tokenizer.json files also list the two special tokens in the split pattern; that alternative never
 * matches, since added tokens are split off before pre-tokenization, so the converter's pattern is kept.
 *
 * @example
 * ```ts
 * const json = clipTokenizerJson({ vocab, merges: mergesText, tokenizerConfig, specialTokensMap, source: dir });
 * new Tokenizer({ source: dir, tokenizerJson: json, tokenizerConfig, specialTokensMap });
 * ```
 */
export function clipTokenizerJson(files: ClipSlowFiles): Record<string, unknown> {
  const { ids: vocab, size: vocabularySize } = checkVocab(files.vocab, files.source);
  const merges = parseClipMerges(files.merges, files.source);
  const idOf = (token: string) => (Object.hasOwn(vocab, token) ? vocab[token] : undefined);
  const [bos, eos, unk] = (['bos_token', 'eos_token', 'unk_token'] as const).map((role) =>
    requiredToken(files, role),
  ) as [string, string, string];
  const addedTokens = addedTokensFromConfig({
    configs: files,
    vocabularyId: idOf,
    vocabularySize,
    defaults: clipDefaults,
  });
  const tokenId = (token: string) => idOf(token) ?? addedTokens.find((t) => t.content === token)!.id;
  return tokenizerJson({
    added_tokens: addedTokens,
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'NFC' },
        { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' },
        { type: 'Lowercase' },
      ],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        {
          type: 'Split',
          pattern: { Regex: "'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+" },
          behavior: 'Removed',
          invert: true,
        },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      ],
    },
    post_processor: {
      type: 'RobertaProcessing',
      sep: [eos, tokenId(eos)],
      cls: [bos, tokenId(bos)],
      trim_offsets: false,
      add_prefix_space: false,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: unk,
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  });
}
