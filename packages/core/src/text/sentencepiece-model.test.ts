import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { fixturePath } from '../testing/fixtures.js';
import { sentencePieceModelBytes, tinyXlmrPieces } from './__fixtures__/sentencepiece-bytes.js';
import { readSentencePieceModel } from './sentencepiece-model.js';

// sentencepiece_model.proto's TrainerSpec defaults, which XLM-R's model also has
const defaultTrainerSpec = {
  modelType: 'unigram',
  unkId: 0,
  bosId: 1,
  eosId: 2,
  padId: -1,
  byteFallback: false,
  treatWhitespaceAsSuffix: false,
};

describe('readSentencePieceModel', () => {
  it("reads the altclip fixture's model: pieces with scores and types, trainer and normalizer settings", async () => {
    const model = readSentencePieceModel(
      await readFile(fixturePath('altclip', 'sentencepiece.bpe.model')),
      'sentencepiece.bpe.model',
    );
    expect(model.pieces.length).toBe(1500);
    expect(model.pieces.slice(0, 4)).toEqual([
      { piece: '<unk>', score: 0, type: 'unknown' },
      { piece: '<s>', score: 0, type: 'control' },
      { piece: '</s>', score: 0, type: 'control' },
      // scores are float32 in the file: this is the float32 nearest -2.1074037..., as tokenizer.json prints it
      { piece: '\u2581', score: -2.1074037551879883, type: 'normal' },
    ]);
    expect(model.pieces.slice(4).every((p) => p.type === 'normal')).toBe(true);
    expect(model.trainerSpec).toEqual(defaultTrainerSpec);
    const { precompiledCharsmap, ...normalizer } = model.normalizerSpec;
    expect(normalizer).toEqual({
      name: 'nmt_nfkc',
      addDummyPrefix: true,
      removeExtraWhitespaces: true,
      escapeWhitespaces: true,
    });
    expect(precompiledCharsmap).toBeInstanceOf(Uint8Array);
    expect(precompiledCharsmap.length).toBe(237561);
  });

  it('gives the proto defaults for fields and sub-messages a file leaves out', () => {
    const model = readSentencePieceModel(sentencePieceModelBytes({ pieces: [['<unk>', 0]] }), 'x.model');
    expect(model.pieces).toEqual([{ piece: '<unk>', score: 0, type: 'normal' }]);
    expect(model.trainerSpec).toEqual(defaultTrainerSpec);
    expect(model.normalizerSpec.name).toBe('');
    expect(model.normalizerSpec.precompiledCharsmap.length).toBe(0);
    expect(model.normalizerSpec.addDummyPrefix).toBe(true);
  });

  it('reads the fields a file sets', () => {
    const model = readSentencePieceModel(
      sentencePieceModelBytes({
        pieces: tinyXlmrPieces,
        trainer: { 3: 2, 24: true, 35: true, 40: 3, 41: 0, 42: 1, 43: 2 },
        normalizer: { 1: 'identity', 2: new Uint8Array([1, 2, 3]), 3: false, 4: false, 5: false },
      }),
      'x.model',
    );
    expect(model.pieces.length).toBe(tinyXlmrPieces.length);
    expect(model.pieces[4]).toEqual({ piece: '\u2581a', score: -3, type: 'normal' });
    expect(model.trainerSpec).toEqual({
      modelType: 'bpe',
      unkId: 3,
      bosId: 0,
      eosId: 1,
      padId: 2,
      byteFallback: true,
      treatWhitespaceAsSuffix: true,
    });
    expect({
      ...model.normalizerSpec,
      precompiledCharsmap: [...model.normalizerSpec.precompiledCharsmap],
    }).toEqual({
      name: 'identity',
      precompiledCharsmap: [1, 2, 3],
      addDummyPrefix: false,
      removeExtraWhitespaces: false,
      escapeWhitespaces: false,
    });
  });

  it('rejects bytes that are not a SentencePiece model, naming the file', async () => {
    expect(() => readSentencePieceModel(new Uint8Array([0xff, 0xff, 0xff]), 'dir/sp.model')).toThrow(
      /^dir\/sp\.model is not a SentencePiece model \(cannot be read as a sentencepiece ModelProto: /,
    );
    const json = await readFile(fixturePath('altclip', 'config.json'));
    expect(() => readSentencePieceModel(json, 'c')).toThrow(ConfigError);
    expect(() => readSentencePieceModel(new Uint8Array(), 'dir/sp.model')).toThrow(
      new ConfigError('dir/sp.model is not a SentencePiece model: it holds no pieces'),
    );
    expect(() => readSentencePieceModel(sentencePieceModelBytes({ pieces: [['', 0]] }), 'm')).toThrow(
      new ConfigError('m: piece 0 is empty'),
    );
  });

  it('rejects enum values it does not know, by number', () => {
    expect(() => readSentencePieceModel(sentencePieceModelBytes({ pieces: [['a', 0, 9]] }), 'm')).toThrow(
      new ConfigError(
        'm: piece 0 type 9 is not a known SentencePiece value (expected one of 1 normal, 2 unknown, 3 control, 4 user_defined, 5 unused, 6 byte)',
      ),
    );
    expect(() =>
      readSentencePieceModel(sentencePieceModelBytes({ pieces: [['a', 0]], trainer: { 3: 7 } }), 'm'),
    ).toThrow(/^m: trainer_spec\.model_type 7 is not a known SentencePiece value/);
  });
});
