import { InputShapeError, InvalidArgumentError, Tensor } from '@ortvision/core';
import {
  compareTensors,
  describeComparison,
  fixturePath,
  loadFixture,
  readNpy,
} from '@ortvision/core/testing';
import { describe, expect, it } from 'vitest';
import { PerceiverTokenizer, decodeOptionsFromKwargs, encodeOptionsFromKwargs } from './tokenization.js';

const { manifest } = await loadFixture(fixturePath('perceiver-mlm'));
const tokenizer = await PerceiverTokenizer.fromPretrained(fixturePath('perceiver-mlm'));

describe('PerceiverTokenizer on the perceiver-mlm processor cases', () => {
  it.each(manifest.processor.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
    const encoding: Record<string, Tensor | undefined> = tokenizer.encode(testCase.inputs.text as string[], {
      ...encodeOptionsFromKwargs(testCase.kwargs),
      ...(testCase.inputs.text_pair ? { textPair: testCase.inputs.text_pair as string[] } : {}),
    });
    for (const [output, file] of Object.entries(testCase.outputs)) {
      const comparison = compareTensors(encoding[output]!, await readNpy(fixturePath('perceiver-mlm', file)));
      expect(comparison.ok, `${output}: ${describeComparison(comparison)}`).toBe(true);
    }
    expect(Object.keys(encoding).sort()).toEqual(Object.keys(testCase.outputs).sort());
  });
});

describe('PerceiverTokenizer on the perceiver-mlm decode cases', () => {
  it.each(manifest.postprocess.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
    const [file] = Object.values(testCase.inputs) as string[];
    const ids = (await readNpy(fixturePath('perceiver-mlm', file!))) as Tensor<'int64'>;
    const options = decodeOptionsFromKwargs(testCase.kwargs);
    const decoded =
      testCase.call === 'PerceiverTokenizer.batch_decode'
        ? tokenizer.batchDecode(ids, options)
        : tokenizer.decode(ids, options);
    expect(decoded).toEqual(testCase.expected);
  });
});

describe('PerceiverTokenizer', () => {
  it('refuses misspelled encode and decode options', () => {
    expect(() => tokenizer.encode('a', { padding: true, truncate: true } as never)).toThrow(
      "unknown option 'truncate' for PerceiverTokenizer.encode (did you mean 'truncation'?)",
    );
    expect(() => tokenizer.decode([7], { skip_special_tokens: true } as never)).toThrow(
      "(did you mean 'skipSpecialTokens'?)",
    );
  });

  it('reads model_max_length from tokenizer_config.json and has no limit without it', () => {
    expect(tokenizer.modelMaxLength).toBe(64);
    expect(new PerceiverTokenizer().modelMaxLength).toBe(Number.POSITIVE_INFINITY);
  });

  it("maps one-character targets through get_vocab's Latin-1 view", () => {
    const vocab = tokenizer.getVocab();
    expect([vocab.get('é'), vocab.get('a'), vocab.get('[MASK]'), vocab.size]).toEqual([239, 103, 3, 262]);
  });

  it('cuts pairs from the longer sequence first and keeps every [SEP]', () => {
    const { input_ids } = tokenizer.encode('abcdef', { textPair: 'xy', truncation: true, maxLength: 7 });
    expect(tokenizer.decode(input_ids)).toBe('[CLS]ab[SEP]xy[SEP]');
  });

  it('refuses bad input with typed errors', () => {
    expect(() => tokenizer.encode(['a', 'abc'])).toThrowError(InputShapeError);
    expect(() => tokenizer.encode([])).toThrowError(
      new InputShapeError('expected at least one text, got an empty list'),
    );
    expect(() => tokenizer.encode('abc', { maxLength: 1, truncation: true })).toThrowError(
      new InvalidArgumentError(
        'maxLength 1 is too small: each sequence needs 2 special tokens, so maxLength must be >= 2',
      ),
    );
    expect(() => tokenizer.encode(['a'], { textPair: ['b', 'c'] })).toThrowError(InputShapeError);
    expect(() => tokenizer.encode('a', { padding: 'yes' as never })).toThrowError(InvalidArgumentError);
    expect(() => new PerceiverTokenizer().encode('a', { padding: 'max_length' })).toThrowError(
      /padding 'max_length' needs maxLength/,
    );
    expect(() => tokenizer.decode([4, 300])).toThrowError(
      new InvalidArgumentError(
        'token id 300 at position 1 is not a PerceiverTokenizer id (expected integers 0-261)',
      ),
    );
    expect(() => tokenizer.batchDecode(new Tensor('int64', new BigInt64Array(2), [2]))).toThrowError(
      InputShapeError,
    );
    expect(() => encodeOptionsFromKwargs({ stride: 2 })).toThrowError(
      /unknown PerceiverTokenizer argument "stride"/,
    );
  });
});
