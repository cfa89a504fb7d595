import {
  InputShapeError,
  InvalidArgumentError,
  type ResolveOptions,
  type Side,
  Tensor,
  checkOptions,
  loadPretrained,
  optionNames,
  optionsFromKwargs,
  parseTokenizerSettings,
  readJsonObject,
  resolveModelFiles,
  resolveStrategy,
} from '@ortvision/core';

/** The keys of `PerceiverDecodeOptions`. */
const PERCEIVER_DECODE_OPTIONS = ['skipSpecialTokens', 'cleanUpTokenizationSpaces'] as const;

/** The six special tokens of PerceiverTokenizer, by id (transformers' order). */
export const PERCEIVER_SPECIAL_TOKENS = ['[PAD]', '[BOS]', '[EOS]', '[MASK]', '[CLS]', '[SEP]'] as const;

/** Byte b has id b + 6: the special tokens come first. */
const BYTE_OFFSET = PERCEIVER_SPECIAL_TOKENS.length;
const PAD_ID = 0;
const MASK_ID = 3;
const CLS_ID = 4;
const SEP_ID = 5;

/** A single text or a list of texts. */
export type TextInput = string | readonly string[];

export interface PerceiverEncodeOptions {
  /** Second sequences (`text_pair`): `[CLS] a [SEP] b [SEP]`. One per text. */
  textPair?: TextInput;
  /** `true` / `'longest'`: pad to the longest row; `'max_length'`: to `maxLength` (default model_max_length). */
  padding?: boolean | 'longest' | 'max_length' | 'do_not_pad';
  /**
   * `true` / `'longest_first'`: cut to `maxLength` (default model_max_length) bytes, special tokens included; pairs
   * lose bytes from the longer sequence first. Default false, except that `maxLength` without padding turns it on.
   */
  truncation?: boolean | 'longest_first' | 'do_not_truncate';
  maxLength?: number;
  /** Add `[CLS]` ... `[SEP]` (default true). */
  addSpecialTokens?: boolean;
  /** Also return `special_tokens_mask` (1 on the [CLS]/[SEP] the tokenizer added, and on padding). */
  returnSpecialTokensMask?: boolean;
}

/** The tokenized batch, named as transformers names it: int64 [batch, seq]. (A type alias, so that it is a `NamedTensors`.) */
export type PerceiverEncoding = {
  input_ids: Tensor<'int64'>;
  attention_mask: Tensor<'int64'>;
  special_tokens_mask?: Tensor<'int64'>;
};

/** The keys of `PerceiverEncodeOptions`. */
export const PERCEIVER_ENCODE_OPTIONS = optionNames<PerceiverEncodeOptions>({
  textPair: true,
  padding: true,
  truncation: true,
  maxLength: true,
  addSpecialTokens: true,
  returnSpecialTokensMask: true,
});

export interface PerceiverDecodeOptions {
  /** Drop the six special tokens. Default false. */
  skipSpecialTokens?: boolean;
  /** Remove the space before `. ? ! ,` and in English contractions; default: tokenizer_config.json (true). */
  cleanUpTokenizationSpaces?: boolean;
}

/** Token ids to decode: numbers, bigints, or a 1-D integer tensor. */
export type PerceiverTokenIds = readonly (number | bigint)[] | Tensor<'int64'> | Tensor<'int32'>;

export interface PerceiverTokenizerSettings {
  /** Default: Infinity (no limit); real checkpoints save 2048. */
  modelMaxLength?: number;
  paddingSide?: Side;
  truncationSide?: Side;
  cleanUpTokenizationSpaces?: boolean;
}

const utf8 = new TextEncoder();
// Python's bytes.decode('utf-8', errors='replace') keeps a BOM and replaces maximal invalid subparts, as
// WHATWG's decoder does (fixture perceiver-mlm, case decode-invalid-utf8).
const utf8Decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

// transformers 4.37 clean_up_tokenization, in its order.
const CLEAN_UP: readonly [string, string][] = [
  [' .', '.'],
  [' ?', '?'],
  [' !', '!'],
  [' ,', ','],
  [" ' ", "'"],
  [" n't", "n't"],
  [" 'm", "'m"],
  [" 's", "'s"],
  [" 've", "'ve"],
  [" 're", "'re"],
];

function cleanUpTokenization(text: string): string {
  let out = text;
  for (const [from, to] of CLEAN_UP) out = out.replaceAll(from, to);
  return out;
}

