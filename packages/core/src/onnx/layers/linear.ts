import type { Value } from '../graph.js';
import type { Module } from '../module.js';
import {
  foldBatchNorm,
  foldInputBatchNorm,
  quantizeLinearWeight,
  transposeMatrix,
} from '../weight-transforms.js';
import { type FoldedBatchNorm, batchNormKeys, readBatchNorm } from './batch-norm.js';
import { storedFloat, storedSuffix, toStored, widened } from './precision.js';

export interface LinearOptions {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** Whether the layer has a bias (`nn.Linear(..., bias=...)`); default true. */
  readonly bias?: boolean;
  /** An eval-mode BatchNorm1d over the output features, folded into the weight and bias (LeViT's Linear+BN). */
  readonly batchNorm?: FoldedBatchNorm;
  /**
   * An eval-mode BatchNorm1d over the input features, applied before the layer (LeViT's classification heads,
   * BN then Linear), folded into the weight and bias.
   */
  readonly inputBatchNorm?: FoldedBatchNorm;
  /**
   * The module whose `weight` [out, in] the layer multiplies by, when it is another module's (a decoder that
   * reuses an input embedding table, as Perceiver's `embedding_decoder` multiplies by
   * `input_preprocessor.embeddings.weight`ᵀ and keeps only its own bias); default `m`.
   */
  readonly weightFrom?: Module;
  /**
   * The input is a function of weights alone (a learned position table): ONNX Runtime computes the layer once when
   * the session starts, so a q8 build keeps it in float. Quantized, it would lose precision and run every time,
   * as ONNX Runtime does not fold DynamicQuantizeMatMul.
   */
  readonly constantInput?: boolean;
}

/**
 * torch's `nn.Linear` at module `m` (`m.weight` [out, in], `m.bias` [out]) over the last axis of `x`.
 *
 * - fp32 / fp16: `MatMul(x, Wᵀ) + b`. The weight is stored pre-transposed ([in, out], initializer
 *   `${key}/transposed`) because ONNX MatMul takes [K, N]; ONNX Runtime fuses MatMul+Add into Gemm for 2-D inputs
 *   and keeps MatMul (with its prepacked weight) plus a broadcast Add for 3-D ones, as for torch's own export.
 *   fp16 stores that matrix as float16 (`/transposed_fp16`) and widens it with a Cast ONNX Runtime folds at load.
 * - q8: `com.microsoft.DynamicQuantizeMatMul(x, W_int8, scales, -, b)`: the weight quantized per output channel,
 *   symmetric (`/int8`, `/scale`), x quantized per call to uint8 with its own scale and zero point; the bias is
 *   added inside the same kernel. Chosen over MatMulInteger + DynamicQuantizeLinear (which ONNX Runtime fuses into
 *   the same kernel) and MatMulNBits (8 bits) by measurement on ViT-B/16 (see the core README).
 *
 * With `batchNorm`, BatchNorm1d(Linear(x)) is folded into one Linear (weight and bias `/folded...`): the same
 * function in eval mode, rounded once instead of twice; with `inputBatchNorm`, Linear(BatchNorm1d(x)) likewise.
 *
 * @example
 * ```ts
 * const query = linear(layer.child('attention', 'attention', 'query'), hidden, { inFeatures: 768, outFeatures: 768 });
 * ```
 */
export function linear(m: Module, x: Value, options: LinearOptions): Value {
  const { inFeatures, outFeatures, batchNorm, inputBatchNorm } = options;
  const hasBias = options.bias ?? true;
  const weightKey = (options.weightFrom ?? m).weight('weight', [outFeatures, inFeatures]).key;
  const biasKey = hasBias ? m.weight('bias', [outFeatures]).key : undefined;
  const inputBnKeys = inputBatchNorm ? batchNormKeys(inputBatchNorm, inFeatures) : [];
  const bnKeys = batchNorm ? batchNormKeys(batchNorm, outFeatures) : [];
  const sources = [weightKey, ...(biasKey ? [biasKey] : []), ...inputBnKeys, ...bnKeys];
  const fold = batchNorm !== undefined || inputBatchNorm !== undefined;
  const prefix = fold ? 'folded_' : '';
  // The weight (and, when folded, the bias) as written, computed in one pass over the checkpoint's tensors.
  const weightAndBias = async (read: (key: string) => Promise<Float32Array>) => {
    let layer = { weight: await read(weightKey), bias: biasKey ? await read(biasKey) : undefined };
    if (inputBatchNorm) {
      const bn = await readBatchNorm(read, inputBnKeys, inputBatchNorm.eps);
      layer = foldInputBatchNorm(layer.weight, layer.bias, bn);
    }
    if (batchNorm)
      layer = foldBatchNorm(layer.weight, layer.bias, await readBatchNorm(read, bnKeys, batchNorm.eps));
    return layer;
  };
  const foldedBias = (values: Value[]) =>
    fold ? values.at(-1) : biasKey ? m.param('bias', [outFeatures]) : undefined;
  const biasSpec = fold ? [{ suffix: 'folded_bias', dtype: 'float32' as const, dims: [outFeatures] }] : [];

  if (m.dtype === 'q8' && !options.constantInput) {
    const values = m.derived(
      sources,
      [
        { suffix: `${prefix}int8`, dtype: 'int8', dims: [inFeatures, outFeatures] },
        { suffix: `${prefix}scale`, dtype: 'float32', dims: [outFeatures] },
        ...biasSpec,
      ],
      async (read) => {
        const { weight, bias } = await weightAndBias(read);
        const { values: q, scales } = quantizeLinearWeight(weight, outFeatures, inFeatures);
        return fold ? [q, scales, bias!] : [q, scales];
      },
    );
    return m.op(
      'DynamicQuantizeMatMul',
      [x, values[0], values[1], undefined, foldedBias(values)],
      {},
      {
        domain: 'com.microsoft',
      },
    );
  }

  const values = m.derived(
    sources,
    [
      {
        suffix: storedSuffix(m, `${prefix}transposed`),
        dtype: storedFloat(m),
        dims: [inFeatures, outFeatures],
      },
      ...biasSpec,
    ],
    async (read) => {
      const { weight, bias } = await weightAndBias(read);
      const stored = toStored(m, transposeMatrix(weight, outFeatures, inFeatures));
      return fold ? [stored, bias!] : [stored];
    },
  );
  const product = m.op('MatMul', [x, widened(m, values[0]!)]);
  const bias = foldedBias(values);
  return bias ? m.op('Add', [product, bias]) : product;
}
