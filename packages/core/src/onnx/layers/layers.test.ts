import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Checkpoint } from '../../checkpoint/checkpoint.js';
import { StateDict } from '../../checkpoint/state-dict.js';
import { CheckpointError, ConfigError } from '../../errors.js';
import { Tensor } from '../../tensor/tensor.js';
import { memoryCheckpoint } from '../../testing/memory-checkpoint.js';
import { readOnnxModel } from '../../testing/onnx-reader.js';
import { runOnnxGraph } from '../../testing/run-graph.js';
import type { Value } from '../graph.js';
import { type BuiltGraph, buildModelGraph } from '../model-graph.js';
import type { GraphDtype, Module } from '../module.js';
import { writeOnnxModel } from '../write-model.js';
import { ACTIVATION_NAMES, activation } from './activation.js';
import { invertAttentionMask, scaledDotProductAttention, selfAttention } from './attention.js';
import { conv, convTranspose } from './conv.js';
import { embedding } from './embedding.js';
import { layerNorm } from './layer-norm.js';
import { linear } from './linear.js';

/** Deterministic values in [-scale, scale). */
function values(length: number, seed: number, scale = 1): Float32Array {
  return Float32Array.from({ length }, (_, i) => Math.sin(i * 12.9898 + seed * 78.233) * scale);
}

function tensor(dims: number[], seed: number, scale = 1): Tensor<'float32'> {
  return new Tensor(
    'float32',
    values(
      dims.reduce((a, b) => a * b, 1),
      seed,
      scale,
    ),
    dims,
  );
}

/** Builds a one-input graph whose output is `describe(root, x)`, runs it on `x`, returns the output and graph. */
async function runLayer(
  checkpoint: Checkpoint,
  x: Tensor,
  outputDims: number[],
  describe: (root: Module, x: Value) => Value,
  dtype: GraphDtype = 'fp32',
): Promise<{ y: Tensor<'float32'>; built: BuiltGraph }> {
  const built = buildModelGraph('layer', checkpoint, { dtype }, (root) => {
    const input = root.graph.input('x', x.dtype as 'float32', x.dims);
    root.graph.output(describe(root, input), 'y', 'float32', outputDims);
  });
  const { y } = await runOnnxGraph(built.graph, { x });
  expect(y!.dims).toEqual(outputDims);
  return { y: y as Tensor<'float32'>, built };
}

function expectClose(actual: Float32Array, expected: ArrayLike<number>, atol: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  expect(worst).toBeLessThanOrEqual(atol);
}

/** x [rows, in] · Wᵀ + b, W [out, in] as torch stores it. */
function linearReference(
  x: Float32Array,
  w: Float32Array,
  b: Float32Array | undefined,
  out: number,
): number[] {
  const inFeatures = w.length / out;
  const rows = x.length / inFeatures;
  const y: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < out; o++) {
      let sum = b?.[o] ?? 0;
      for (let i = 0; i < inFeatures; i++) sum += x[r * inFeatures + i]! * w[o * inFeatures + i]!;
      y.push(sum);
    }
  }
  return y;
}