function asTexts(value: TextInput, name: string): string[] {
  const list = typeof value === 'string' ? [value] : [...value];
  list.forEach((text, i) => {
    if (typeof text !== 'string') {
      throw new InvalidArgumentError(`${name}[${i}] must be a string, got ${typeof text}`);
    }
  });
  return list;
}

/**
 * transformers' `PerceiverTokenizer`: raw UTF-8 bytes, id = byte + 6, after the special tokens [PAD]=0 [BOS]=1
 * [EOS]=2 [MASK]=3 [CLS]=4 [SEP]=5. Special-token strings inside a text are matched literally; a single text
 * becomes `[CLS] x [SEP]`, a pair `[CLS] a [SEP] b [SEP]`. Truncation counts bytes and may cut a multi-byte
 * character; decoding replaces broken UTF-8 with U+FFFD. There is no tokenizer.json: this class is the tokenizer.
 *
 * @example
 * ```ts
 * import { PerceiverTokenizer } from '@ortvision/perceiver';
 * const tokenizer = await PerceiverTokenizer.fromPretrained('deepmind/language-perceiver');
 * const { input_ids, attention_mask } = tokenizer.encode(['Hello world!', 'héllo'], { padding: true });
 * tokenizer.batchDecode(input_ids, { skipSpecialTokens: true }); // ['Hello world!', 'héllo']
 * ```
 */
export class PerceiverTokenizer {
  readonly modelMaxLength: number;
  readonly paddingSide: Side;
  readonly truncationSide: Side;
  readonly cleanUpTokenizationSpaces: boolean;
  readonly padTokenId = PAD_ID;
  readonly bosTokenId = 1;
  readonly eosTokenId = 2;
  readonly maskTokenId = MASK_ID;
  readonly clsTokenId = CLS_ID;
  readonly sepTokenId = SEP_ID;
  readonly maskToken = '[MASK]';
  /** 256 bytes + 6 special tokens. */
  readonly vocabSize = 256 + BYTE_OFFSET;

  constructor(settings: PerceiverTokenizerSettings = {}) {
    this.modelMaxLength = settings.modelMaxLength ?? Number.POSITIVE_INFINITY;
    this.paddingSide = settings.paddingSide ?? 'right';
    this.truncationSide = settings.truncationSide ?? 'right';
    this.cleanUpTokenizationSpaces = settings.cleanUpTokenizationSpaces ?? true;
  }

  /**
   * Reads tokenizer_config.json (and special_tokens_map.json) of a model folder or Hub id for model_max_length,
   * the padding/truncation sides and clean_up_tokenization_spaces. Both files are optional.
   */
  static async fromPretrained(idOrPath: string, options: ResolveOptions = {}): Promise<PerceiverTokenizer> {
    const { files } = await loadPretrained(
      'PerceiverTokenizer.fromPretrained',
      idOrPath,
      options,
      (checked) =>
        resolveModelFiles(
          idOrPath,
          [
            { path: 'tokenizer_config.json', optional: true },
            { path: 'special_tokens_map.json', optional: true },
          ],
          checked,
        ),
    );
    const read = (path: string | undefined) => (path === undefined ? {} : readJsonObject(path));
    const [config, specialTokensMap] = await Promise.all([
      read(files['tokenizer_config.json']),
      read(files['special_tokens_map.json']),
    ]);
    const settings = parseTokenizerSettings(config, specialTokensMap, `${idOrPath}/tokenizer_config.json`);
    return new PerceiverTokenizer({
      modelMaxLength: settings.modelMaxLength,
      paddingSide: settings.paddingSide,
      truncationSide: settings.truncationSide,
      cleanUpTokenizationSpaces: settings.cleanUpTokenizationSpaces,
    });
  }

  /** Ids of one text without special tokens around it: special-token strings, else UTF-8 bytes + 6. */
  tokenize(text: string): number[] {
    const ids: number[] = [];
    let plainStart = 0;
    const flush = (end: number) => {
      if (end > plainStart)
        for (const byte of utf8.encode(text.slice(plainStart, end))) ids.push(byte + BYTE_OFFSET);
    };
    for (let i = 0; i < text.length; ) {
      const special = text[i] === '[' ? PERCEIVER_SPECIAL_TOKENS.findIndex((t) => text.startsWith(t, i)) : -1;
      if (special >= 0) {
        flush(i);
        ids.push(special);
        i += PERCEIVER_SPECIAL_TOKENS[special]!.length;
        plainStart = i;
      } else {
        i++;
      }
    }
    flush(text.length);
    return ids;
  }

