import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../errors.js';
import { Tensor } from '../../tensor/tensor.js';
import { memoryCheckpoint } from '../../testing/memory-checkpoint.js';
import { runOnnxGraph } from '../../testing/run-graph.js';
import { buildModelGraph } from '../model-graph.js';
import { causalMaskBias, invertAttentionMask } from './attention.js';
import {
  type CLIPTextPooling,
  type CLIPTextTowerConfig,
  type CLIPVisionTowerConfig,
  clipAttention,
  clipTextPooling,
  clipTextTransformer,
  clipVisionEmbeddings,
} from './clip.js';
import { l2NormalizeLastAxis } from './normalize.js';

// The CLIP towers are checked against PyTorch end to end by the clipseg, owlv2 and altclip fixtures (every model
// case of each, built from its checkpoint); these tests pin the pieces whose numbers can be worked out by hand.

/** Deterministic values in [-scale, scale). */
function tensor(dims: number[], seed: number, scale = 1): Tensor<'float32'> {
  const length = dims.reduce((a, b) => a * b, 1);
  return new Tensor(
    'float32',
    Float32Array.from({ length }, (_, i) => Math.sin(i * 12.9898 + seed * 78.233) * scale),
    dims,
  );
}

function int64(values: number[], dims: number[]): Tensor<'int64'> {
  return new Tensor('int64', BigInt64Array.from(values, BigInt), dims);
}

describe('attention masks', () => {
  it('add up as transformers’ CLIP text masks: 0 to attend, float32 min once masked, -inf when masked twice', async () => {
    const built = buildModelGraph('masks', memoryCheckpoint({}), {}, (root) => {
      const mask = root.graph.input('attention_mask', 'int64', [2, 3]);
      const bias = root.op('Add', [invertAttentionMask(root, mask), causalMaskBias(root, mask)]);
      root.graph.output(bias, 'bias', 'float32', [2, 1, 3, 3]);
    });
    const { bias } = await runOnnxGraph(built.graph, { attention_mask: int64([1, 1, 1, 1, 1, 0], [2, 3]) });
    expect(bias!.dims).toEqual([2, 1, 3, 3]);
    const m = -3.4028234663852886e38; // torch.finfo(torch.float32).min
    // Row = query, column = key; the second text's last token is padding.
    expect([...(bias!.data as Float32Array)]).toEqual([
      ...[0, m, m, 0, 0, m, 0, 0, 0],
      ...[0, m, Number.NEGATIVE_INFINITY, 0, 0, Number.NEGATIVE_INFINITY, 0, 0, m],
    ]);
  });
});

describe('l2NormalizeLastAxis', () => {
  it.each([
    [undefined, 5],
    [1e-6, 5 + 1e-6],
  ])('divides by the L2 norm of the last axis (eps %s)', async (eps, norm) => {
    const built = buildModelGraph('normalize', memoryCheckpoint({}), {}, (root) => {
      const x = root.graph.input('x', 'float32', [2, 2]);
      root.graph.output(l2NormalizeLastAxis(root, x, { eps }), 'y', 'float32', [2, 2]);
    });
    const { y } = await runOnnxGraph(built.graph, {
      x: new Tensor('float32', Float32Array.of(3, 4, 0, 5), [2, 2]),
    });
    expect([...(y!.data as Float32Array)]).toEqual(
      [3 / norm, 4 / norm, 0, 5 / norm].map((v) => Math.fround(v)),
    );
  });
});