describe('linear', () => {
  const weights = { 'fc.weight': tensor([6, 5], 1), 'fc.bias': tensor([6], 2) };
  const x = tensor([2, 3, 5], 3);
  const expected = linearReference(x.data, weights['fc.weight'].data, weights['fc.bias'].data, 6);
  const build = (root: Module, input: Value) =>
    linear(root.child('fc'), input, { inFeatures: 5, outFeatures: 6 });

  it('computes x·Wᵀ + b over the last axis with the weight stored pre-transposed', async () => {
    const { y, built } = await runLayer(memoryCheckpoint(weights), x, [2, 3, 6], build);
    expectClose(y.data, expected, 1e-6);
    expect(built.graph.initializers.map((i) => [i.value.name, i.dims])).toEqual([
      ['fc.weight/transposed', [5, 6]],
      ['fc.bias', [6]],
    ]);
    expect(built.graph.nodes.map((n) => n.name)).toEqual(['fc/MatMul', 'fc/Add']);
  });

  it('stores the weight as float16 for fp16 (within float16 rounding of the float32 result)', async () => {
    const { y, built } = await runLayer(memoryCheckpoint(weights), x, [2, 3, 6], build, 'fp16');
    // |w| <= 1 is rounded to within 2^-12 relative; |x| <= 1 over 5 inputs.
    expectClose(y.data, expected, 5 * 2 ** -11);
    expect(built.graph.initializers[0]!.dtype).toBe('float16');
    expect(built.graph.nodes.map((n) => n.opType)).toEqual(['Cast', 'MatMul', 'Add']);
  });

  it('quantizes the weight to int8 per output channel for q8 (DynamicQuantizeMatMul, bias inside)', async () => {
    const { y, built } = await runLayer(memoryCheckpoint(weights), x, [2, 3, 6], build, 'q8');
    // Weight step <= 1/127 and activation step <= 2/255 per element, over 5 inputs of |v| <= 1.
    expectClose(y.data, expected, 5 * (1 / 254 + 1 / 255) + 1e-6);
    expect(built.graph.nodes.map((n) => [n.opType, n.domain])).toEqual([
      ['DynamicQuantizeMatMul', 'com.microsoft'],
    ]);
    expect(built.graph.initializers.map((i) => [i.value.name, i.dtype, i.dims])).toEqual([
      ['fc.weight/int8', 'int8', [5, 6]],
      ['fc.weight/scale', 'float32', [6]],
      ['fc.bias', 'float32', [6]],
    ]);
    expect(built.graph.opsetImports.get('com.microsoft')).toBe(1);
  });

  it('keeps a q8 layer over a constant input in float (constantInput), for ONNX Runtime to fold', async () => {
    const { y, built } = await runLayer(
      memoryCheckpoint(weights),
      x,
      [2, 3, 6],
      (root, input) =>
        linear(root.child('fc'), input, { inFeatures: 5, outFeatures: 6, constantInput: true }),
      'q8',
    );
    expectClose(y.data, expected, 1e-6);
    expect(built.graph.nodes.map((n) => n.opType)).toEqual(['MatMul', 'Add']);
    expect(built.graph.initializers.map((i) => [i.value.name, i.dtype])).toEqual([
      ['fc.weight/transposed', 'float32'],
      ['fc.bias', 'float32'],
    ]);
  });

  it('multiplies by another module’s weight with weightFrom (an output layer reusing an embedding table)', async () => {
    const tied = { 'emb.weight': weights['fc.weight'], 'head.bias': weights['fc.bias'] };
    const { y, built } = await runLayer(memoryCheckpoint(tied), x, [2, 3, 6], (root, input) =>
      linear(root.child('head'), input, { inFeatures: 5, outFeatures: 6, weightFrom: root.child('emb') }),
    );
    expectClose(y.data, expected, 1e-6);
    expect(built.graph.initializers.map((i) => i.value.name)).toEqual(['emb.weight/transposed', 'head.bias']);
    expect(built.graph.nodes.map((n) => n.name)).toEqual(['head/MatMul', 'head/Add']);
    expect(built.unusedKeys).toEqual([]);
  });

  it('works without bias, on 2-D input', async () => {
    const x2 = tensor([4, 5], 7);
    const { y } = await runLayer(
      memoryCheckpoint({ 'fc.weight': weights['fc.weight'] }),
      x2,
      [4, 6],
      (root, input) => linear(root.child('fc'), input, { inFeatures: 5, outFeatures: 6, bias: false }),
    );
    expectClose(y.data, linearReference(x2.data, weights['fc.weight'].data, undefined, 6), 1e-6);
  });

  it.each(['fp32', 'q8'] as const)(
    'folds a following BatchNorm1d into the weight and bias (%s)',
    async (dtype) => {
      const bn = {
        'fc.batch_norm.weight': tensor([6], 4),
        'fc.batch_norm.bias': tensor([6], 5),
        'fc.batch_norm.running_mean': tensor([6], 6, 0.5),
        'fc.batch_norm.running_var': new Tensor(
          'float32',
          Float32Array.from({ length: 6 }, (_, i) => 0.5 + i / 4),
          [6],
        ),
        'fc.batch_norm.num_batches_tracked': new Tensor('float32', Float32Array.of(3), []),
        'fc.linear.weight': weights['fc.weight'],
      };
      const { y, built } = await runLayer(
        memoryCheckpoint(bn),
        x,
        [2, 3, 6],
        (root, input) =>
          linear(root.child('fc', 'linear'), input, {
            inFeatures: 5,
            outFeatures: 6,
            bias: false,
            batchNorm: { module: root.child('fc', 'batch_norm'), eps: 1e-5 },
          }),
        dtype,
      );
      const plain = linearReference(x.data, weights['fc.weight'].data, undefined, 6);
      const expectedBn = plain.map((v, i) => {
        const c = i % 6;
        const s =
          bn['fc.batch_norm.weight'].data[c]! / Math.sqrt(bn['fc.batch_norm.running_var'].data[c]! + 1e-5);
        return (v - bn['fc.batch_norm.running_mean'].data[c]!) * s + bn['fc.batch_norm.bias'].data[c]!;
      });
      // The folded scale is at most 1/sqrt(0.5): q8's bound grows by that factor.
      expectClose(y.data, expectedBn, dtype === 'fp32' ? 1e-5 : 1.5 * 5 * (1 / 254 + 1 / 255));
      expect(built.unusedKeys).toEqual([]);
    },
  );

  it.each(['fp32', 'q8'] as const)(
    'folds a preceding BatchNorm1d over the input features into the weight and bias (%s)',
    async (dtype) => {
      const bn = {
        'head.batch_norm.weight': tensor([5], 4),
        'head.batch_norm.bias': tensor([5], 5),
        'head.batch_norm.running_mean': tensor([5], 6, 0.5),
        'head.batch_norm.running_var': new Tensor(
          'float32',
          Float32Array.from({ length: 5 }, (_, i) => 0.5 + i / 4),
          [5],
        ),
        'head.linear.weight': weights['fc.weight'],
        'head.linear.bias': weights['fc.bias'],
      };
      const { y, built } = await runLayer(
        memoryCheckpoint(bn),
        x,
        [2, 3, 6],
        (root, input) =>
          linear(root.child('head', 'linear'), input, {
            inFeatures: 5,
            outFeatures: 6,
            inputBatchNorm: { module: root.child('head', 'batch_norm'), eps: 1e-5 },
          }),
        dtype,
      );
      const normalized = x.data.map((v, i) => {
        const c = i % 5;
        const s =
          bn['head.batch_norm.weight'].data[c]! /
          Math.sqrt(bn['head.batch_norm.running_var'].data[c]! + 1e-5);
        return (v - bn['head.batch_norm.running_mean'].data[c]!) * s + bn['head.batch_norm.bias'].data[c]!;
      });
      const expectedBn = linearReference(normalized, weights['fc.weight'].data, weights['fc.bias'].data, 6);
      // The normalized inputs reach about 2.5 in magnitude (|x| <= 1, scale <= 1/sqrt(0.5), shift <= 1.7): q8's
      // activation step grows with that range.
      expectClose(y.data, expectedBn, dtype === 'fp32' ? 1e-5 : 3 * 5 * (1 / 254 + 1 / 255));
      expect(built.unusedKeys).toEqual([]);
      expect(built.graph.initializers.map((i) => i.value.name)).toEqual(
        dtype === 'fp32'
          ? ['head.linear.weight/folded_transposed', 'head.linear.weight/folded_bias']
          : [
              'head.linear.weight/folded_int8',
              'head.linear.weight/folded_scale',
              'head.linear.weight/folded_bias',
            ],
      );
    },
  );

  it('names the key, file and both shapes when the checkpoint disagrees with the config', async () => {
    const checkpoint = memoryCheckpoint(weights, 'fc.safetensors');
    expect(() =>
      buildModelGraph('layer', checkpoint, {}, (root) => {
        linear(root.child('fc'), root.graph.input('x', 'float32', [5]), { inFeatures: 4, outFeatures: 6 });
      }),
    ).toThrowError(
      new CheckpointError("fc.safetensors: 'fc.weight' has shape [6, 5], but the config implies [6, 4]"),
    );
    expect(() =>
      buildModelGraph('layer', checkpoint, {}, (root) => {
        linear(root.child('dense'), root.graph.input('x', 'float32', [5]), { inFeatures: 5, outFeatures: 6 });
      }),
    ).toThrowError(new CheckpointError("fc.safetensors has no weight 'dense.weight'"));
  });
});

