import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, InputShapeError, InvalidArgumentError, ModelNotFoundError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { fixturePath } from '../testing/fixtures.js';
import { type TokenizerFiles, readTokenizerFiles } from './tokenizer-files.js';
import { Tokenizer } from './tokenizer.js';

// CLIP ids of the clipseg fixture's small vocabulary: <|startoftext|> 2512, <|endoftext|> 2513 (also pad),
// "a" 320, "photo" 1125, "of" 539, "cat" 2368 (tokenizer-agreement case, "a photo of a cat").
const BOS = 2512;
const EOS = 2513;
const clipFiles = await readTokenizerFiles(fixturePath('clipseg'));
const altclipFiles = await readTokenizerFiles(fixturePath('altclip'));
const clip = new Tokenizer(clipFiles);
const altclip = new Tokenizer(altclipFiles);

/** The same files with tokenizer_config.json / special_tokens_map.json fields changed (undefined deletes). */
function withConfig(files: TokenizerFiles, changes: Record<string, unknown>): TokenizerFiles {
  const tokenizerConfig = structuredClone(files.tokenizerConfig);
  const specialTokensMap = structuredClone(files.specialTokensMap);
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) {
      delete tokenizerConfig[key];
      delete specialTokensMap[key];
    } else {
      tokenizerConfig[key] = value;
    }
  }
  return { ...files, tokenizerConfig, specialTokensMap };
}

function rows(tensor: Tensor): number[][] {
  const [batch, seq] = tensor.dims as [number, number];
  const values = tensor.toNumbers();
  return Array.from({ length: batch }, (_, i) => values.slice(i * seq, (i + 1) * seq));
}

describe('Tokenizer.fromPretrained', () => {
  it('reads model_max_length, padding side and special tokens from the config files', () => {
    expect(clip.tokenizerClass).toBe('CLIPTokenizer');
    expect(clip.modelMaxLength).toBe(77);
    expect(clip.paddingSide).toBe('right');
    expect(clip.truncationSide).toBe('right');
    expect([clip.bosToken, clip.bosTokenId]).toEqual(['<|startoftext|>', BOS]);
    expect([clip.eosToken, clip.eosTokenId]).toEqual(['<|endoftext|>', EOS]);
    expect([clip.padToken, clip.padTokenId]).toEqual(['<|endoftext|>', EOS]);
    expect(clip.vocabSize).toBe(2514);
    expect(clip.numSpecialTokens).toBe(2);
    expect([altclip.padTokenId, altclip.bosTokenId, altclip.eosTokenId, altclip.unkTokenId]).toEqual([
      1, 0, 2, 3,
    ]);
    expect(altclip.modelMaxLength).toBe(64);
    expect(altclip.vocabSize).toBe(1502);
  });

  const temp: string[] = [];
  afterAll(async () => {
    await Promise.all(temp.map((dir) => rm(dir, { recursive: true, force: true })));
  });
  async function folderWith(files: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'ortvision-tokenizer-'));
    temp.push(dir);
    await mkdir(dir, { recursive: true });
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    return dir;
  }

  it('fails with ModelNotFoundError for a missing folder or a folder without any tokenizer files', async () => {
    await expect(Tokenizer.fromPretrained('/no/such/folder')).rejects.toThrow(
      new ModelNotFoundError(
        "/no/such/folder is neither an existing folder nor a Hub model id ('org/name'); check the path",
      ),
    );
    const dir = await folderWith({ 'tokenizer_config.json': '{}' });
    await expect(Tokenizer.fromPretrained(dir)).rejects.toThrow(
      new ModelNotFoundError(
        `${dir} has no tokenizer.json and names no tokenizer_class (tokenizer_config.json) or known model_type (config.json); add tokenizer.json, or the slow files of vocab.json + merges.txt (CLIPTokenizer) or sentencepiece.bpe.model (XLMRobertaTokenizer)`,
      ),
    );
  });

  it('fails with ConfigError for files that are not JSON objects or not a tokenizer', async () => {
    const notJson = await folderWith({ 'tokenizer.json': '{"model": ' });
    await expect(Tokenizer.fromPretrained(notJson)).rejects.toThrow(ConfigError);
    await expect(Tokenizer.fromPretrained(notJson)).rejects.toThrow(
      `${join(notJson, 'tokenizer.json')} is not valid JSON`,
    );
    const array = await folderWith({ 'tokenizer.json': '[]' });
    await expect(Tokenizer.fromPretrained(array)).rejects.toThrow(
      new ConfigError(`${join(array, 'tokenizer.json')} must hold a JSON object, got []`),
    );
    const empty = await folderWith({ 'tokenizer.json': '{}' });
    await expect(Tokenizer.fromPretrained(empty)).rejects.toThrow(
      `${empty}/tokenizer.json cannot be loaded by @huggingface/tokenizers`,
    );
  });

  it('rejects a special token that is not in the vocabulary', () => {
    expect(
      () =>
        new Tokenizer(withConfig(withConfig(clipFiles, { pad_token: undefined }), { pad_token: '<nope>' })),
    ).toThrow(
      new ConfigError(`pad_token "<nope>" is not in the vocabulary of ${clipFiles.source}/tokenizer.json`),
    );
  });
});

