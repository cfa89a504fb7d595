import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../testing/fixtures.js';
import { loadFixture } from '../testing/manifest.js';
import { prng } from '../testing/prng.js';
import { asClipJson } from './__fixtures__/clip-json.js';
import { readTokenizerFiles } from './tokenizer-files.js';
import { Tokenizer } from './tokenizer.js';

// The full-vocabulary CLIP tokenizer users load (CIDAS/clipseg-rd64-refined's files, 49408 tokens), next to the
// clipseg fixture's tokenizer, which is the same BPE cut to its first 2000 merges. Both vocabularies are built
// in the same order (256 bytes, the same with </w>, one token per merge, then the two special tokens), so ids
// below 2512 name the same token in both; only the special tokens move (2512/2513 -> 49406/49407).
// The folder holds the Hub repository's vocab.json + merges.txt (what CIDAS and OWLv2 ship) and the tokenizer.json
// transformers' CLIPTokenizerFast uses: every test runs on both.
const fullFolder = join(dirname(fileURLToPath(import.meta.url)), '__fixtures__', 'clip-full');
const temp = await mkdtemp(join(tmpdir(), 'ortvision-clip-full-'));
afterAll(() => rm(temp, { recursive: true, force: true }));

/** A copy of the full CLIP files without tokenizer.json, with other config files where given. */
async function slowFolder(name: string, configs: Record<string, object> = {}): Promise<string> {
  const dir = join(temp, name);
  await cp(fullFolder, dir, { recursive: true, filter: (src) => !src.endsWith('tokenizer.json') });
  for (const [file, json] of Object.entries(configs)) await writeFile(join(dir, file), JSON.stringify(json));
  return dir;
}

const fromJsonFiles = await readTokenizerFiles(fullFolder);
const fromSlowFiles = await readTokenizerFiles(await slowFolder('clipseg'));
const fromJson = new Tokenizer(fromJsonFiles);
const fromSlow = new Tokenizer(fromSlowFiles);
const small = await Tokenizer.fromPretrained(fixturePath('clipseg'));
const SMALL_SPECIAL = 2512;
const toFull = (id: number) => (id === 2512 ? 49406 : id === 2513 ? 49407 : id);

describe.each([
  { from: 'tokenizer.json', full: fromJson },
  { from: 'vocab.json + merges.txt', full: fromSlow },
])('the full CLIP tokenizer from $from', ({ full }) => {
  it('has CLIP special token ids and model_max_length 77', () => {
    expect(full.vocabSize).toBe(49408);
    expect([full.bosToken, full.bosTokenId]).toEqual(['<|startoftext|>', 49406]);
    expect([full.eosToken, full.eosTokenId]).toEqual(['<|endoftext|>', 49407]);
    expect(full.padTokenId).toBe(49407);
    expect(full.modelMaxLength).toBe(77);
  });

  it('names the same token as the small vocabulary for every id below 2512', () => {
    for (let id = 0; id < SMALL_SPECIAL; id++) expect(full.idToToken(id)).toBe(small.idToToken(id));
  });

  it('gives the fixture ids wherever the full merges add nothing (tokenizer-agreement strings)', async () => {
    const fixture = await loadFixture(fixturePath('clipseg'));
    const agreement = fixture.manifest.pipeline.find((c) => c.name === 'tokenizer-agreement')!;
    const texts = agreement.inputs.text as string[];
    const expected = agreement.expected as number[][];
    let compared = 0;
    texts.forEach((text, i) => {
      const ids = full.encode(text).input_ids.toNumbers();
      // BPE applies merges by rank; when no merge past the first 2000 fires, both tokenizers take the same steps
      if (ids.slice(1, -1).every((id) => id < SMALL_SPECIAL)) {
        compared++;
        expect(ids, JSON.stringify(text)).toEqual(expected[i]!.map(toFull));
      }
    });
    expect(compared).toBeGreaterThanOrEqual(50);
  });

  it('knows whole words past the small vocabulary', () => {
    expect(full.encode('Hello world').input_ids.toNumbers()).toEqual([49406, 3306, 1002, 49407]);
    expect([full.idToToken(3306), full.idToToken(1002)]).toEqual(['hello</w>', 'world</w>']);
    const astronaut = full.encode('a photo of an astronaut riding a horse').input_ids.toNumbers();
    expect(astronaut).toEqual([49406, 320, 1125, 539, 550, 18376, 6765, 320, 4558, 49407]);
    expect(full.decode(astronaut, { skipSpecialTokens: true })).toBe(
      'a photo of an astronaut riding a horse',
    );
  });

  it('pads a batch to 77 and truncates long prompts keeping the final <|endoftext|>', () => {
    const long = Array(200).fill('astronaut').join(' ');
    const { input_ids, attention_mask } = full.encode(['a cat', long], {
      padding: 'max_length',
      truncation: true,
    });
    expect(input_ids.dims).toEqual([2, 77]);
    const ids = input_ids.toNumbers();
    expect(ids.slice(0, 4)).toEqual([49406, 320, 2368, 49407]);
    expect(ids.slice(4, 77)).toEqual(Array(73).fill(49407));
    expect(ids.slice(77)).toEqual([49406, ...Array(75).fill(18376), 49407]);
    expect(attention_mask.toNumbers().slice(0, 77)).toEqual([1, 1, 1, 1, ...Array(73).fill(0)]);
  });
});