describe('CLIP text tower', () => {
  it('pools the largest id for legacy configs (eos_token_id 2), the first eos otherwise', () => {
    expect(clipTextPooling(2)).toBe('largest-id');
    expect(clipTextPooling(49407)).toEqual({ eosTokenId: 49407 });
  });

  // With no encoder layer the tower is embeddings -> final_layer_norm, so the pooled output can be worked out.
  const config: CLIPTextTowerConfig = {
    vocab_size: 10,
    max_position_embeddings: 5,
    hidden_size: 4,
    intermediate_size: 8,
    num_hidden_layers: 0,
    num_attention_heads: 2,
    hidden_act: 'quick_gelu',
    layer_norm_eps: 1e-5,
  };
  const weights = {
    'text.embeddings.token_embedding.weight': tensor([10, 4], 1),
    'text.embeddings.position_embedding.weight': tensor([5, 4], 2),
    'text.final_layer_norm.weight': tensor([4], 3),
    'text.final_layer_norm.bias': tensor([4], 4),
  };

  function pooledReference(ids: number[], index: number): number[] {
    const token = weights['text.embeddings.token_embedding.weight'].data;
    const position = weights['text.embeddings.position_embedding.weight'].data;
    const x = [0, 1, 2, 3].map((d) => token[ids[index]! * 4 + d]! + position[index * 4 + d]!);
    const mean = x.reduce((a, b) => a + b) / 4;
    const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / 4;
    return x.map(
      (v, d) =>
        ((v - mean) / Math.sqrt(variance + 1e-5)) * weights['text.final_layer_norm.weight'].data[d]! +
        weights['text.final_layer_norm.bias'].data[d]!,
    );
  }

  it.each([
    ['largest-id', 1],
    [{ eosTokenId: 3 }, 2],
  ] as [CLIPTextPooling, number][])('pools %o at position %i of [5, 9, 3, 3]', async (pooling, index) => {
    const built = buildModelGraph('text', memoryCheckpoint(weights), {}, (root) => {
      const ids = root.graph.input('input_ids', 'int64', [1, 4]);
      const mask = root.graph.input('attention_mask', 'int64', [1, 4]);
      root.graph.output(
        clipTextTransformer(root.child('text'), ids, mask, config, pooling),
        'pooled',
        'float32',
        [1, 4],
      );
    });
    const { pooled } = await runOnnxGraph(built.graph, {
      input_ids: int64([5, 9, 3, 3], [1, 4]),
      attention_mask: int64([1, 1, 1, 1], [1, 4]),
    });
    const expected = pooledReference([5, 9, 3, 3], index);
    const actual = pooled!.data as Float32Array;
    for (let d = 0; d < 4; d++) expect(actual[d]).toBeCloseTo(expected[d]!, 5);
  });

  it('refuses heads that do not divide hidden_size, as a ConfigError', () => {
    expect(() =>
      buildModelGraph('attention', memoryCheckpoint({}), {}, (root) => {
        const x = root.graph.input('x', 'float32', [1, 2, 6]);
        clipAttention(root.child('self_attn'), x, { ...config, hidden_size: 6, num_attention_heads: 4 });
      }),
    ).toThrowError(new ConfigError('self_attn: hidden_size 6 is not a multiple of num_attention_heads 4'));
  });
});

describe('CLIP vision embeddings', () => {
  const config: CLIPVisionTowerConfig = {
    num_channels: 3,
    image_size: 8,
    patch_size: 4,
    hidden_size: 4,
    intermediate_size: 8,
    num_hidden_layers: 0,
    num_attention_heads: 2,
    hidden_act: 'quick_gelu',
    layer_norm_eps: 1e-5,
  };
  const weights = {
    'embeddings.patch_embedding.weight': tensor([4, 3, 4, 4], 1, 0.2),
    'embeddings.class_embedding': tensor([4], 2),
    'embeddings.position_embedding.weight': tensor([5, 4], 3),
  };

  async function embed(side: number, interpolatePositions: boolean): Promise<Tensor> {
    const built = buildModelGraph('vision', memoryCheckpoint(weights), {}, (root) => {
      const pixels = root.graph.input('pixel_values', 'float32', ['batch', 3, 'height', 'width']);
      const embedded = clipVisionEmbeddings(root.child('embeddings'), pixels, config, {
        interpolatePositions,
      });
      root.graph.output(embedded, 'embeddings', 'float32', ['batch', 'tokens', 4]);
    });
    const { embeddings } = await runOnnxGraph(built.graph, { pixel_values: tensor([2, 3, side, side], 4) });
    return embeddings!;
  }

  it('interpolating to the trained grid changes nothing (bicubic at scale 1 is the identity)', async () => {
    const plain = await embed(8, false);
    const interpolated = await embed(8, true);
    expect(interpolated.dims).toEqual([2, 5, 4]);
    const a = plain.data as Float32Array;
    const b = interpolated.data as Float32Array;
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i]!, 6);
  });

  it('interpolates to a larger input’s patch grid, the class token’s position kept (fixture clipseg: 2x2 -> 3x3)', async () => {
    const embedded = await embed(12, true);
    expect(embedded.dims).toEqual([2, 10, 4]);
    // Token 0 is class_embedding + the class row of the table, whatever the grid.
    const classRow = [0, 1, 2, 3].map(
      (d) =>
        weights['embeddings.class_embedding'].data[d]! +
        weights['embeddings.position_embedding.weight'].data[d]!,
    );
    for (let d = 0; d < 4; d++) expect((embedded.data as Float32Array)[d]).toBeCloseTo(classRow[d]!, 6);
  });
});
