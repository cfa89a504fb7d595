import protobuf from 'protobufjs/light.js';
import { ConfigError } from '../errors.js';

/** `ModelProto.SentencePiece.Type` of sentencepiece_model.proto. */
export const sentencePieceTypes = {
  1: 'normal',
  2: 'unknown',
  3: 'control',
  4: 'user_defined',
  5: 'unused',
  6: 'byte',
} as const;
export type SentencePieceType = (typeof sentencePieceTypes)[keyof typeof sentencePieceTypes];

/** `TrainerSpec.ModelType` of sentencepiece_model.proto. */
export const sentencePieceModelTypes = { 1: 'unigram', 2: 'bpe', 3: 'word', 4: 'char' } as const;
export type SentencePieceModelType = (typeof sentencePieceModelTypes)[keyof typeof sentencePieceModelTypes];

export interface SentencePiece {
  piece: string;
  /** Log probability (Unigram) or merge priority (BPE), a float32 in the file. */
  score: number;
  type: SentencePieceType;
}

/** The parts of a SentencePiece `ModelProto` (a `*.model` file) that a tokenizer.json is built from. */
export interface SentencePieceModel {
  /** The vocabulary: a piece's index is its SentencePiece id. */
  pieces: SentencePiece[];
  trainerSpec: {
    modelType: SentencePieceModelType;
    unkId: number;
    bosId: number;
    eosId: number;
    padId: number;
    byteFallback: boolean;
    treatWhitespaceAsSuffix: boolean;
  };
  normalizerSpec: {
    /** Normalization rule name (`nmt_nfkc`, `identity`, ...). */
    name: string;
    /** The compiled normalization rules; empty for `identity`. */
    precompiledCharsmap: Uint8Array;
    addDummyPrefix: boolean;
    removeExtraWhitespaces: boolean;
    escapeWhitespaces: boolean;
  };
}

// Only the fields read here, numbered and defaulted as in sentencepiece's src/sentencepiece_model.proto (proto2:
// an absent field reads as its default). Enums are declared as int32, which has the same wire encoding, so an
// enum value newer than this declaration still parses and is reported by number.
const schema = protobuf.Root.fromJSON({
  nested: {
    ModelProto: {
      fields: {
        pieces: { rule: 'repeated', type: 'SentencePiece', id: 1 },
        trainer_spec: { type: 'TrainerSpec', id: 2 },
        normalizer_spec: { type: 'NormalizerSpec', id: 3 },
      },
      nested: {
        SentencePiece: {
          fields: {
            piece: { type: 'string', id: 1 },
            score: { type: 'float', id: 2 },
            type: { type: 'int32', id: 3, options: { default: 1 } },
          },
        },
      },
    },
    TrainerSpec: {
      fields: {
        model_type: { type: 'int32', id: 3, options: { default: 1 } },
        treat_whitespace_as_suffix: { type: 'bool', id: 24, options: { default: false } },
        byte_fallback: { type: 'bool', id: 35, options: { default: false } },
        unk_id: { type: 'int32', id: 40, options: { default: 0 } },
        bos_id: { type: 'int32', id: 41, options: { default: 1 } },
        eos_id: { type: 'int32', id: 42, options: { default: 2 } },
        pad_id: { type: 'int32', id: 43, options: { default: -1 } },
      },
    },
    NormalizerSpec: {
      fields: {
        name: { type: 'string', id: 1 },
        precompiled_charsmap: { type: 'bytes', id: 2 },
        add_dummy_prefix: { type: 'bool', id: 3, options: { default: true } },
        remove_extra_whitespaces: { type: 'bool', id: 4, options: { default: true } },
        escape_whitespaces: { type: 'bool', id: 5, options: { default: true } },
      },
    },
  },
});
const ModelProto = schema.lookupType('ModelProto');
const TrainerSpec = schema.lookupType('TrainerSpec');
const NormalizerSpec = schema.lookupType('NormalizerSpec');