describe('the CLIP tokenizer built from vocab.json + merges.txt', () => {
  it('is the Hub tokenizer.json but for the special tokens in the split pattern', () => {
    const built = asClipJson(structuredClone(fromSlowFiles.tokenizerJson));
    const hub = asClipJson(structuredClone(fromJsonFiles.tokenizerJson));
    // transformers 4.37.2's CLIPConverter splits with CLIP's pattern without the two special tokens (added tokens
    // are split off before pre-tokenization, so that alternative never matches); the Hub file has them in front
    const split = hub.pre_tokenizer.pretokenizers[0].pattern;
    const pattern = built.pre_tokenizer.pretokenizers[0].pattern.Regex;
    expect(split.Regex).toBe(`<\\|startoftext\\|>|<\\|endoftext\\|>|${pattern}`);
    split.Regex = pattern;
    expect(built.model.merges.length).toBe(48894);
    expect(Object.keys(built.model.vocab).length).toBe(49408);
    expect(built).toEqual(hub);
  });

  const texts = variedStrings();
  it(`gives the ids of the Hub tokenizer.json on ${texts.length} varied strings, and decodes them alike`, () => {
    expect(texts.length).toBeGreaterThanOrEqual(300);
    for (const text of texts) {
      const expected = fromJson.encode(text).input_ids.toNumbers();
      const ids = fromSlow.encode(text).input_ids.toNumbers();
      expect(ids, JSON.stringify(text)).toEqual(expected);
      expect(fromSlow.decode(ids), JSON.stringify(text)).toBe(fromJson.decode(expected));
      expect(fromSlow.decode(ids, { skipSpecialTokens: true })).toBe(
        fromJson.decode(expected, { skipSpecialTokens: true }),
      );
    }
  });

  it('splits special tokens off in any case, as the slow CLIPTokenizer (they are matched after lowercasing)', () => {
    expect(fromSlow.encode('a<|ENDOFTEXT|>b <|StartOfText|>').input_ids.toNumbers()).toEqual([
      49406, 320, 49407, 321, 49406, 49407,
    ]);
  });
});

describe('OWLv2\'s CLIP tokenizer (pad token "!", 16 tokens)', async () => {
  // google/owlv2-base-patch16-ensemble ships the same vocab.json + merges.txt with these configs
  const owlv2 = await Tokenizer.fromPretrained(
    await slowFolder('owlv2', {
      'tokenizer_config.json': {
        add_prefix_space: false,
        bos_token: '<|startoftext|>',
        clean_up_tokenization_spaces: true,
        do_lower_case: true,
        eos_token: '<|endoftext|>',
        errors: 'replace',
        model_max_length: 16,
        pad_token: '!',
        processor_class: 'Owlv2Processor',
        tokenizer_class: 'CLIPTokenizer',
        unk_token: '<|endoftext|>',
      },
      'special_tokens_map.json': {
        bos_token: '<|startoftext|>',
        eos_token: '<|endoftext|>',
        pad_token: '!',
        unk_token: '<|endoftext|>',
      },
    }),
  );

  it('pads with "!" (id 0) to 16 tokens', () => {
    expect([owlv2.padToken, owlv2.padTokenId, owlv2.modelMaxLength]).toEqual(['!', 0, 16]);
    const { input_ids, attention_mask } = owlv2.encode(['a photo of a cat'], { padding: 'max_length' });
    expect(input_ids.toNumbers()).toEqual([49406, 320, 1125, 539, 320, 2368, 49407, ...Array(9).fill(0)]);
    expect(attention_mask.toNumbers()).toEqual([...Array(7).fill(1), ...Array(9).fill(0)]);
  });

  it('treats "!" in a text as the special pad token, as transformers does', () => {
    // transformers registers every special token as an added token (PreTrainedTokenizerFast.__init__, and the slow
    // tokenizer's _add_tokens): "!" is split off before BPE and keeps its vocabulary id 0 ("!"), where CLIP's own
    // BPE gives "!</w>" (256); decoding with skip_special_tokens then drops it
    const ids = owlv2.encode('hello!').input_ids.toNumbers();
    expect(ids).toEqual([49406, 3306, 0, 49407]);
    expect(fromJson.encode('hello!').input_ids.toNumbers()).toEqual([49406, 3306, 256, 49407]);
    expect(owlv2.decode(ids, { skipSpecialTokens: true })).toBe('hello');
  });
});

