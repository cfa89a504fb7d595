import { describe, expect, it } from 'vitest';
import { Tensor } from '../tensor/tensor.js';
import { assertJsonClose, compareJson } from './compare-json.js';
import { ToleranceError } from './compare.js';

const noNpy = async (): Promise<Tensor> => {
  throw new Error('no npy expected here');
};

describe('compareJson', () => {
  it('accepts numbers within atol and reports the worst difference', async () => {
    const result = await compareJson(
      [
        { label: 'cat', score: 0.5001 },
        { label: 'dog', score: 0.2 },
      ],
      [
        { label: 'cat', score: 0.5 },
        { label: 'dog', score: 0.2 },
      ],
      1e-3,
      noNpy,
    );
    expect(result.ok).toBe(true);
    expect(result.worst).toBeCloseTo(1e-4, 8);
  });

  it('names the path of the first mismatch', async () => {
    const result = await compareJson(
      {
        boxes: [
          [1, 2],
          [3, 4.5],
        ],
      },
      {
        boxes: [
          [1, 2],
          [3, 4],
        ],
      },
      0.1,
      noNpy,
    );
    expect(result.ok).toBe(false);
    expect(result.mismatch).toBe('$.boxes[1][1]: 4.5 != 4 (atol 0.1)');
  });

  it('compares strings, nulls and key sets exactly', async () => {
    expect((await compareJson({ label: 'cat' }, { label: 'Cat' }, 1, noNpy)).mismatch).toBe(
      '$.label: expected "Cat", got "cat"',
    );
    expect((await compareJson({ a: 1, b: 2 }, { a: 1 }, 0, noNpy)).mismatch).toBe(
      '$: keys [a, b] != expected [a]',
    );
    expect((await compareJson({ labels: 0 }, { labels: null }, 0, noNpy)).ok).toBe(false);
    expect((await compareJson([1, 2], [1, 2, 3], 0, noNpy)).mismatch).toBe('$: expected 3 items, got 2');
  });

  it('loads {npy} references and compares tensors element-wise with shape', async () => {
    const reference = new Tensor('int64', new BigInt64Array([0n, 1n, 1n, 2n]), [2, 2]);
    const load = async (path: string) => {
      expect(path).toBe('reference/map.npy');
      return reference;
    };
    const same = new Tensor('int32', new Int32Array([0, 1, 1, 2]), [2, 2]);
    expect((await compareJson(same, { npy: 'reference/map.npy' }, 0, load)).ok).toBe(true);
    expect(
      (
        await compareJson(
          [
            [0, 1],
            [1, 2],
          ],
          { npy: 'reference/map.npy' },
          0,
          load,
        )
      ).ok,
    ).toBe(true);
    const transposed = new Tensor('int32', new Int32Array([0, 1, 1, 2]), [4]);
    expect((await compareJson(transposed, { npy: 'reference/map.npy' }, 0, load)).mismatch).toMatch(
      /shape \[4\] != expected \[2, 2\]/,
    );
    const off = new Tensor('int32', new Int32Array([0, 1, 2, 2]), [2, 2]);
    expect((await compareJson(off, { npy: 'reference/map.npy' }, 0, load)).mismatch).toMatch(
      /element 2 is 2, expected 1/,
    );
  });

  it('accepts tensors and typed arrays where plain arrays are expected', async () => {
    expect((await compareJson(new Float32Array([0.25, 0.5]), [0.25, 0.5], 0, noNpy)).ok).toBe(true);
    expect(
      (
        await compareJson(
          { scores: new Tensor('float32', new Float32Array([1]), [1]) },
          { scores: [1] },
          0,
          noNpy,
        )
      ).ok,
    ).toBe(true);
  });
});

describe('compareJson with tensors', () => {
  it('compares a [2, 2] tensor with nested lists row by row, and with a flat list element by element', async () => {
    const tensor = new Tensor('float32', Float32Array.from([1, 2, 3, 4]), [2, 2]);
    expect(
      (
        await compareJson(
          tensor,
          [
            [1, 2],
            [3, 4],
          ],
          0,
          noNpy,
        )
      ).ok,
    ).toBe(true);
    expect((await compareJson(tensor, [1, 2, 3, 4], 0, noNpy)).ok).toBe(true);
    expect(
      (
        await compareJson(
          tensor,
          [
            [1, 2],
            [3, 5],
          ],
          0,
          noNpy,
        )
      ).mismatch,
    ).toBe('$[1][1]: 4 != 5 (atol 0)');
  });
});

describe('assertJsonClose', () => {
  it('passes within atol and throws ToleranceError naming the path otherwise', async () => {
    await assertJsonClose([{ label: 'cat', score: 0.5001 }], [{ label: 'cat', score: 0.5 }], 1e-3);
    await expect(assertJsonClose([{ score: 0.6 }], [{ score: 0.5 }], 1e-3)).rejects.toThrowError(
      new ToleranceError('result differs from the expected JSON: $[0].score: 0.6 != 0.5 (atol 0.001)'),
    );
  });
});
