import { InvalidArgumentError } from '../../errors.js';
import type { Value } from '../graph.js';
import type { Module } from '../module.js';
import { foldBatchNorm } from '../weight-transforms.js';
import { type FoldedBatchNorm, batchNormKeys, readBatchNorm } from './batch-norm.js';
import { storedFloat, storedSuffix, storedWeight, toStored, widened } from './precision.js';

export interface ConvOptions {
  readonly inChannels: number;
  readonly outChannels: number;
  /** One size per spatial axis: [k] for Conv1d, [kh, kw] for Conv2d. */
  readonly kernelSize: readonly number[];
  /** A number applies to every spatial axis, as in torch; default 1. */
  readonly stride?: number | readonly number[];
  /** torch's symmetric zero padding per spatial axis; default 0. */
  readonly padding?: number | readonly number[];
  readonly dilation?: number | readonly number[];
  readonly groups?: number;
  /** Default true. */
  readonly bias?: boolean;
  /** An eval-mode BatchNorm over the output channels, folded into the kernel and bias (LeViT's Conv+BN). */
  readonly batchNorm?: FoldedBatchNorm;
}

function perAxis(
  name: string,
  value: number | readonly number[] | undefined,
  rank: number,
  fallback: number,
): number[] {
  if (value === undefined) return Array(rank).fill(fallback);
  if (typeof value === 'number') return Array(rank).fill(value);
  if (value.length !== rank) {
    throw new InvalidArgumentError(
      `conv: ${name} [${value.join(', ')}] must have ${rank} values, one per spatial axis`,
    );
  }
  return [...value];
}

function checkGroups(m: Module, inChannels: number, outChannels: number, groups: number): void {
  if (!Number.isInteger(groups) || groups < 1 || inChannels % groups !== 0 || outChannels % groups !== 0) {
    throw new InvalidArgumentError(
      `conv ${m.path}: ${inChannels} -> ${outChannels} channels do not split into ${groups} groups`,
    );
  }
}

function convAttributes(options: ConvOptions) {
  const rank = options.kernelSize.length;
  const padding = perAxis('padding', options.padding, rank, 0);
  return {
    kernel_shape: [...options.kernelSize],
    strides: perAxis('stride', options.stride, rank, 1),
    pads: [...padding, ...padding],
    dilations: perAxis('dilation', options.dilation, rank, 1),
    group: options.groups ?? 1,
  };
}

/**
 * torch's `nn.Conv1d` / `nn.Conv2d` at module `m` (`m.weight` [out, in/groups, ...kernel], `m.bias` [out]) as one
 * ONNX Conv. With `batchNorm`, BatchNorm(Conv(x)) is folded into the kernel and bias (initializers
 * `${key}/folded...`), as torch's exporter does in eval mode; with 'fp16' the kernel is stored as float16.
 *
 * @example
 * ```ts
 * const patches = conv(embeddings.child('patch_embeddings', 'projection'), pixels, {
 *   inChannels: 3, outChannels: 768, kernelSize: [16, 16], stride: 16,
 * });
 * ```
 */
export function conv(m: Module, x: Value, options: ConvOptions): Value {
  const { inChannels, outChannels, kernelSize, batchNorm } = options;
  const groups = options.groups ?? 1;
  checkGroups(m, inChannels, outChannels, groups);
  const shape = [outChannels, inChannels / groups, ...kernelSize];
  const hasBias = options.bias ?? true;
  const weightKey = m.weight('weight', shape).key;
  const biasKey = hasBias ? m.weight('bias', [outChannels]).key : undefined;
  const attributes = convAttributes(options);
  if (batchNorm) {
    const bnKeys = batchNormKeys(batchNorm, outChannels);
    const [kernel, bias] = m.derived(
      [weightKey, ...(biasKey ? [biasKey] : []), ...bnKeys],
      [
        { suffix: storedSuffix(m, 'folded'), dtype: storedFloat(m), dims: shape },
        { suffix: 'folded_bias', dtype: 'float32', dims: [outChannels] },
      ],
      async (read) => {
        const folded = foldBatchNorm(
          await read(weightKey),
          biasKey ? await read(biasKey) : undefined,
          await readBatchNorm(read, bnKeys, batchNorm.eps),
        );
        return [toStored(m, folded.weight), folded.bias];
      },
    );
    return m.op('Conv', [x, widened(m, kernel!), bias], attributes);
  }
  const bias = hasBias ? m.param('bias', [outChannels]) : undefined;
  return m.op('Conv', [x, storedWeight(m, 'weight', shape), bias], attributes);
}

export interface ConvTransposeOptions extends Omit<ConvOptions, 'batchNorm'> {
  /** torch's output_padding per spatial axis; default 0. */
  readonly outputPadding?: number | readonly number[];
}

/**
 * torch's `nn.ConvTranspose1d` / `nn.ConvTranspose2d` at module `m` (`m.weight` [in, out/groups, ...kernel], the
 * layout ONNX ConvTranspose takes as is) as one ONNX ConvTranspose.
 *
 * @example
 * ```ts
 * const up = convTranspose(decoder.child('upsample'), x, { inChannels: 64, outChannels: 32, kernelSize: [2, 2], stride: 2 });
 * ```
 */
export function convTranspose(m: Module, x: Value, options: ConvTransposeOptions): Value {
  const { inChannels, outChannels, kernelSize } = options;
  const groups = options.groups ?? 1;
  checkGroups(m, inChannels, outChannels, groups);
  const shape = [inChannels, outChannels / groups, ...kernelSize];
  const kernel = storedWeight(m, 'weight', shape);
  const bias = (options.bias ?? true) ? m.param('bias', [outChannels]) : undefined;
  return m.op('ConvTranspose', [x, kernel, bias], {
    ...convAttributes(options),
    output_padding: perAxis('output_padding', options.outputPadding, kernelSize.length, 0),
  });
}