  /**
   * transformers' `get_vocab()`: `chr(byte)` -> byte + 6 for the 256 bytes (a Latin-1 view: `'é'` is byte 0xE9,
   * not its UTF-8), and the special tokens by their text.
   */
  getVocab(): Map<string, number> {
    const vocab = new Map<string, number>();
    PERCEIVER_SPECIAL_TOKENS.forEach((token, id) => vocab.set(token, id));
    for (let byte = 0; byte < 256; byte++) vocab.set(String.fromCharCode(byte), byte + BYTE_OFFSET);
    return vocab;
  }

  /** HF `__call__`: texts (and optional pairs) -> int64 `input_ids` / `attention_mask` [batch, seq]. */
  encode(texts: TextInput, options: PerceiverEncodeOptions = {}): PerceiverEncoding {
    checkOptions(options, PERCEIVER_ENCODE_OPTIONS, 'PerceiverTokenizer.encode');
    const firsts = asTexts(texts, 'text');
    const pairs = options.textPair === undefined ? undefined : asTexts(options.textPair, 'textPair');
    if (firsts.length === 0) throw new InputShapeError('expected at least one text, got an empty list');
    if (pairs && pairs.length !== firsts.length) {
      throw new InputShapeError(
        `got ${firsts.length} texts but ${pairs.length} textPair entries: expected one pair per text`,
      );
    }
    const { padding, truncateTo, padTo } = resolveStrategy(options, this.modelMaxLength);
    const addSpecial = options.addSpecialTokens ?? true;
    const numSpecial = addSpecial ? (pairs ? 3 : 2) : 0;
    if (truncateTo !== undefined && truncateTo < numSpecial) {
      throw new InvalidArgumentError(
        `maxLength ${truncateTo} is too small: each sequence needs ${numSpecial} special tokens, so maxLength must be >= ${numSpecial}`,
      );
    }
    const rows: { ids: number[]; special: number[] }[] = firsts.map((text, i) => {
      let a = this.tokenize(text);
      let b = pairs ? this.tokenize(pairs[i]!) : undefined;
      if (truncateTo !== undefined) [a, b] = this.#truncate(a, b, truncateTo - numSpecial);
      return this.#withSpecialTokens(a, b, addSpecial);
    });
    const longest = Math.max(...rows.map((row) => row.ids.length));
    const seq = padding === 'max_length' ? padTo! : longest;
    rows.forEach((row, i) => {
      if (row.ids.length > seq) {
        throw new InputShapeError(
          `text[${i}] has ${row.ids.length} tokens, more than maxLength ${seq}, and truncation is off: pass truncation: true`,
        );
      }
      if (row.ids.length < seq && padding === 'do_not_pad') {
        throw new InputShapeError(
          `the texts have different lengths in tokens (${rows.map((r) => r.ids.length).join(', ')}) and padding is off: pass padding: true to get one [batch, seq] tensor`,
        );
      }
    });
    const ids = new BigInt64Array(rows.length * seq);
    const mask = new BigInt64Array(rows.length * seq);
    const special = new BigInt64Array(rows.length * seq).fill(1n);
    rows.forEach((row, i) => {
      const offset = i * seq + (this.paddingSide === 'left' ? seq - row.ids.length : 0);
      row.ids.forEach((id, j) => {
        ids[offset + j] = BigInt(id);
        mask[offset + j] = 1n;
        special[offset + j] = BigInt(row.special[j]!);
      });
    });
    const dims = [rows.length, seq];
    return {
      input_ids: new Tensor('int64', ids, dims),
      attention_mask: new Tensor('int64', mask, dims),
      ...(options.returnSpecialTokensMask ? { special_tokens_mask: new Tensor('int64', special, dims) } : {}),
    };
  }

  /** Token ids -> text: bytes joined and decoded as UTF-8 (U+FFFD for broken characters); special tokens as text. */
  decode(tokenIds: PerceiverTokenIds, options: PerceiverDecodeOptions = {}): string {
    checkOptions(options, PERCEIVER_DECODE_OPTIONS, 'PerceiverTokenizer.decode');
    const ids = this.#idList(tokenIds);
    const bytes: number[] = [];
    for (const id of ids) {
      if (id < BYTE_OFFSET) {
        if (!options.skipSpecialTokens)
          for (const byte of utf8.encode(PERCEIVER_SPECIAL_TOKENS[id]!)) bytes.push(byte);
      } else {
        bytes.push(id - BYTE_OFFSET);
      }
    }
    const text = utf8Decoder.decode(Uint8Array.from(bytes));
    return (options.cleanUpTokenizationSpaces ?? this.cleanUpTokenizationSpaces)
      ? cleanUpTokenization(text)
      : text;
  }