describe('layerNorm', () => {
  it('normalizes the last axis with weight, bias and eps', async () => {
    const weights = { 'ln.weight': tensor([8], 1), 'ln.bias': tensor([8], 2) };
    const x = tensor([3, 8], 3, 4);
    const { y } = await runLayer(memoryCheckpoint(weights), x, [3, 8], (root, input) =>
      layerNorm(root.child('ln'), input, { size: 8, eps: 1e-5 }),
    );
    const expected: number[] = [];
    for (let r = 0; r < 3; r++) {
      const row = [...x.data.subarray(r * 8, r * 8 + 8)];
      const mean = row.reduce((a, b) => a + b) / 8;
      const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / 8;
      row.forEach((v, i) =>
        expected.push(
          ((v - mean) / Math.sqrt(variance + 1e-5)) * weights['ln.weight'].data[i]! +
            weights['ln.bias'].data[i]!,
        ),
      );
    }
    expectClose(y.data, expected, 1e-5);
  });
});

describe('activation', () => {
  const erf = (x: number) => {
    // Abramowitz-Stegun 7.1.26 is too coarse for 1e-6; integrate the series instead (|x| <= 4 here).
    let sum = 0;
    let term = x;
    for (let n = 0; n < 80; n++) {
      sum += term / (2 * n + 1);
      term *= (-x * x) / (n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  };
  const tanhGelu = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
  const formulas: Record<string, (x: number) => number> = {
    gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
    gelu_python: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
    gelu_new: tanhGelu,
    gelu_pytorch_tanh: tanhGelu,
    gelu_fast: tanhGelu,
    gelu_accurate: tanhGelu,
    quick_gelu: (x) => x / (1 + Math.exp(-1.702 * x)),
    silu: (x) => x / (1 + Math.exp(-x)),
    swish: (x) => x / (1 + Math.exp(-x)),
    relu: (x) => Math.max(0, x),
    hardswish: (x) => (x * Math.min(Math.max(x + 3, 0), 6)) / 6,
    tanh: Math.tanh,
    sigmoid: (x) => 1 / (1 + Math.exp(-x)),
    linear: (x) => x,
  };

  it('covers every name it accepts', () => {
    expect(Object.keys(formulas).sort()).toEqual([...ACTIVATION_NAMES].sort());
  });

  it.each(Object.keys(formulas))('%s computes transformers’ ACT2FN formula', async (name) => {
    const x = new Tensor(
      'float32',
      Float32Array.from({ length: 81 }, (_, i) => (i - 40) / 10),
      [81],
    );
    const { y } = await runLayer(memoryCheckpoint({}), x, [81], (root, input) =>
      name === 'linear'
        ? root.op('Identity', [activation(root, input, name)])
        : activation(root, input, name),
    );
    expectClose(y.data, [...x.data].map(formulas[name]!), 2e-6);
  });

  it('refuses an unknown activation with a ConfigError listing the known ones', () => {
    expect(() =>
      buildModelGraph('layer', memoryCheckpoint({}), {}, (root) => {
        activation(root, root.graph.input('x', 'float32', [1]), 'mish');
      }),
    ).toThrowError(ConfigError);
  });
});

/** Direct N-d convolution (N = 1 or 2 spatial axes, as [length] or [height, width]). */
function convReference(
  x: Float32Array,
  [batch, channels, ...spatial]: number[],
  w: Float32Array,
  [out, perGroup, ...kernel]: number[],
  b: Float32Array | undefined,
  {
    stride,
    padding,
    dilation,
    groups,
  }: { stride: number[]; padding: number[]; dilation: number[]; groups: number },
): { data: number[]; dims: number[] } {
  const [h, wd] = spatial.length === 2 ? spatial : [1, spatial[0]!];
  const [kh, kw] = kernel.length === 2 ? kernel : [1, kernel[0]!];
  const [sh, sw] = stride.length === 2 ? stride : [1, stride[0]!];
  const [ph, pw] = padding.length === 2 ? padding : [0, padding[0]!];
  const [dh, dw] = dilation.length === 2 ? dilation : [1, dilation[0]!];
  const oh = Math.floor((h! + 2 * ph! - dh! * (kh! - 1) - 1) / sh!) + 1;
  const ow = Math.floor((wd! + 2 * pw! - dw! * (kw! - 1) - 1) / sw!) + 1;
  const outPerGroup = out! / groups;
  const data: number[] = [];
  for (let n = 0; n < batch!; n++)
    for (let o = 0; o < out!; o++)
      for (let y = 0; y < oh; y++)
        for (let xo = 0; xo < ow; xo++) {
          let sum = b?.[o] ?? 0;
          const g = Math.floor(o / outPerGroup);
          for (let c = 0; c < perGroup!; c++)
            for (let i = 0; i < kh!; i++)
              for (let j = 0; j < kw!; j++) {
                const iy = y * sh! - ph! + i * dh!;
                const ix = xo * sw! - pw! + j * dw!;
                if (iy < 0 || iy >= h! || ix < 0 || ix >= wd!) continue;
                const channel = g * perGroup! + c;
                sum +=
                  x[((n * channels! + channel) * h! + iy) * wd! + ix]! *
                  w[((o * perGroup! + c) * kh! + i) * kw! + j]!;
              }
          data.push(sum);
        }
  return { data, dims: spatial.length === 2 ? [batch!, out!, oh, ow] : [batch!, out!, ow] };
}

describe('conv', () => {
  it.each([
    {
      name: 'Conv2d stride 2, padding 1, groups 2',
      spatial: [7, 6],
      kernel: [3, 3],
      stride: [2, 2],
      padding: [1, 1],
      dilation: [1, 1],
      groups: 2,
    },
    {
      name: 'Conv2d dilation 2, no padding',
      spatial: [8, 8],
      kernel: [3, 2],
      stride: [1, 1],
      padding: [0, 0],
      dilation: [2, 2],
      groups: 1,
    },
    {
      name: 'Conv1d stride 3, padding 2',
      spatial: [11],
      kernel: [4],
      stride: [3],
      padding: [2],
      dilation: [1],
      groups: 1,
    },
    {
      name: 'depthwise Conv2d',
      spatial: [5, 5],
      kernel: [3, 3],
      stride: [1, 1],
      padding: [1, 1],
      dilation: [1, 1],
      groups: 4,
    },
  ])('$name matches a direct convolution', async ({ spatial, kernel, stride, padding, dilation, groups }) => {
    const inChannels = 4;
    const outChannels = groups === 4 ? 4 : 6;
    const shape = [outChannels, inChannels / groups, ...kernel];
    const weights = { 'conv.weight': tensor(shape, 1), 'conv.bias': tensor([outChannels], 2) };
    const x = tensor([2, inChannels, ...spatial], 3);
    const expected = convReference(
      x.data,
      x.dims as number[],
      weights['conv.weight'].data,
      shape,
      weights['conv.bias'].data,
      {
        stride,
        padding,
        dilation,
        groups,
      },
    );
    const { y } = await runLayer(memoryCheckpoint(weights), x, expected.dims, (root, input) =>
      conv(root.child('conv'), input, {
        inChannels,
        outChannels,
        kernelSize: kernel,
        stride,
        padding,
        dilation,
        groups,
      }),
    );
    expectClose(y.data, expected.data, 1e-5);
  });

  it('folds a following BatchNorm2d into the kernel and bias (and stores it as float16 for fp16)', async () => {
    const weights = {
      'conv.weight': tensor([3, 2, 3, 3], 1),
      'bn.weight': tensor([3], 2),
      'bn.bias': tensor([3], 3),
      'bn.running_mean': tensor([3], 4),
      'bn.running_var': new Tensor('float32', Float32Array.of(0.5, 1, 2), [3]),
    };
    const x = tensor([1, 2, 5, 5], 5);
    const plain = convReference(x.data, [1, 2, 5, 5], weights['conv.weight'].data, [3, 2, 3, 3], undefined, {
      stride: [1, 1],
      padding: [1, 1],
      dilation: [1, 1],
      groups: 1,
    });
    const expected = plain.data.map((v, i) => {
      const c = Math.floor(i / 25);
      const s = weights['bn.weight'].data[c]! / Math.sqrt(weights['bn.running_var'].data[c]! + 1e-3);
      return (v - weights['bn.running_mean'].data[c]!) * s + weights['bn.bias'].data[c]!;
    });
    for (const dtype of ['fp32', 'fp16'] as const) {
      const { y, built } = await runLayer(
        memoryCheckpoint(weights),
        x,
        [1, 3, 5, 5],
        (root, input) =>
          conv(root.child('conv'), input, {
            inChannels: 2,
            outChannels: 3,
            kernelSize: [3, 3],
            padding: 1,
            bias: false,
            batchNorm: { module: root.child('bn'), eps: 1e-3 },
          }),
        dtype,
      );
      // fp16: 18 products of |x| <= 1 and |w·s| <= 1.5, each rounded to 2^-11 relative.
      expectClose(y.data, expected, dtype === 'fp32' ? 1e-5 : 18 * 1.5 * 2 ** -11);
      expect(built.graph.initializers.map((i) => [i.value.name, i.dtype])).toEqual([
        [
          dtype === 'fp32' ? 'conv.weight/folded' : 'conv.weight/folded_fp16',
          dtype === 'fp32' ? 'float32' : 'float16',
        ],
        ['conv.weight/folded_bias', 'float32'],
      ]);
    }
  });
  it('refuses channels that do not split into the groups', () => {
    const weights = { 'conv.weight': tensor([6, 2, 1, 1], 1) };
    expect(() =>
      buildModelGraph('layer', memoryCheckpoint(weights), {}, (root) => {
        conv(root.child('conv'), root.graph.input('x', 'float32', [1, 4, 2, 2]), {
          inChannels: 4,
          outChannels: 6,
          kernelSize: [1, 1],
          groups: 4,
        });
      }),
    ).toThrowError('conv conv: 4 -> 6 channels do not split into 4 groups');
  });
});

describe('convTranspose', () => {
  it('ConvTranspose2d stride 2 matches scattering each input through the kernel', async () => {
    const weights = { 'up.weight': tensor([3, 2, 2, 3], 1), 'up.bias': tensor([2], 2) };
    const x = tensor([1, 3, 3, 2], 3);
    const oh = (3 - 1) * 2 + 2; // (in - 1)·stride + kernel
    const ow = (2 - 1) * 2 + 3;
    const expected = new Array(2 * oh * ow)
      .fill(0)
      .map((_, i) => weights['up.bias'].data[Math.floor(i / (oh * ow))]!);
    for (let c = 0; c < 3; c++)
      for (let iy = 0; iy < 3; iy++)
        for (let ix = 0; ix < 2; ix++)
          for (let o = 0; o < 2; o++)
            for (let i = 0; i < 2; i++)
              for (let j = 0; j < 3; j++) {
                const at = (o * oh + iy * 2 + i) * ow + ix * 2 + j;
                expected[at] =
                  expected[at]! +
                  x.data[(c * 3 + iy) * 2 + ix]! * weights['up.weight'].data[((c * 2 + o) * 2 + i) * 3 + j]!;
              }
    const { y } = await runLayer(memoryCheckpoint(weights), x, [1, 2, oh, ow], (root, input) =>
      convTranspose(root.child('up'), input, {
        inChannels: 3,
        outChannels: 2,
        kernelSize: [2, 3],
        stride: 2,
      }),
    );
    expectClose(y.data, expected, 1e-5);
  });
});

describe('embedding', () => {
  it.each(['fp32', 'fp16'] as const)('picks rows of the table by id (%s)', async (dtype) => {
    const table = tensor([10, 4], 1);
    const ids = new Tensor('int64', BigInt64Array.of(3n, 0n, 9n, 3n), [2, 2]);
    const built = buildModelGraph('layer', memoryCheckpoint({ 'emb.weight': table }), { dtype }, (root) => {
      const input = root.graph.input('ids', 'int64', [2, 2]);
      root.graph.output(
        embedding(root.child('emb'), input, { numEmbeddings: 10, embeddingDim: 4 }),
        'y',
        'float32',
        [2, 2, 4],
      );
    });
    const { y } = await runOnnxGraph(built.graph, { ids });
    const expected = [3, 0, 9, 3].flatMap((row) => [...table.data.subarray(row * 4, row * 4 + 4)]);
    expectClose(y!.data as Float32Array, expected, dtype === 'fp32' ? 0 : 2 ** -11);
  });
});

/** softmax(q·kᵀ·scale + bias)·v per head, heads concatenated: q/k [batch, seq, heads·d]. */
function attentionReference(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  [batch, queries, keys, heads, d]: number[],
  bias?: Float32Array,
): number[] {
  const out = new Array(batch! * queries! * heads! * d!).fill(0);
  for (let n = 0; n < batch!; n++)
    for (let h = 0; h < heads!; h++)
      for (let i = 0; i < queries!; i++) {
        const scores = [];
        for (let j = 0; j < keys!; j++) {
          let s = 0;
          for (let t = 0; t < d!; t++)
            s +=
              q[(n * queries! + i) * heads! * d! + h * d! + t]! *
              k[(n * keys! + j) * heads! * d! + h * d! + t]!;
          scores.push(s / Math.sqrt(d!) + (bias?.[(h * queries! + i) * keys! + j] ?? 0));
        }
        const max = Math.max(...scores);
        const exps = scores.map((s) => Math.exp(s - max));
        const total = exps.reduce((a, b) => a + b);
        for (let j = 0; j < keys!; j++)
          for (let t = 0; t < d!; t++)
            out[(n * queries! + i) * heads! * d! + h * d! + t] +=
              (exps[j]! / total) * v[(n * keys! + j) * heads! * d! + h * d! + t]!;
      }
  return out;
}

describe('attention', () => {
  it('selfAttention projects x and attends per head as transformers does', async () => {
    const hidden = 8;
    const names = ['query', 'key', 'value'];
    const weights = Object.fromEntries(
      names.flatMap((p, i) => [
        [`attn.${p}.weight`, tensor([hidden, hidden], i + 1)],
        [`attn.${p}.bias`, tensor([hidden], i + 10)],
      ]),
    );
    const x = tensor([2, 5, hidden], 20);
    const [q, k, v] = names.map((p) =>
      Float32Array.from(
        linearReference(x.data, weights[`attn.${p}.weight`]!.data, weights[`attn.${p}.bias`]!.data, hidden),
      ),
    );
    const expected = attentionReference(q!, k!, v!, [2, 5, 5, 2, 4]);
    const { y, built } = await runLayer(memoryCheckpoint(weights), x, [2, 5, hidden], (root, input) =>
      selfAttention(root.child('attn'), input, { hiddenSize: hidden, numHeads: 2, headDim: 4 }),
    );
    expectClose(y.data, expected, 1e-5);
    expect(built.unusedKeys).toEqual([]);
  });

  it('scaledDotProductAttention adds a per-head score bias (cross-attention: more keys than queries)', async () => {
    const q = tensor([1, 3, 6], 1);
    const k = tensor([1, 4, 6], 2);
    const v = tensor([1, 4, 6], 3);
    const bias = tensor([2, 3, 4], 4, 2);
    const built = buildModelGraph('attention', memoryCheckpoint({}), {}, (root) => {
      const [qi, ki, vi] = (['q', 'k', 'v'] as const).map((n, i) =>
        root.graph.input(n, 'float32', [1, i === 0 ? 3 : 4, 6]),
      );
      const b = root.graph.input('bias', 'float32', [2, 3, 4]);
      const y = scaledDotProductAttention(root.child('attn'), qi!, ki!, vi!, {
        numHeads: 2,
        headDim: 3,
        scoreBias: b,
      });
      root.graph.output(y, 'y', 'float32', [1, 3, 6]);
    });
    const { y } = await runOnnxGraph(built.graph, { q, k, v, bias });
    expectClose(
      y!.data as Float32Array,
      attentionReference(q.data, k.data, v.data, [1, 3, 4, 2, 3], bias.data),
      1e-5,
    );
  });
});

describe('invertAttentionMask', () => {
  it('turns a 0/1 padding mask [batch, keys] into the additive bias [batch, 1, 1, keys] transformers adds', async () => {
    const built = buildModelGraph('mask', memoryCheckpoint({}), {}, (root) => {
      const mask = root.graph.input('mask', 'int64', [2, 3]);
      root.graph.output(invertAttentionMask(root, mask), 'y', 'float32', [2, 1, 1, 3]);
    });
    const mask = new Tensor('int64', BigInt64Array.of(1n, 1n, 0n, 1n, 0n, 0n), [2, 3]);
    const { y } = await runOnnxGraph(built.graph, { mask });
    expect(y!.dims).toEqual([2, 1, 1, 3]);
    const min = -3.4028234663852886e38; // torch.finfo(torch.float32).min
    // (1 - 1)·min is -0, as in PyTorch: adding it leaves a score as it is.
    expect([...(y!.data as Float32Array)]).toEqual([-0, -0, min, -0, min, min]);
  });

  it('gives masked keys no weight after the softmax', async () => {
    const q = tensor([1, 2, 4], 1);
    const k = tensor([1, 3, 4], 2);
    const v = tensor([1, 3, 4], 3);
    const built = buildModelGraph('masked', memoryCheckpoint({}), {}, (root) => {
      const [qi, ki, vi] = (['q', 'k', 'v'] as const).map((n, i) =>
        root.graph.input(n, 'float32', [1, i === 0 ? 2 : 3, 4]),
      );
      const mask = root.graph.input('mask', 'int64', [1, 3]);
      const y = scaledDotProductAttention(root.child('attn'), qi!, ki!, vi!, {
        numHeads: 1,
        headDim: 4,
        scoreBias: invertAttentionMask(root, mask),
      });
      root.graph.output(y, 'y', 'float32', [1, 2, 4]);
    });
    const mask = new Tensor('int64', BigInt64Array.of(1n, 1n, 0n), [1, 3]);
    const { y } = await runOnnxGraph(built.graph, { q, k, v, mask });
    // The same as attending to the first two keys only.
    const expected = attentionReference(
      q.data,
      k.data.subarray(0, 8),
      v.data.subarray(0, 8),
      [1, 2, 2, 1, 4],
    );
    expectClose(y!.data as Float32Array, expected, 1e-6);
  });
});

describe('layer graphs', () => {
  it('name nodes by module path and initializers by state-dict key, readable from the written file', async () => {
    const weights = {
      'encoder.layer.0.fc.weight': tensor([3, 2], 1),
      'encoder.layer.0.fc.bias': tensor([3], 2),
    };
    const built = buildModelGraph('names', memoryCheckpoint(weights), {}, (root) => {
      const x = root.graph.input('x', 'float32', ['batch_size', 2]);
      const fc = linear(root.child('encoder', 'layer', 0, 'fc'), x, { inFeatures: 2, outFeatures: 3 });
      root.graph.output(fc, 'y', 'float32', ['batch_size', 3]);
    });
    const dir = await mkdtemp(join(tmpdir(), 'ortvision-names-'));
    try {
      const model = await readOnnxModel((await writeOnnxModel(built.graph, join(dir, 'model.onnx'))).path);
      expect(model.nodes.map((n) => n.name)).toEqual(['encoder.layer.0.fc/MatMul', 'encoder.layer.0.fc/Add']);
      expect(model.initializers.map((t) => t.name)).toEqual([
        'encoder.layer.0.fc.weight/transposed',
        'encoder.layer.0.fc.bias',
      ]);
      expect(model.metadata).toEqual({ 'ortvision.builder': 'names', 'ortvision.dtype': 'fp32' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads weights by the keys it asked for through a key-mapping checkpoint (a base model on a head checkpoint)', async () => {
    const weights = { 'vit.fc.weight': tensor([3, 2], 1), 'vit.fc.bias': tensor([3], 2) };
    // A StateDict answers 'fc.weight' with the stored 'vit.fc.weight'; the writer must read 'fc.weight' again.
    const checkpoint = new StateDict(memoryCheckpoint(weights), { baseModelPrefix: 'vit' });
    const x = tensor([4, 2], 3);
    const { y, built } = await runLayer(checkpoint, x, [4, 3], (root, input) =>
      linear(root.child('fc'), input, { inFeatures: 2, outFeatures: 3 }),
    );
    expectClose(
      y.data,
      linearReference(x.data, weights['vit.fc.weight'].data, weights['vit.fc.bias'].data, 3),
      1e-6,
    );
    expect(built.graph.initializers.map((i) => i.value.name)).toEqual(['fc.weight/transposed', 'fc.bias']);
  });

  it('reports checkpoint keys the graph did not use', () => {
    const weights = {
      'fc.weight': tensor([3, 2], 1),
      'fc.bias': tensor([3], 2),
      'head.weight': tensor([1, 3], 3),
    };
    const built = buildModelGraph('unused', memoryCheckpoint(weights), {}, (root) => {
      const x = root.graph.input('x', 'float32', [2]);
      root.graph.output(linear(root.child('fc'), x, { inFeatures: 2, outFeatures: 3 }), 'y', 'float32', [3]);
    });
    expect(built.unusedKeys).toEqual(['head.weight']);
  });
});