interface PieceMessage {
  piece: string;
  score: number;
  type: number;
}
interface TrainerSpecMessage {
  model_type: number;
  treat_whitespace_as_suffix: boolean;
  byte_fallback: boolean;
  unk_id: number;
  bos_id: number;
  eos_id: number;
  pad_id: number;
}
interface NormalizerSpecMessage {
  name: string;
  precompiled_charsmap: Uint8Array;
  add_dummy_prefix: boolean;
  remove_extra_whitespaces: boolean;
  escape_whitespaces: boolean;
}
interface ModelMessage {
  pieces: PieceMessage[];
  trainer_spec: TrainerSpecMessage | null;
  normalizer_spec: NormalizerSpecMessage | null;
}

function enumName<T extends Record<number, string>>(
  names: T,
  value: number,
  field: string,
  source: string,
): T[keyof T] {
  const name = names[value];
  if (name === undefined) {
    throw new ConfigError(
      `${source}: ${field} ${value} is not a known SentencePiece value (expected one of ${Object.entries(
        names,
      )
        .map(([n, v]) => `${n} ${v}`)
        .join(', ')})`,
    );
  }
  return name as T[keyof T];
}

/**
 * Parses a SentencePiece model file (`sentencepiece.bpe.model`, `spiece.model`, ...): the pieces with their scores
 * and types, and the trainer and normalizer settings a tokenizer.json needs.
 *
 * @example
 * ```ts
 * const model = readSentencePieceModel(await readFile('sentencepiece.bpe.model'), 'sentencepiece.bpe.model');
 * model.trainerSpec.modelType; // 'unigram'
 * model.pieces[3]; // { piece: '▁', score: -2.1074..., type: 'normal' }
 * ```
 */
export function readSentencePieceModel(bytes: Uint8Array, source: string): SentencePieceModel {
  let message: ModelMessage;
  try {
    message = ModelProto.decode(bytes) as unknown as ModelMessage;
  } catch (error) {
    throw new ConfigError(
      `${source} is not a SentencePiece model (cannot be read as a sentencepiece ModelProto: ${(error as Error).message})`,
      { cause: error },
    );
  }
  if (message.pieces.length === 0) {
    throw new ConfigError(`${source} is not a SentencePiece model: it holds no pieces`);
  }
  // A plain loop that builds no message unless a piece is bad: XLM-R's model has 250k pieces, read on every load
  const pieces = new Array<SentencePiece>(message.pieces.length);
  for (let id = 0; id < pieces.length; id++) {
    const { piece, score, type } = message.pieces[id]!;
    if (piece === '') throw new ConfigError(`${source}: piece ${id} is empty`);
    const name = sentencePieceTypes[type as keyof typeof sentencePieceTypes] as SentencePieceType | undefined;
    pieces[id] = {
      piece,
      score,
      type: name ?? enumName(sentencePieceTypes, type, `piece ${id} type`, source),
    };
  }
  // An absent sub-message reads as all its defaults, as in protobuf's generated accessors.
  const trainer = message.trainer_spec ?? (TrainerSpec.create() as unknown as TrainerSpecMessage);
  const normalizer = message.normalizer_spec ?? (NormalizerSpec.create() as unknown as NormalizerSpecMessage);
  return {
    pieces,
    trainerSpec: {
      modelType: enumName(sentencePieceModelTypes, trainer.model_type, 'trainer_spec.model_type', source),
      unkId: trainer.unk_id,
      bosId: trainer.bos_id,
      eosId: trainer.eos_id,
      padId: trainer.pad_id,
      byteFallback: trainer.byte_fallback,
      treatWhitespaceAsSuffix: trainer.treat_whitespace_as_suffix,
    },
    normalizerSpec: {
      name: normalizer.name,
      precompiledCharsmap: normalizer.precompiled_charsmap,
      addDummyPrefix: normalizer.add_dummy_prefix,
      removeExtraWhitespaces: normalizer.remove_extra_whitespaces,
      escapeWhitespaces: normalizer.escape_whitespaces,
    },
  };
}
