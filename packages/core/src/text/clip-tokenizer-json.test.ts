import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { readJsonObject } from '../hub/read-json.js';
import { fixturePath } from '../testing/fixtures.js';
import { asClipJson } from './__fixtures__/clip-json.js';
import { type ClipSlowFiles, clipTokenizerJson, parseClipMerges } from './clip-tokenizer-json.js';

async function fixtureFiles(name: string): Promise<ClipSlowFiles> {
  const dir = fixturePath(name);
  return {
    vocab: await readJsonObject(`${dir}/vocab.json`),
    merges: await readFile(`${dir}/merges.txt`, 'utf8'),
    tokenizerConfig: await readJsonObject(`${dir}/tokenizer_config.json`),
    specialTokensMap: await readJsonObject(`${dir}/special_tokens_map.json`),
    source: dir,
  };
}

/** A few-token CLIP vocabulary: enough to build a tokenizer.json from. */
const tinyVocab = {
  a: 0,
  b: 1,
  'a</w>': 2,
  'b</w>': 3,
  'ab</w>': 4,
  '<|startoftext|>': 5,
  '<|endoftext|>': 6,
};
const tiny = (changes: Partial<ClipSlowFiles> = {}): ClipSlowFiles => ({
  vocab: tinyVocab,
  merges: '#version: 0.2\na b</w>\n',
  tokenizerConfig: {},
  specialTokensMap: {},
  source: 'dir',
  ...changes,
});

describe('parseClipMerges', () => {
  it('skips the header line and reads "a b" pairs in rank order, as CLIPTokenizer', () => {
    expect(parseClipMerges('#version: 0.2\ni n\nt h\r\nth e</w>\n\n', 'dir')).toEqual([
      'i n',
      't h',
      'th e</w>',
    ]);
    // the first line is dropped whatever it holds, as CLIPTokenizer's [1:] slice does
    expect(parseClipMerges('i n\nt h', 'dir')).toEqual(['t h']);
  });

  it('keeps the first rank of a pair listed twice, and at most 48894 merges', () => {
    expect(parseClipMerges('#\na b\nc d\na b\ne f', 'dir')).toEqual(['a b', 'c d', 'e f']);
    const many = ['#version: 0.2', ...Array.from({ length: 50000 }, (_, i) => `x${i} y`)].join('\n');
    const merges = parseClipMerges(many, 'dir');
    expect(merges.length).toBe(48894);
    expect(merges.at(-1)).toBe('x48893 y');
  });

  it('rejects a line that is not two tokens, naming the file and line', () => {
    expect(() => parseClipMerges('#version: 0.2\na b\na b c\n', 'dir')).toThrow(
      new ConfigError('dir/merges.txt line 3: expected two tokens separated by a space, got "a b c"'),
    );
    expect(() => parseClipMerges('#version: 0.2\n\na b', 'dir')).toThrow(/line 2: expected two tokens/);
  });
});

