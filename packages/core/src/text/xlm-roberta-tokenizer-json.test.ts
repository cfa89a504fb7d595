import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { readJsonObject } from '../hub/read-json.js';
import { fixturePath } from '../testing/fixtures.js';
import {
  type TestModelSpec,
  sentencePieceModelBytes,
  tinyXlmrPieces,
} from './__fixtures__/sentencepiece-bytes.js';
import { readSentencePieceModel } from './sentencepiece-model.js';
import { Tokenizer } from './tokenizer.js';
import { xlmRobertaTokenizerJson } from './xlm-roberta-tokenizer-json.js';

const modelFile = 'sentencepiece.bpe.model';

function tinyJson(spec: Partial<TestModelSpec> = {}, configs: Record<string, unknown> = {}) {
  const model = readSentencePieceModel(
    sentencePieceModelBytes({ pieces: tinyXlmrPieces, ...spec }),
    modelFile,
  );
  return xlmRobertaTokenizerJson({
    model,
    modelFile,
    tokenizerConfig: { tokenizer_class: 'XLMRobertaTokenizer', ...configs },
    specialTokensMap: {},
    source: 'dir',
  });
}

describe('xlmRobertaTokenizerJson', () => {
  it("is the altclip fixture's tokenizer.json (XLMRobertaConverter, tokenizers 0.15 layout), field for field", async () => {
    const dir = fixturePath('altclip');
    const built = xlmRobertaTokenizerJson({
      model: readSentencePieceModel(await readFile(`${dir}/${modelFile}`), modelFile),
      modelFile,
      tokenizerConfig: await readJsonObject(`${dir}/tokenizer_config.json`),
      specialTokensMap: await readJsonObject(`${dir}/special_tokens_map.json`),
      source: dir,
    });
    expect(built).toEqual(await readJsonObject(`${dir}/tokenizer.json`));
  });

  it('shifts the pieces by one behind fairseq <s> <pad> </s> <unk>, with <mask> last', () => {
    const json = tinyJson() as { model: { vocab: [string, number][]; unk_id: number } };
    expect(json.model.unk_id).toBe(3);
    expect(json.model.vocab).toEqual([
      ['<s>', 0],
      ['<pad>', 0],
      ['</s>', 0],
      ['<unk>', 0],
      ['\u2581', -2],
      ['\u2581a', -3],
      ['a', -4],
      ['\u2581cat', -5],
      ['c', -6],
      ['t', -6.5],
      ['<mask>', 0],
    ]);
  });

  it("gives XLMRobertaTokenizer's special tokens when the configs name them as strings (<mask> strips left)", () => {
    const json = tinyJson() as { added_tokens: unknown[]; normalizer: { normalizers: { type: string }[] } };
    const flags = { single_word: false, rstrip: false, normalized: false, special: true };
    expect(json.added_tokens).toEqual([
      { id: 0, content: '<s>', lstrip: false, ...flags },
      { id: 1, content: '<pad>', lstrip: false, ...flags },
      { id: 2, content: '</s>', lstrip: false, ...flags },
      { id: 3, content: '<unk>', lstrip: false, ...flags },
      { id: 10, content: '<mask>', lstrip: true, ...flags },
    ]);
    // a model without a precompiled charsmap (identity normalization) has no Precompiled step
    expect(json.normalizer.normalizers.map((n) => n.type)).toEqual(['Strip', 'Replace']);
  });

  it('tokenizes with the fairseq ids', () => {
    const tokenizer = new Tokenizer({
      source: 'dir',
      tokenizerJson: tinyJson(),
      tokenizerJsonFrom: modelFile,
      tokenizerConfig: {},
      specialTokensMap: { bos_token: '<s>', eos_token: '</s>', pad_token: '<pad>', unk_token: '<unk>' },
    });
    const { input_ids } = tokenizer.encode(['a cat', '  cat  a  '], { padding: true });
    expect(input_ids.toNumbers()).toEqual([0, 5, 7, 2, 0, 7, 5, 2]);
    expect(tokenizer.encode('a <mask>').input_ids.toNumbers()).toEqual([0, 5, 10, 2]);
  });

  it('refuses models the converted pipeline would not reproduce, saying why', () => {
    expect(() => tinyJson({ trainer: { 3: 2 } })).toThrow(
      new ConfigError(
        "dir/sentencepiece.bpe.model is a BPE SentencePiece model; an XLM-RoBERTa tokenizer is built only from a Unigram model (trainer_spec.model_type 1), as transformers' XLMRobertaConverter does",
      ),
    );
    expect(() => tinyJson({ trainer: { 3: 4 } })).toThrow(/is a CHAR SentencePiece model/);
    expect(() => tinyJson({ trainer: { 40: 3, 41: 0, 42: 1 } })).toThrow(
      new ConfigError(
        "dir/sentencepiece.bpe.model: unk_id/bos_id/eos_id are 3/0/1; XLM-RoBERTa's fairseq ids (<s> 0, <pad> 1, </s> 2, <unk> 3, pieces shifted by one) need 0/1/2",
      ),
    );
    expect(() => tinyJson({ trainer: { 35: true }, normalizer: { 3: false } })).toThrow(
      new ConfigError(
        "dir/sentencepiece.bpe.model: byte_fallback is on (bytes of unknown characters would become <unk>), add_dummy_prefix is off; the converted XLM-RoBERTa tokenizer assumes sentencepiece's defaults there and would tokenize differently",
      ),
    );
    expect(() => tinyJson({ normalizer: { 4: false } })).toThrow(/remove_extra_whitespaces is off/);
    expect(() => tinyJson({ normalizer: { 5: false } })).toThrow(/escape_whitespaces is off/);
    expect(() => tinyJson({ trainer: { 24: true } })).toThrow(/treat_whitespace_as_suffix is on/);
  });
});
