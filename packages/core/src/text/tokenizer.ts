import { ConfigError, InputShapeError, InvalidArgumentError } from '../errors.js';
import type { ResolveOptions } from '../hub/resolve.js';
import { loadPretrained } from '../modeling/load-pretrained.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkOptions, optionNames } from '../validation/option-names.js';
import {
  type BatchEncoding,
  type PaddingTruncationOptions,
  checkRoomForSpecialTokens,
  padIds,
  resolveStrategy,
  truncateIds,
} from './batch-encoding.js';
import { type Side, type TokenizerSettings, parseTokenizerSettings } from './tokenizer-config.js';
import { type TokenizerFiles, describeTokenizerJson, readTokenizerFiles } from './tokenizer-files.js';
import { loadTokenizersModule } from './tokenizers-module.js';

export interface EncodeOptions extends PaddingTruncationOptions {
  /** Add the model's special tokens around each text (CLIP: `<|startoftext|>` ... `<|endoftext|>`). Default true. */
  addSpecialTokens?: boolean;
}

/** The keys of `EncodeOptions`. */
export const ENCODE_OPTIONS = optionNames<EncodeOptions>({
  padding: true,
  truncation: true,
  maxLength: true,
  addSpecialTokens: true,
});

export interface DecodeOptions {
  /** Drop special tokens (pad, bos, eos, unk, ...). Default false. */
  skipSpecialTokens?: boolean;
  /** Remove spaces before punctuation and in English contractions; default: the tokenizer config's setting. */
  cleanUpTokenizationSpaces?: boolean;
}

/** The keys of `DecodeOptions`. */
const DECODE_OPTIONS = optionNames<DecodeOptions>({
  skipSpecialTokens: true,
  cleanUpTokenizationSpaces: true,
});

/**
 * What core calls on `@huggingface/tokenizers`' `Tokenizer` (which satisfies it; the constructor's assignment checks
 * that). Declared here rather than imported so that core's published type declarations do not name the optional
 * package: image-only installs do not have it.
 */
export interface TokenizerBackend {
  encode(text: string, options?: { add_special_tokens?: boolean }): { ids: number[]; tokens: string[] };
  decode(
    ids: number[] | bigint[],
    options?: { skip_special_tokens?: boolean; clean_up_tokenization_spaces?: boolean | null },
  ): string;
  token_to_id(token: string): number | undefined;
  id_to_token(id: number): string | undefined;
  get_vocab(withAddedTokens?: boolean): Map<string, number>;
  post_processor:
    | ((tokens: string[], pair: string[] | null, addSpecialTokens: boolean) => { tokens: string[] })
    | null;
}

/** Token ids to decode: a list of numbers or bigints, or a 1-D integer tensor. */
export type TokenIds = readonly (number | bigint)[] | Tensor<'int64'> | Tensor<'int32'>;

// Python's slow CLIPTokenizer and XLMRobertaTokenizer strip() the decoded text in convert_tokens_to_string;
// tokenizer.json's Metaspace decoder keeps trailing spaces. The reference is the slow tokenizer (fixture altclip,
// postprocess case `batch-decode`). tokenizer_config.json always names the slow class, even for fast tokenizers.
const classesThatStripDecodedText = new Set(['CLIPTokenizer', 'XLMRobertaTokenizer']);

// A token no vocabulary holds, put through the post-processor to find where it places the sequence.
const SEQUENCE_MARKER = '\u{E000}ortvision:sequence\u{E000}';

function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return `${typeof value} ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`.slice(0, 80);
}

/**
 * A text tokenizer with transformers' padding and truncation: `tokenizer.json` (read, or built from the slow
 * tokenizer's files when the model has none) is run by `@huggingface/tokenizers`, and `tokenizer_config.json` /
 * `special_tokens_map.json` give `model_max_length`, the padding side and the special tokens.
 *
 * @example
 * ```ts
 * const tokenizer = await Tokenizer.fromPretrained('./clipseg-rd64-refined');
 * const { input_ids, attention_mask } = tokenizer.encode(['a cat', 'a remote control'], { padding: true });
 * // input_ids: int64 [2, 5]; padded on the right with <|endoftext|>, attention_mask 0 there
 * tokenizer.batchDecode(input_ids, { skipSpecialTokens: true }); // ['a cat', 'a remote control']
 * ```
 */
export class Tokenizer {
  /** The `@huggingface/tokenizers` instance that runs tokenizer.json. */
  readonly backend: TokenizerBackend;
  readonly tokenizerClass: string | undefined;
  /** `model_max_length` from tokenizer_config.json; `Infinity` when it sets none. */
  readonly modelMaxLength: number;
  readonly paddingSide: Side;
  readonly truncationSide: Side;
  readonly padToken: string | undefined;
  readonly padTokenId: number | undefined;
  readonly bosToken: string | undefined;
  readonly bosTokenId: number | undefined;
  readonly eosToken: string | undefined;
  readonly eosTokenId: number | undefined;
  readonly unkToken: string | undefined;
  readonly unkTokenId: number | undefined;
  private readonly settings: TokenizerSettings;
  /** The ids the post-processor puts before and after a single sequence. */
  private readonly prefixIds: readonly number[];
  private readonly suffixIds: readonly number[];
  private vocabSizeCache: number | undefined;

