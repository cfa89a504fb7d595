import protobuf from 'protobufjs/light.js';

/** What a test SentencePiece model sets: pieces, and trainer / normalizer fields by their proto field numbers. */
export interface TestModelSpec {
  pieces: readonly (readonly [piece: string, score: number, type?: number])[];
  /** TrainerSpec varint fields: 3 model_type, 24 treat_whitespace_as_suffix, 35 byte_fallback, 40-43 unk/bos/eos/pad id. */
  trainer?: Readonly<Record<number, number | boolean>>;
  /** NormalizerSpec fields: 1 name, 2 precompiled_charsmap, 3 add_dummy_prefix, 4 remove_extra_whitespaces, 5 escape_whitespaces. */
  normalizer?: Readonly<Record<number, string | Uint8Array | boolean>>;
}

const VARINT = 0;
const LENGTH_DELIMITED = 2;
const FLOAT = 5;
const tag = (field: number, wireType: number) => (field << 3) | wireType;

/**
 * The bytes of a sentencepiece `ModelProto` written field by field with protobufjs' Writer, independently of the
 * reader under test, so a test can make models the fixtures do not have (BPE, byte fallback, odd ids).
 */
export function sentencePieceModelBytes(spec: TestModelSpec): Uint8Array {
  const writer = protobuf.Writer.create();
  for (const [piece, score, type] of spec.pieces) {
    writer.uint32(tag(1, LENGTH_DELIMITED)).fork();
    writer.uint32(tag(1, LENGTH_DELIMITED)).string(piece);
    writer.uint32(tag(2, FLOAT)).float(score);
    if (type !== undefined) writer.uint32(tag(3, VARINT)).int32(type);
    writer.ldelim();
  }
  if (spec.trainer) {
    writer.uint32(tag(2, LENGTH_DELIMITED)).fork();
    for (const [field, value] of Object.entries(spec.trainer)) {
      writer.uint32(tag(Number(field), VARINT)).int32(Number(value));
    }
    writer.ldelim();
  }
  if (spec.normalizer) {
    writer.uint32(tag(3, LENGTH_DELIMITED)).fork();
    for (const [field, value] of Object.entries(spec.normalizer)) {
      if (typeof value === 'boolean') writer.uint32(tag(Number(field), VARINT)).bool(value);
      else if (typeof value === 'string') writer.uint32(tag(Number(field), LENGTH_DELIMITED)).string(value);
      else writer.uint32(tag(Number(field), LENGTH_DELIMITED)).bytes(value);
    }
    writer.ldelim();
  }
  return writer.finish();
}

/** A tiny XLM-R-shaped Unigram model: <unk> <s> </s> (unknown, control, control), then a few pieces. */
export const tinyXlmrPieces = [
  ['<unk>', 0, 2],
  ['<s>', 0, 3],
  ['</s>', 0, 3],
  ['\u2581', -2],
  ['\u2581a', -3],
  ['a', -4],
  ['\u2581cat', -5],
  ['c', -6],
  ['t', -6.5],
] as const;