describe('Tokenizer.encode', () => {
  it('gives int64 [batch, seq] tensors; a single string is a batch of one', () => {
    const { input_ids, attention_mask } = clip.encode('a photo of a cat');
    expect(input_ids.dtype).toBe('int64');
    expect(input_ids.dims).toEqual([1, 7]);
    expect(input_ids.toNumbers()).toEqual([BOS, 320, 1125, 539, 320, 2368, EOS]);
    expect(attention_mask.dtype).toBe('int64');
    expect(attention_mask.toNumbers()).toEqual([1, 1, 1, 1, 1, 1, 1]);
  });

  it("pads to the longest text with padding true / 'longest'", () => {
    for (const padding of [true, 'longest'] as const) {
      const { input_ids, attention_mask } = clip.encode(['a cat', 'a photo of a cat'], { padding });
      expect(rows(input_ids)).toEqual([
        [BOS, 320, 2368, EOS, EOS, EOS, EOS],
        [BOS, 320, 1125, 539, 320, 2368, EOS],
      ]);
      expect(rows(attention_mask)).toEqual([
        [1, 1, 1, 1, 0, 0, 0],
        [1, 1, 1, 1, 1, 1, 1],
      ]);
    }
  });

  it("pads to maxLength, or to model_max_length, with 'max_length'", () => {
    expect(clip.encode('a cat', { padding: 'max_length', maxLength: 6 }).input_ids.toNumbers()).toEqual([
      BOS,
      320,
      2368,
      EOS,
      EOS,
      EOS,
    ]);
    expect(clip.encode('a cat', { padding: 'max_length' }).input_ids.dims).toEqual([1, 77]);
  });

  it('truncates the text and keeps the special tokens', () => {
    const { input_ids, attention_mask } = clip.encode('a photo of a cat', { truncation: true, maxLength: 4 });
    expect(input_ids.toNumbers()).toEqual([BOS, 320, 1125, EOS]);
    expect(attention_mask.toNumbers()).toEqual([1, 1, 1, 1]);
    expect(clip.encode('a photo of a cat', { truncation: true, maxLength: 2 }).input_ids.toNumbers()).toEqual(
      [BOS, EOS],
    );
    // truncation without maxLength uses model_max_length
    const long = Array(100).fill('cat').join(' ');
    const truncated = clip.encode(long, { truncation: true }).input_ids.toNumbers();
    expect(truncated).toEqual([BOS, ...Array(75).fill(2368), EOS]);
  });

  it('turns truncation on when only maxLength is given (transformers does the same)', () => {
    expect(clip.encode('a photo of a cat', { maxLength: 4 }).input_ids.toNumbers()).toEqual([
      BOS,
      320,
      1125,
      EOS,
    ]);
    // ... but not together with padding
    expect(() => clip.encode('a photo of a cat', { maxLength: 4, padding: 'max_length' })).toThrow(
      new InputShapeError(
        'text[0] has 7 tokens, more than maxLength 4, and truncation is off: pass truncation: true',
      ),
    );
  });

  it('adds no special tokens with addSpecialTokens false, and truncates to maxLength text tokens', () => {
    expect(clip.encode('a photo of a cat', { addSpecialTokens: false }).input_ids.toNumbers()).toEqual([
      320, 1125, 539, 320, 2368,
    ]);
    expect(
      clip.encode('a photo of a cat', { addSpecialTokens: false, maxLength: 2 }).input_ids.toNumbers(),
    ).toEqual([320, 1125]);
    expect(
      clip.encode('', { addSpecialTokens: false, padding: 'max_length', maxLength: 1 }).input_ids.toNumbers(),
    ).toEqual([EOS]);
  });

  it('follows padding_side and truncation_side from tokenizer_config.json', () => {
    const left = new Tokenizer(withConfig(clipFiles, { padding_side: 'left', truncation_side: 'left' }));
    const { input_ids, attention_mask } = left.encode(['a cat', 'a photo of a cat'], { padding: true });
    expect(rows(input_ids)[0]).toEqual([EOS, EOS, EOS, BOS, 320, 2368, EOS]);
    expect(rows(attention_mask)[0]).toEqual([0, 0, 0, 1, 1, 1, 1]);
    expect(left.encode('a photo of a cat', { truncation: true, maxLength: 4 }).input_ids.toNumbers()).toEqual(
      [BOS, 320, 2368, EOS],
    );
  });

  it('pads XLM-R with <pad> (1) and keeps <s> ... </s> when truncating', () => {
    const { input_ids, attention_mask } = altclip.encode(['a photo of a cat', 'a'], { padding: true });
    const [first, second] = rows(input_ids) as [number[], number[]];
    expect(first[0]).toBe(0);
    expect(first.at(-1)).toBe(2);
    const length = first.length;
    expect(second.slice(second.indexOf(2) + 1)).toEqual(Array(length - second.indexOf(2) - 1).fill(1));
    expect(rows(attention_mask)[1]).toEqual(second.map((id) => (id === 1 ? 0 : 1)));
    const cut = altclip.encode('a photo of a cat', { truncation: true, maxLength: 3 }).input_ids.toNumbers();
    expect(cut).toEqual([0, first[1], 2]);
  });

  it('without padding, refuses texts of different lengths (they make no tensor)', () => {
    expect(() => clip.encode(['a cat', 'a photo of a cat'])).toThrow(
      new InputShapeError(
        'the texts have different lengths in tokens (4, 7) and padding is off: pass padding: true to get one [batch, seq] tensor',
      ),
    );
    expect(clip.encode(['a cat', 'a dog']).input_ids.dims).toEqual([2, 4]);
  });

  it('rejects texts that are not strings, and an empty batch', () => {
    expect(() => clip.encode(['a cat', 5 as unknown as string])).toThrow(
      new InvalidArgumentError('text[1] must be a string, got number 5'),
    );
    expect(() => clip.encode([['a cat']] as unknown as string[])).toThrow(
      new InvalidArgumentError(
        'text[0] must be a string, got an array (nested lists of queries are a processor input, e.g. Owlv2Processor)',
      ),
    );
    expect(() => clip.encode([])).toThrow(
      new InvalidArgumentError('text is an empty array: encode needs at least one string'),
    );
    expect(() => clip.encode(undefined as unknown as string)).toThrow(
      new InvalidArgumentError('text must be a string or an array of strings, got undefined undefined'),
    );
  });

  it('rejects a maxLength smaller than the special tokens need', () => {
    expect(() => clip.encode('a cat', { truncation: true, maxLength: 1 })).toThrow(
      new InvalidArgumentError(
        'maxLength 1 is too small: each sequence needs 2 special tokens, so maxLength must be >= 2',
      ),
    );
    expect(() => clip.encode('a cat', { padding: 'max_length', maxLength: 1 })).toThrow(InvalidArgumentError);
    expect(clip.encode('a cat', { addSpecialTokens: false, maxLength: 1 }).input_ids.toNumbers()).toEqual([
      320,
    ]);
  });

  it('rejects option values it does not know', () => {
    expect(() => clip.encode('a', { maxLength: 0 })).toThrow(
      new InvalidArgumentError('maxLength must be a positive integer, got 0'),
    );
    expect(() => clip.encode('a', { maxLength: 2.5 })).toThrow(
      new InvalidArgumentError('maxLength must be a positive integer, got 2.5'),
    );
    expect(() => clip.encode('a', { padding: 'max' as 'max_length' })).toThrow(
      new InvalidArgumentError(
        `padding must be true, false, 'longest', 'max_length' or 'do_not_pad', got "max"`,
      ),
    );
    expect(() => clip.encode('a', { truncation: 'only_second' as 'longest_first' })).toThrow(
      new InvalidArgumentError(
        `truncation must be true, false, 'longest_first' or 'do_not_truncate', got "only_second"`,
      ),
    );
    expect(() => clip.encode('a', { addSpecialTokens: 'yes' as unknown as boolean })).toThrow(
      new InvalidArgumentError('addSpecialTokens must be a boolean, got string "yes"'),
    );
  });

  it('cannot pad without a pad token', () => {
    const noPad = new Tokenizer(withConfig(clipFiles, { pad_token: undefined }));
    expect(noPad.padTokenId).toBeUndefined();
    expect(() => noPad.encode(['a cat', 'a dog'], { padding: true })).toThrow(
      new InvalidArgumentError(
        'cannot pad with padding true: the tokenizer has no pad_token (tokenizer_config.json / special_tokens_map.json); pass padding: false',
      ),
    );
    expect(noPad.encode(['a cat', 'a dog']).input_ids.dims).toEqual([2, 4]);
  });

  it('without model_max_length, needs maxLength to pad to max_length and does not truncate', () => {
    const unlimited = new Tokenizer(withConfig(clipFiles, { model_max_length: 1e30 }));
    expect(unlimited.modelMaxLength).toBe(Number.POSITIVE_INFINITY);
    expect(() => unlimited.encode('a cat', { padding: 'max_length' })).toThrow(
      new InvalidArgumentError(
        "padding 'max_length' needs maxLength: this tokenizer's tokenizer_config.json sets no model_max_length",
      ),
    );
    const long = Array(100).fill('cat').join(' ');
    expect(unlimited.encode(long, { truncation: true }).input_ids.dims).toEqual([1, 102]);
  });
});

