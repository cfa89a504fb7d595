import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../errors.js';
import { Tensor } from '../../tensor/tensor.js';
import { memoryCheckpoint } from '../../testing/memory-checkpoint.js';
import { runOnnxGraph } from '../../testing/run-graph.js';
import { buildModelGraph } from '../model-graph.js';
import {
  attentionReference,
  expectClose,
  linearReference,
  runLayer,
  tensor,
} from './__fixtures__/layer-cases.js';
import { linear } from './linear.js';
import { multiheadAttention } from './multihead-attention.js';

const E = 8;
const weights = {
  'attn.in_proj_weight': tensor([3 * E, E], 1),
  'attn.in_proj_bias': tensor([3 * E], 2),
  'attn.out_proj.weight': tensor([E, E], 3),
  'attn.out_proj.bias': tensor([E], 4),
};
/** Rows [start, end) of a row-major matrix of `width` columns. */
const rows = (data: Float32Array, start: number, end: number, width: number) =>
  data.slice(start * width, end * width);

describe('linear over rows of a packed projection', () => {
  it.each([0, 1, 2])('reads rows %i·E..(%i+1)·E of in_proj_weight and in_proj_bias', async (index) => {
    const x = tensor([2, 3, E], 5);
    const { y, built } = await runLayer(memoryCheckpoint(weights), x, [2, 3, E], (root, input) =>
      linear(root.child('attn'), input, {
        inFeatures: E,
        outFeatures: E,
        packed: { weight: 'in_proj_weight', bias: 'in_proj_bias', rows: 3 * E, offset: index * E },
      }),
    );
    const w = rows(weights['attn.in_proj_weight'].data, index * E, (index + 1) * E, E);
    const b = rows(weights['attn.in_proj_bias'].data, index * E, (index + 1) * E, 1);
    expectClose(y.data, linearReference(x.data, w, b, E), 1e-6);
    expect(built.graph.initializers.map((i) => [i.value.name, i.dims])).toEqual([
      [`attn.in_proj_weight/rows_${index * E}_${(index + 1) * E}_transposed`, [E, E]],
      [`attn.in_proj_weight/rows_${index * E}_${(index + 1) * E}_bias`, [E]],
    ]);
    expect(built.unusedKeys).toEqual(['attn.out_proj.weight', 'attn.out_proj.bias']);
  });

  it('quantizes its rows for q8', async () => {
    const x = tensor([2, 3, E], 5);
    const { y, built } = await runLayer(
      memoryCheckpoint(weights),
      x,
      [2, 3, E],
      (root, input) =>
        linear(root.child('attn'), input, {
          inFeatures: E,
          outFeatures: E,
          packed: { weight: 'in_proj_weight', bias: 'in_proj_bias', rows: 3 * E, offset: E },
        }),
      'q8',
    );
    const w = rows(weights['attn.in_proj_weight'].data, E, 2 * E, E);
    const b = rows(weights['attn.in_proj_bias'].data, E, 2 * E, 1);
    // Weight step <= 1/127 and activation step <= 2/255 per element, over E inputs of |v| <= 1.
    expectClose(y.data, linearReference(x.data, w, b, E), E * (1 / 254 + 1 / 255) + 1e-6);
    expect(built.graph.nodes.map((n) => n.opType)).toEqual(['DynamicQuantizeMatMul']);
  });

  it('refuses rows past the packed weight', () => {
    expect(() =>
      buildModelGraph('layer', memoryCheckpoint(weights), {}, (root) => {
        linear(root.child('attn'), root.graph.input('x', 'float32', [1, E]), {
          inFeatures: E,
          outFeatures: E,
          packed: { weight: 'in_proj_weight', bias: 'in_proj_bias', rows: 3 * E, offset: 2 * E + 1 },
        });
      }),
    ).toThrowError(
      new InvalidArgumentError("linear attn: rows [17, 25) do not fit in the 24 rows of 'in_proj_weight'"),
    );
  });
});

describe('multiheadAttention', () => {
  it('computes torch nn.MultiheadAttention (packed in_proj, per-head softmax, out_proj) batch first', async () => {
    const q = tensor([2, 3, E], 6);
    const k = tensor([2, 5, E], 7);
    const v = tensor([2, 5, E], 8);
    // A mask as Mask2Former's masked attention makes it: -inf on some keys of some queries, per batch.
    // Key 0 stays visible to every query (a row of -inf only would be NaN, which Mask2Former avoids too).
    const mask = tensor([2, 1, 3, 5], 9).data.map((m, i) =>
      m > 0.3 && i % 5 !== 0 ? Number.NEGATIVE_INFINITY : 0,
    );
    expect(mask.filter((m) => m !== 0).length).toBeGreaterThan(5);
    const built = buildModelGraph('mha', memoryCheckpoint(weights), {}, (root) => {
      const [qi, ki, vi] = (['q', 'k', 'v'] as const).map((n) =>
        root.graph.input(n, 'float32', [2, n === 'q' ? 3 : 5, E]),
      );
      const bias = root.graph.input('bias', 'float32', [2, 1, 3, 5]);
      const y = multiheadAttention(root.child('attn'), qi!, ki!, vi!, {
        embedDim: E,
        numHeads: 2,
        scoreBias: bias,
      });
      root.graph.output(y, 'y', 'float32', [2, 3, E]);
    });
    expect(built.unusedKeys).toEqual([]);
    const { y } = await runOnnxGraph(built.graph, {
      q,
      k,
      v,
      bias: new Tensor('float32', mask, [2, 1, 3, 5]),
    });
    const w = weights['attn.in_proj_weight'].data;
    const b = weights['attn.in_proj_bias'].data;
    const project = (x: Float32Array, i: number) =>
      Float32Array.from(
        linearReference(x, rows(w, i * E, (i + 1) * E, E), rows(b, i * E, (i + 1) * E, 1), E),
      );
    // The reference takes a [heads, queries, keys] bias: per batch, the mask repeated over both heads.
    const expected: number[] = [];
    for (let n = 0; n < 2; n++) {
      const slice = (t: Float32Array, len: number) => t.slice(n * len * E, (n + 1) * len * E);
      const headBias = Float32Array.from({ length: 2 * 15 }, (_, i) => mask[n * 15 + (i % 15)]!);
      expected.push(
        ...attentionReference(
          project(slice(q.data, 3), 0),
          project(slice(k.data, 5), 1),
          project(slice(v.data, 5), 2),
          [1, 3, 5, 2, 4],
          headBias,
        ),
      );
    }
    const out = linearReference(
      Float32Array.from(expected),
      weights['attn.out_proj.weight'].data,
      weights['attn.out_proj.bias'].data,
      E,
    );
    expectClose(y!.data as Float32Array, out, 1e-5);
  });

  it('refuses an embed_dim that does not split into the heads', () => {
    expect(() =>
      buildModelGraph('mha', memoryCheckpoint(weights), {}, (root) => {
        const x = root.graph.input('x', 'float32', [1, 2, E]);
        multiheadAttention(root.child('attn'), x, x, x, { embedDim: E, numHeads: 3 });
      }),
    ).toThrowError(
      new InvalidArgumentError('multihead attention attn: embed_dim 8 is not a multiple of num_heads 3'),
    );
  });
});