  /** Builds a tokenizer from files already read; most code wants `Tokenizer.fromPretrained`. */
  constructor(files: TokenizerFiles) {
    const definition = describeTokenizerJson(files);
    this.settings = parseTokenizerSettings(
      files.tokenizerConfig,
      files.specialTokensMap,
      `${files.source}/tokenizer_config.json`,
    );
    // Outside the try: a missing package is a MissingDependencyError, not a broken tokenizer.json.
    const { Tokenizer: Backend } = loadTokenizersModule();
    try {
      this.backend = new Backend(files.tokenizerJson, files.tokenizerConfig);
    } catch (error) {
      throw new ConfigError(
        `${definition} cannot be loaded by @huggingface/tokenizers: ${(error as Error).message}`,
        { cause: error },
      );
    }
    this.tokenizerClass = this.settings.tokenizerClass;
    this.modelMaxLength = this.settings.modelMaxLength;
    this.paddingSide = this.settings.paddingSide;
    this.truncationSide = this.settings.truncationSide;
    const { pad_token, bos_token, eos_token, unk_token } = this.settings.specialTokens;
    this.padToken = pad_token;
    this.padTokenId = this.idOfSpecialToken(pad_token, 'pad_token', definition);
    this.bosToken = bos_token;
    this.bosTokenId = this.idOfSpecialToken(bos_token, 'bos_token', definition);
    this.eosToken = eos_token;
    this.eosTokenId = this.idOfSpecialToken(eos_token, 'eos_token', definition);
    this.unkToken = unk_token;
    this.unkTokenId = this.idOfSpecialToken(unk_token, 'unk_token', definition);
    [this.prefixIds, this.suffixIds] = this.singleSequenceTemplate(definition);
  }

  /**
   * Loads a tokenizer from a local folder laid out like a Hub model repository, or a Hub id: `tokenizer.json` when
   * it has one, else the slow tokenizer's files (CLIP: `vocab.json` + `merges.txt`; XLM-RoBERTa:
   * `sentencepiece.bpe.model`) converted as transformers does, with `tokenizer_config.json` and
   * `special_tokens_map.json` (see `readTokenizerFiles`).
   */
  static async fromPretrained(idOrPath: string, options: ResolveOptions = {}): Promise<Tokenizer> {
    return new Tokenizer(
      await loadPretrained('Tokenizer.fromPretrained', idOrPath, options, (checked) =>
        readTokenizerFiles(idOrPath, checked),
      ),
    );
  }

  /** Number of tokens, added tokens included (Python's `len(tokenizer)`). */
  get vocabSize(): number {
    const size = this.vocabSizeCache ?? this.backend.get_vocab(true).size;
    this.vocabSizeCache = size;
    return size;
  }

  /** Special tokens added around one text: 2 for CLIP and XLM-R. */
  get numSpecialTokens(): number {
    return this.prefixIds.length + this.suffixIds.length;
  }

  tokenToId(token: string): number | undefined {
    return this.backend.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.backend.id_to_token(id);
  }

  /**
   * Tokenizes one text or a batch, as transformers' `tokenizer(text, padding=..., truncation=..., max_length=...)`
   * with `return_tensors`: `input_ids` and `attention_mask` are int64 [batch, seq] (a single string is a batch of
   * one). Truncation cuts the text's tokens and keeps the special tokens (CLIP's final `<|endoftext|>` stays).
   */
  encode(text: string | readonly string[], options: EncodeOptions = {}): BatchEncoding {
    checkOptions(options, ENCODE_OPTIONS, 'Tokenizer.encode');
    const texts = checkTexts(text);
    const addSpecialTokens = options.addSpecialTokens ?? true;
    if (typeof addSpecialTokens !== 'boolean') {
      throw new InvalidArgumentError(
        `addSpecialTokens must be a boolean, got ${describeValue(addSpecialTokens)}`,
      );
    }
    const strategy = resolveStrategy(options, this.modelMaxLength);
    if (strategy.padding !== 'do_not_pad' && this.padTokenId === undefined) {
      throw new InvalidArgumentError(
        `cannot pad with padding ${JSON.stringify(options.padding)}: the tokenizer has no pad_token (tokenizer_config.json / special_tokens_map.json); pass padding: false`,
      );
    }
    const numSpecial = addSpecialTokens ? this.numSpecialTokens : 0;
    checkRoomForSpecialTokens(strategy, numSpecial);
    const rows = texts.map((t) => {
      let ids = this.backend.encode(t, { add_special_tokens: false }).ids;
      if (strategy.truncateTo !== undefined)
        ids = truncateIds(ids, strategy.truncateTo - numSpecial, this.truncationSide);
      return addSpecialTokens ? [...this.prefixIds, ...ids, ...this.suffixIds] : ids;
    });
    return padIds(rows, strategy, this.padTokenId, this.paddingSide);
  }

