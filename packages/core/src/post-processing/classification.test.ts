import { describe, expect, it } from 'vitest';
import { InputShapeError, InvalidArgumentError, ModelRunError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import {
  classifyLogits,
  classifyOptionsFromKwargs,
  defaultClassificationFunction,
} from './classification.js';

const id2label = { '0': 'cat', '1': 'dog', '2': 'bird' };
const logits = (values: number[], batch = 1) =>
  new Tensor('float32', Float32Array.from(values), [batch, values.length / batch]);

describe('classifyLogits', () => {
  it('ranks softmax scores with labels, best first', () => {
    const [ranked] = classifyLogits(logits([1, 3, 2]), { id2label });
    const e = [Math.exp(1), Math.exp(3), Math.exp(2)];
    const sum = e[0]! + e[1]! + e[2]!;
    expect(ranked!.map((r) => r.label)).toEqual(['dog', 'bird', 'cat']);
    expect(ranked![0]!.score).toBeCloseTo(e[1]! / sum, 6);
    expect(ranked![2]!.score).toBeCloseTo(e[0]! / sum, 6);
  });

  it('clips topK to the label count and keeps tied labels in label order (a stable sort)', () => {
    const [ranked] = classifyLogits(logits([0.5, 2, 0.5]), { id2label }, { topK: 100 });
    expect(ranked!.map((r) => r.label)).toEqual(['dog', 'cat', 'bird']);
    expect(classifyLogits(logits([0.5, 2, 0.5]), { id2label }, { topK: 1 })[0]).toHaveLength(1);
  });

  it('applies sigmoid or nothing when asked', () => {
    const [sig] = classifyLogits(logits([0, 2]), {}, { functionToApply: 'sigmoid' });
    expect(sig![0]).toEqual({ label: 'LABEL_1', score: 1 / (1 + Math.exp(-2)) });
    const [raw] = classifyLogits(logits([0, 2]), {}, { functionToApply: 'none' });
    expect(raw!.map((r) => r.score)).toEqual([2, 0]);
  });

  it('gives one list per batch row', () => {
    const results = classifyLogits(logits([1, 0, 0, 0, 0, 1], 2), { id2label }, { topK: 1 });
    expect(results.map((r) => r[0]!.label)).toEqual(['cat', 'bird']);
  });

  it('refuses logits of the wrong rank and bad options by name', () => {
    expect(() => classifyLogits(new Tensor('float32', new Float32Array(3), [3]), {})).toThrowError(
      new InputShapeError('classification logits must be [batch, num_labels], got [3]'),
    );
    expect(() => classifyLogits(logits([1, 2]), {}, { topK: 0 })).toThrowError(InvalidArgumentError);
    expect(() =>
      classifyLogits(logits([1, 2]), {}, { functionToApply: 'relu' as unknown as 'none' }),
    ).toThrowError(/functionToApply must be one of 'softmax', 'sigmoid', 'none', got 'relu'/);
    // a value keeps its type in the message: the string '3' is not the number 3
    expect(() => classifyLogits(logits([1, 2]), {}, { topK: '3' as unknown as number })).toThrowError(
      new InvalidArgumentError("topK must be an integer >= 1, got '3'"),
    );
    expect(() => classifyLogits(logits([1, 2]), {}, { topk: 3 } as never)).toThrowError(
      new InvalidArgumentError("unknown option 'topk' for classifyLogits (did you mean 'topK'?)"),
    );
    expect(() => classifyLogits(logits([1, 2]), {}, null as never)).toThrowError(
      new InvalidArgumentError('the options of classifyLogits must be an object (or left out), got null'),
    );
  });

  it('ranks logits far beyond exp range without NaN (softmax subtracts the maximum)', () => {
    const [ranked] = classifyLogits(logits([1e30, 1e30, -1e30]), {});
    expect(ranked!.map((r) => r.score)).toEqual([0.5, 0.5, 0]);
  });

  it('refuses NaN or infinite logits with ModelRunError instead of returning score NaN', () => {
    expect(() => classifyLogits(logits([1, Number.NaN]), {})).toThrowError(ModelRunError);
    expect(() => classifyLogits(logits([1, Number.NaN]), {})).toThrowError(
      /the softmax scores of row 0 hold NaN at index 0: the model produced non-finite values/,
    );
    expect(() => classifyLogits(logits([Number.POSITIVE_INFINITY, 1]), {})).toThrowError(ModelRunError);
    expect(() => classifyLogits(logits([1, Number.NaN]), {}, { functionToApply: 'sigmoid' })).toThrowError(
      /the sigmoid scores of row 0 hold NaN at index 1/,
    );
  });
});

describe('defaultClassificationFunction', () => {
  it('follows the pipelines: multi-label or one logit -> sigmoid, several labels -> softmax', () => {
    expect(defaultClassificationFunction({ problem_type: 'multi_label_classification' }, 5)).toBe('sigmoid');
    expect(defaultClassificationFunction({}, 1)).toBe('sigmoid');
    expect(defaultClassificationFunction({}, 4)).toBe('softmax');
    expect(defaultClassificationFunction({ problem_type: 'single_label_classification' }, 1)).toBe('sigmoid');
    expect(defaultClassificationFunction({ function_to_apply: 'none' }, 0)).toBe('none');
  });
});

describe('classifyOptionsFromKwargs', () => {
  it("maps the pipelines' Python names and refuses unknown ones", () => {
    expect(classifyOptionsFromKwargs({ top_k: 3, function_to_apply: 'sigmoid' })).toEqual({
      topK: 3,
      functionToApply: 'sigmoid',
    });
    expect(() => classifyOptionsFromKwargs({ topk: 3 })).toThrowError(
      /unknown classification argument "topk"/,
    );
  });
});
