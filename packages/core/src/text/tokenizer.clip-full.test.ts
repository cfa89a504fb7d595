import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fixturePath } from '../testing/fixtures.js';
import { loadFixture } from '../testing/manifest.js';
import { Tokenizer } from './tokenizer.js';

// The full-vocabulary CLIP tokenizer users load (CIDAS/clipseg-rd64-refined's files, 49408 tokens), next to the
// clipseg fixture's tokenizer, which is the same BPE cut to its first 2000 merges. Both vocabularies are built
// in the same order (256 bytes, the same with </w>, one token per merge, then the two special tokens), so ids
// below 2512 name the same token in both; only the special tokens move (2512/2513 -> 49406/49407).
const full = await Tokenizer.fromPretrained(
  join(dirname(fileURLToPath(import.meta.url)), '__fixtures__', 'clip-full'),
);
const small = await Tokenizer.fromPretrained(fixturePath('clipseg'));
const SMALL_SPECIAL = 2512;
const toFull = (id: number) => (id === 2512 ? 49406 : id === 2513 ? 49407 : id);

describe('the full CLIP tokenizer', () => {
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