describe('clipTokenizerJson', () => {
  it.each(['clipseg', 'owlv2'])(
    "is the %s fixture's tokenizer.json but for what that hand-written file spells differently",
    async (name) => {
      const built = asClipJson(clipTokenizerJson(await fixtureFiles(name)));
      const fixture = asClipJson(await readJsonObject(fixturePath(name, 'tokenizer.json')));
      // The fixture's file has the Hub's layout: the special tokens in front of CLIP's split pattern (they never
      // match there: added tokens are split off first) and no use_regex / byte_fallback, whose defaults (true /
      // false) the converter writes out
      const split = fixture.pre_tokenizer.pretokenizers[0].pattern;
      const pattern = built.pre_tokenizer.pretokenizers[0].pattern.Regex;
      expect(split.Regex).toBe(`<\\|startoftext\\|>|<\\|endoftext\\|>|${pattern}`);
      split.Regex = pattern;
      expect([fixture.pre_tokenizer.pretokenizers[1].use_regex, fixture.decoder.use_regex]).toEqual([
        undefined,
        undefined,
      ]);
      expect(fixture.model.byte_fallback).toBeUndefined();
      fixture.pre_tokenizer.pretokenizers[1].use_regex = true;
      fixture.decoder.use_regex = true;
      fixture.model.byte_fallback = false;
      expect(built).toEqual(fixture);
    },
  );

  it("marks CLIPTokenizer's bos/eos/unk normalized when the configs name them as strings (and the pad not)", () => {
    const json = asClipJson(clipTokenizerJson(tiny({ specialTokensMap: { pad_token: 'b</w>' } })));
    const flags = { single_word: false, lstrip: false, rstrip: false, special: true };
    expect(json.added_tokens).toEqual([
      { id: 3, content: 'b</w>', ...flags, normalized: false },
      { id: 5, content: '<|startoftext|>', ...flags, normalized: true },
      { id: 6, content: '<|endoftext|>', ...flags, normalized: true },
    ]);
    expect(json.post_processor).toEqual({
      type: 'RobertaProcessing',
      sep: ['<|endoftext|>', 6],
      cls: ['<|startoftext|>', 5],
      trim_offsets: false,
      add_prefix_space: false,
    });
    expect(json.model.unk_token).toBe('<|endoftext|>');
    expect(json.model.merges).toEqual(['a b</w>']);
  });

  it('keeps the switches and ids tokenizer_config.json saves in added_tokens_decoder', () => {
    const saved = {
      content: '<|endoftext|>',
      lstrip: true,
      normalized: false,
      rstrip: false,
      single_word: false,
    };
    const json = asClipJson(
      clipTokenizerJson(
        tiny({
          tokenizerConfig: {
            added_tokens_decoder: { '6': { ...saved, special: false } },
            eos_token: '<|endoftext|>',
          },
        }),
      ),
    );
    // named as a special token, so special; the saved switches stay
    expect(json.added_tokens[1]).toEqual({ id: 6, ...saved, special: true });
  });

  it('gives special tokens the vocabulary lacks the ids after it', () => {
    const json = asClipJson(
      clipTokenizerJson(
        tiny({
          specialTokensMap: { bos_token: '<bos>', additional_special_tokens: ['<x>', { content: '<y>' }] },
        }),
      ),
    );
    expect(json.added_tokens.map((t) => [t.id, t.content])).toEqual([
      [6, '<|endoftext|>'],
      [7, '<bos>'],
      [8, '<x>'],
      [9, '<y>'],
    ]);
    expect(json.post_processor.cls).toEqual(['<bos>', 7]);
  });

  it('rejects vocabularies and configs it cannot build from, naming the file', () => {
    expect(() => clipTokenizerJson(tiny({ vocab: { a: '0' } }))).toThrow(
      new ConfigError('dir/vocab.json: the id of "a" must be a non-negative integer, got "0"'),
    );
    expect(() => clipTokenizerJson(tiny({ tokenizerConfig: { eos_token: null } }))).toThrow(
      new ConfigError('dir/tokenizer_config.json: eos_token is null, but a CLIP tokenizer needs one'),
    );
    expect(() =>
      clipTokenizerJson(tiny({ tokenizerConfig: { added_tokens_decoder: { '9': { content: 'a</w>' } } } })),
    ).toThrow(
      new ConfigError(
        'dir/tokenizer_config.json: added_tokens_decoder gives "a</w>" id 9, but the vocabulary has it at id 2',
      ),
    );
    expect(() =>
      clipTokenizerJson(tiny({ tokenizerConfig: { added_tokens_decoder: { '1': { content: '<new>' } } } })),
    ).toThrow(/gives "<new>" id 1, which the vocabulary uses for another token/);
    expect(() =>
      clipTokenizerJson(tiny({ tokenizerConfig: { added_tokens_decoder: { x: { content: 'a' } } } })),
    ).toThrow(/added_tokens_decoder\["x"\]: the key must be a token id/);
    expect(() =>
      clipTokenizerJson(tiny({ specialTokensMap: { bos_token: { content: '<s>', lstrip: 'yes' } } })),
    ).toThrow(new ConfigError('special_tokens_map.json: bos_token: lstrip must be a boolean, got "yes"'));
  });
});