  /** Decodes each row of a [batch, seq] tensor, or each list of ids. */
  batchDecode(
    sequences: Tensor<'int64'> | Tensor<'int32'> | readonly (readonly (number | bigint)[])[],
    options: PerceiverDecodeOptions = {},
  ): string[] {
    if (Array.isArray(sequences)) return sequences.map((row) => this.decode(row, options));
    const tensor = sequences as Tensor<'int64'> | Tensor<'int32'>;
    if (tensor.rank !== 2) {
      throw new InputShapeError(
        `batchDecode expects [batch, seq] token ids, got [${tensor.dims.join(', ')}]`,
      );
    }
    const [batch, seq] = tensor.dims as [number, number];
    const rows: string[] = [];
    for (let b = 0; b < batch; b++) {
      rows.push(
        this.decode(
          Array.from(tensor.data.subarray(b * seq, (b + 1) * seq) as ArrayLike<number | bigint>),
          options,
        ),
      );
    }
    return rows;
  }

  #idList(tokenIds: PerceiverTokenIds): number[] {
    let values: ArrayLike<number | bigint>;
    if (tokenIds instanceof Tensor) {
      if (tokenIds.rank > 1 && !(tokenIds.rank === 2 && tokenIds.dims[0] === 1)) {
        throw new InputShapeError(
          `decode expects one sequence of token ids, got a tensor [${tokenIds.dims.join(', ')}]: use batchDecode`,
        );
      }
      values = tokenIds.data as ArrayLike<number | bigint>;
    } else {
      values = tokenIds;
    }
    return Array.from(values, (value, i) => {
      const id = Number(value);
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
        throw new InvalidArgumentError(
          `token id ${String(value)} at position ${i} is not a PerceiverTokenizer id (expected integers 0-${this.vocabSize - 1})`,
        );
      }
      return id;
    });
  }

  /**
   * transformers' longest_first truncation to `room` content ids: a single sequence is cut once; a pair loses
   * one id at a time from the longer sequence (from the second on ties).
   */
  #truncate(a: number[], b: number[] | undefined, room: number): [number[], number[] | undefined] {
    const cut = (ids: number[], n: number) =>
      this.truncationSide === 'right' ? ids.slice(0, ids.length - n) : ids.slice(n);
    const excess = a.length + (b?.length ?? 0) - room;
    if (excess <= 0) return [a, b];
    if (b === undefined) return [cut(a, excess), undefined];
    let [na, nb] = [a.length, b.length];
    for (let k = 0; k < excess; k++) {
      if (na > nb) na--;
      else nb--;
    }
    return [cut(a, a.length - na), cut(b, b.length - nb)];
  }

  #withSpecialTokens(
    a: number[],
    b: number[] | undefined,
    add: boolean,
  ): { ids: number[]; special: number[] } {
    if (!add) {
      const ids = b ? [...a, ...b] : a;
      return { ids, special: ids.map(() => 0) };
    }
    const ids = [CLS_ID, ...a, SEP_ID, ...(b ? [...b, SEP_ID] : [])];
    const special = [1, ...a.map(() => 0), 1, ...(b ? [...b.map(() => 0), 1] : [])];
    return { ids, special };
  }
}

/**
 * PerceiverTokenizer's Python keyword arguments (`{"padding": "max_length", "max_length": 32}`, as fixture
 * manifests write them) as `PerceiverEncodeOptions`. Unknown names throw, so nothing is silently ignored.
 */
export function encodeOptionsFromKwargs(kwargs: Readonly<Record<string, unknown>>): PerceiverEncodeOptions {
  return optionsFromKwargs<PerceiverEncodeOptions>(
    kwargs,
    {
      padding: 'padding',
      truncation: 'truncation',
      max_length: 'maxLength',
      add_special_tokens: 'addSpecialTokens',
      return_special_tokens_mask: 'returnSpecialTokensMask',
    },
    'PerceiverTokenizer',
  );
}

/** `decode` / `batch_decode` keyword arguments (`skip_special_tokens`, `clean_up_tokenization_spaces`). */
export function decodeOptionsFromKwargs(kwargs: Readonly<Record<string, unknown>>): PerceiverDecodeOptions {
  return optionsFromKwargs<PerceiverDecodeOptions>(
    kwargs,
    { skip_special_tokens: 'skipSpecialTokens', clean_up_tokenization_spaces: 'cleanUpTokenizationSpaces' },
    'decode',
  );
}