  /** Turns ids back into text, as transformers' `decode`. */
  decode(ids: TokenIds, options: DecodeOptions = {}): string {
    checkOptions(options, DECODE_OPTIONS, 'Tokenizer.decode');
    if (!Array.isArray(ids) && (ids as Tensor).dims.length !== 1) {
      throw new InputShapeError(
        `decode takes one sequence of ids (a 1-D tensor), got shape [${(ids as Tensor).dims.join(', ')}]; use batchDecode for [batch, seq]`,
      );
    }
    return this.decodeRow(toNumbers(Array.isArray(ids) ? ids : (ids as Tensor<'int64'>).data), options);
  }

  /** Decodes each row of a [batch, seq] tensor or list of id lists, as transformers' `batch_decode`. */
  batchDecode(
    ids: Tensor<'int64'> | Tensor<'int32'> | readonly TokenIds[],
    options: DecodeOptions = {},
  ): string[] {
    if (Array.isArray(ids)) return ids.map((row: TokenIds) => this.decode(row, options));
    const tensor = ids as Tensor<'int64'> | Tensor<'int32'>;
    if (tensor.dims.length !== 2) {
      throw new InputShapeError(`batchDecode takes [batch, seq] ids, got shape [${tensor.dims.join(', ')}]`);
    }
    const [batch, seq] = tensor.dims as [number, number];
    return Array.from({ length: batch }, (_, row) =>
      this.decodeRow(toNumbers(tensor.data.subarray(row * seq, (row + 1) * seq)), options),
    );
  }

  private decodeRow(ids: number[], options: DecodeOptions): string {
    ids.forEach((id, position) => {
      if (!Number.isInteger(id) || this.backend.id_to_token(id) === undefined) {
        throw new InvalidArgumentError(
          `token id ${id} at position ${position} is not in the vocabulary (ids 0..${this.vocabSize - 1})`,
        );
      }
    });
    // @huggingface/tokenizers throws on an empty list; Python decodes it to ''
    if (ids.length === 0) return '';
    const text = this.backend.decode(ids, {
      skip_special_tokens: options.skipSpecialTokens ?? false,
      clean_up_tokenization_spaces:
        options.cleanUpTokenizationSpaces ?? this.settings.cleanUpTokenizationSpaces,
    });
    return this.tokenizerClass !== undefined && classesThatStripDecodedText.has(this.tokenizerClass)
      ? text.trim()
      : text;
  }

  private idOfSpecialToken(token: string | undefined, role: string, definition: string): number | undefined {
    if (token === undefined) return undefined;
    const id = this.backend.token_to_id(token);
    if (id === undefined) {
      throw new ConfigError(`${role} ${JSON.stringify(token)} is not in the vocabulary of ${definition}`);
    }
    return id;
  }

  /**
   * The special-token ids that tokenizer.json's post-processor puts around a single sequence. Encoding without
   * them, truncating, then adding them is how transformers truncates while keeping e.g. CLIP's final
   * `<|endoftext|>`.
   */
  private singleSequenceTemplate(definition: string): [number[], number[]] {
    const processor = this.backend.post_processor;
    if (processor === null) return [[], []];
    const tokens = processor([SEQUENCE_MARKER], null, true).tokens;
    const at = tokens.indexOf(SEQUENCE_MARKER);
    if (at < 0 || tokens.indexOf(SEQUENCE_MARKER, at + 1) >= 0) {
      throw new ConfigError(
        `${definition}: the post_processor does not place one sequence between special tokens`,
      );
    }
    const toId = (token: string) => {
      const id = this.backend.token_to_id(token);
      if (id === undefined) {
        throw new ConfigError(`${definition}: post_processor token ${JSON.stringify(token)} has no id`);
      }
      return id;
    };
    return [tokens.slice(0, at).map(toId), tokens.slice(at + 1).map(toId)];
  }
}

function checkTexts(text: unknown): readonly string[] {
  if (typeof text === 'string') return [text];
  if (!Array.isArray(text)) {
    throw new InvalidArgumentError(
      `text must be a string or an array of strings, got ${describeValue(text)}`,
    );
  }
  if (text.length === 0)
    throw new InvalidArgumentError('text is an empty array: encode needs at least one string');
  text.forEach((item, index) => {
    if (typeof item !== 'string') {
      throw new InvalidArgumentError(
        `text[${index}] must be a string, got ${describeValue(item)}${Array.isArray(item) ? ' (nested lists of queries are a processor input, e.g. Owlv2Processor)' : ''}`,
      );
    }
  });
  return text as readonly string[];
}

function toNumbers(ids: ArrayLike<number | bigint>): number[] {
  return Array.from(ids, (id) => (typeof id === 'bigint' ? Number(id) : id));
}