describe('Tokenizer.decode / batchDecode', () => {
  const ids = [BOS, 320, 1125, 539, 320, 2368, EOS];

  it('refuses misspelled encode and decode options, naming the closest one', () => {
    expect(() => clip.decode(ids, { skipSpecialToken: true } as never)).toThrow(
      "unknown option 'skipSpecialToken' for Tokenizer.decode (did you mean 'skipSpecialTokens'?)",
    );
    expect(() => clip.encode('a cat', { max_length: 4 } as never)).toThrow(
      "unknown option 'max_length' for Tokenizer.encode (did you mean 'maxLength'?)",
    );
  });

  it('decodes numbers, bigints and 1-D tensors', () => {
    expect(clip.decode(ids, { skipSpecialTokens: true })).toBe('a photo of a cat');
    expect(clip.decode(ids.map(BigInt), { skipSpecialTokens: true })).toBe('a photo of a cat');
    expect(
      clip.decode(new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [7]), { skipSpecialTokens: true }),
    ).toBe('a photo of a cat');
    expect(clip.decode([])).toBe('');
  });

  it('keeps special tokens unless asked, as the slow CLIPTokenizer writes them', () => {
    // slow CLIPTokenizer: "".join(tokens), "</w>" -> " ", strip(): the special tokens are glued to the words
    expect(clip.decode(ids)).toBe('<|startoftext|>a photo of a cat <|endoftext|>');
  });

  it('cleans up tokenization spaces by default (clean_up_tokenization_spaces: true)', () => {
    const question = clip.encode("it's a cat?", { addSpecialTokens: false }).input_ids.toNumbers();
    expect(clip.decode(question)).toBe("it's a cat?");
    expect(clip.decode(question, { cleanUpTokenizationSpaces: false })).toBe("it 's a cat ?");
  });

  it('strips the text as the slow XLMRobertaTokenizer does when skipped <unk>s leave spaces at the ends', () => {
    // "▁" (4), <unk> (3), "▁and" (68), "▁" (4), <unk> (3): slow "  and " -> strip() -> "and"; the Metaspace
    // decoder alone would give " and "
    expect([altclip.idToToken(4), altclip.idToToken(3), altclip.idToToken(68)]).toEqual([
      '▁',
      '<unk>',
      '▁and',
    ]);
    expect(altclip.decode([4, 3, 68, 4, 3], { skipSpecialTokens: true })).toBe('and');
  });

  it('decodes each row of a [batch, seq] tensor, padding included', () => {
    const { input_ids } = clip.encode(['a cat', 'a photo of a cat'], { padding: true });
    expect(clip.batchDecode(input_ids, { skipSpecialTokens: true })).toEqual(['a cat', 'a photo of a cat']);
    expect(clip.batchDecode([[320, 2368], [2368n]])).toEqual(['a cat', 'cat']);
  });

  it('rejects ids outside the vocabulary and tensors of the wrong rank', () => {
    expect(() => clip.decode([320, 2514])).toThrow(
      new InvalidArgumentError('token id 2514 at position 1 is not in the vocabulary (ids 0..2513)'),
    );
    expect(() => clip.decode([-1])).toThrow(InvalidArgumentError);
    expect(() => clip.decode([1.5])).toThrow(InvalidArgumentError);
    const batch = clip.encode(['a cat']).input_ids;
    expect(() => clip.decode(batch)).toThrow(
      new InputShapeError(
        'decode takes one sequence of ids (a 1-D tensor), got shape [1, 4]; use batchDecode for [batch, seq]',
      ),
    );
    expect(() => clip.batchDecode(batch.reshape([4]))).toThrow(
      new InputShapeError('batchDecode takes [batch, seq] ids, got shape [4]'),
    );
  });
});
