import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, softmax } from '@ortvision/core';
import { describe, expect, it } from 'vitest';
import { caseOutputs, manifest } from './__fixtures__/cases.js';
import { torchTopKUnsortedIndices } from './torch-top-k.js';

interface Vector {
  k: number;
  values: (number | null)[];
  order: number[];
}

// Orders produced by the real libstdc++ nth_element / partial_sort with torch's comparator
// (__fixtures__/libstdcxx-top-k.cpp): random values, many ties, NaNs, sorted runs; both code paths.
const vectors: Vector[] = JSON.parse(
  await readFile(new URL('./__fixtures__/libstdcxx-top-k.json', import.meta.url), 'utf8'),
);

describe('torchTopKUnsortedIndices', () => {
  it('covers both of torch’s paths', () => {
    expect(vectors.some((v) => v.k * 64 <= v.values.length)).toBe(true);
    expect(vectors.some((v) => v.k * 64 > v.values.length)).toBe(true);
  });

  it.each(vectors.map((v, i) => [i, v.values.length, v.k, v] as const))(
    'vector %i (n %i, k %i) gives libstdc++’s order',
    (_i, _n, _k, vector) => {
      const values = vector.values.map((v) => (v === null ? Number.NaN : v));
      expect(torchTopKUnsortedIndices(values, vector.k)).toEqual(vector.order);
    },
  );

  it('reproduces torch_topk_order of every fixture case', async () => {
    const m = await manifest();
    const cases = [...m.postprocess, ...m.pipeline].filter((c) => c.torch_topk_order !== undefined);
    expect(cases.length).toBeGreaterThanOrEqual(8);
    for (const testCase of cases) {
      const source = testCase.inputs.class_queries_logits
        ? testCase
        : m.postprocess.find((c) => c.name === 'e2e-instance')!;
      const logits = (await caseOutputs(source as never)).class_queries_logits;
      const [batch, queries, classes] = logits.dims as [number, number, number];
      const probs = softmax(logits).data;
      for (let b = 0; b < batch; b++) {
        const scores: number[] = [];
        for (let q = 0; q < queries; q++) {
          for (let c = 0; c < classes - 1; c++) scores.push(probs[(b * queries + q) * classes + c]!);
        }
        expect(torchTopKUnsortedIndices(scores, queries), `${testCase.name} image ${b}`).toEqual(
          (testCase.torch_topk_order as number[][])[b],
        );
      }
    }
  });

  it('handles k = 0, k = n and rejects k out of range', () => {
    expect(torchTopKUnsortedIndices([1, 2, 3], 0)).toEqual([]);
    expect(torchTopKUnsortedIndices([1, 3, 2], 3).sort()).toEqual([0, 1, 2]);
    expect(() => torchTopKUnsortedIndices([1, 2], 3)).toThrow(InvalidArgumentError);
  });
});