/**
 * A few hundred strings for comparing two CLIP tokenizers: handwritten edge cases, then seeded random mixtures of
 * words, accents (NFC and NFD), CJK, emoji, other scripts, digits, punctuation, whitespace runs and special tokens.
 */
function variedStrings(): string[] {
  const handwritten = [
    '',
    ' ',
    '   ',
    '\t\n\r\n',
    'a',
    'A photo of a CAT',
    "it's, I'M, we'll, they'd, you've, don't, O'Neil",
    'supercalifragilisticexpialidocious',
    'pneumonoultramicroscopicsilicovolcanoconiosis'.repeat(3),
    'a'.repeat(300),
    '1234567890'.repeat(5),
    '3.14159 2,718 1e-9 0x1F #42 @user $9.99 50%',
    'https://huggingface.co/CIDAS/clipseg-rd64-refined?x=1&y=2#top',
    'café naïve résumé crème brûlée Ångström façade jalapeño',
    'cafe\u0301 nai\u0308ve A\u030angstro\u0308m',
    'Straße ŒUVRE Ærøskøbing Łódź Dvořák',
    '猫 一只猫 这是一张猫的照片。',
    'これは猫の写真です ｶﾀｶﾅ ＡＢＣ　全角',
    '한국어 텍스트 고양이',
    'Русский текст Ελληνικά עברית العربية हिन्दी ไทย',
    '🐱🐶 emoji 👍🏽 👨‍👩‍👧‍👦 🇯🇵 ❤️',
    'zero\u200bwidth soft\u00adhyphen nbsp\u00a0here ideographic\u3000space line\u2028sep',
    'multiple     spaces\t\ttabs\n\nnewlines  \r\n  ',
    '<|startoftext|>',
    '<|endoftext|>',
    '<|startoftext|>a photo<|endoftext|>',
    'a<|endoftext|>b',
    '<|ENDOFTEXT|> <|StartOfText|> <|endoftext',
    '<|notaspecial|> <| |> <|>',
    '...!!!???;;;:::',
    '(a) [b] {c} <d> "e" \'f\' `g` ~h^ |i| \\j/',
    'C++ & C# || a&&b a->b a=>b',
    'ctrl\u0007char bell\u001bescape',
    '\ufeffbom',
    '𝕳𝖊𝖑𝖑𝖔 𝐛𝐨𝐥𝐝',
    'ﬁnance ﬂow ① ⅷ x² H₂O',
  ];
  const words = [
    'a',
    'photo',
    'of',
    'cat',
    'remote',
    'control',
    'couch',
    'astronaut',
    'riding',
    'horse',
    'the',
  ];
  const pools = [
    words,
    ['Café', 'NAÏVE', 'señor', 'über', 'Zoë', 'garçon', 'ÉCOLE', 'cafe\u0301', 'smörgåsbord'],
    ['猫', '犬', '写真', '東京', 'ねこ', 'カメラ', '사진', '中文', '日本語'],
    ['🐱', '🚗', '👍🏽', '🇫🇷', '✨', '🏳️‍🌈', '😀😃😄'],
    ['Привет', 'Γειά', 'שלום', 'مرحبا', 'नमस्ते', 'สวัสดี'],
    ['0', '7', '42', '2024', '3.5', '1,000', '10:30pm', '1st', 'v1.2.3'],
    ['!', '?', '...', ',', ';', '-', '--', '—', '&', '#', '@', '%', '"', "'s", "'LL", '(', ')'],
    ['<|startoftext|>', '<|endoftext|>', '<|ENDOFTEXT|>', '<|EndOfText|>'],
    ['x'.repeat(40), 'abcdefghijklmnopqrstuvwxyz', 'antidisestablishmentarianism'],
  ];
  const spaces = [' ', ' ', ' ', '', '  ', '\t', '\n', '\r\n', '\u00a0', '\u3000', '   '];
  const random = prng(0xc11f);
  const generated = Array.from({ length: 320 }, () => {
    let text = '';
    const parts = 1 + random.int(10);
    for (let i = 0; i < parts; i++) {
      let word = random.pick(random.next() < 0.4 ? pools[0]! : random.pick(pools));
      const letterCase = random.next();
      if (letterCase < 0.15) word = word.toUpperCase();
      else if (letterCase < 0.3) word = word.charAt(0).toUpperCase() + word.slice(1);
      text += (i > 0 ? random.pick(spaces) : '') + word;
    }
    if (random.next() < 0.1) text = ` ${text}  `;
    if (random.next() < 0.1) text = text.normalize('NFD');
    return text;
  });
  return [...handwritten, ...generated];
}
