import type { Module } from '../module.js';
import type { BatchNormParams } from '../weight-transforms.js';

/** An eval-mode BatchNorm that follows a Conv or Linear and is folded into it. */
export interface FoldedBatchNorm {
  /** The BatchNorm module (`...batch_norm`), whose weight, bias, running_mean and running_var are read. */
  readonly module: Module;
  /** config's or torch's default (1e-5). */
  readonly eps: number;
}

/**
 * Checks a BatchNorm's four tensors (each [channels]) and returns their keys. `num_batches_tracked` (a training
 * counter eval mode never reads) is marked as used when the checkpoint has it, so it is not reported as left over.
 */
export function batchNormKeys(bn: FoldedBatchNorm, channels: number): string[] {
  const names = ['weight', 'bias', 'running_mean', 'running_var'];
  for (const name of names) bn.module.weight(name, [channels]);
  if (bn.module.hasWeight('num_batches_tracked')) {
    bn.module.weights.info(bn.module.key('num_batches_tracked'));
  }
  return names.map((name) => bn.module.key(name));
}

/** Reads a BatchNorm's parameters (keys from `batchNormKeys`). */
export async function readBatchNorm(
  read: (key: string) => Promise<Float32Array>,
  keys: readonly string[],
  eps: number,
): Promise<BatchNormParams> {
  const [weight, bias, runningMean, runningVar] = await Promise.all(keys.map(read));
  return { weight: weight!, bias: bias!, runningMean: runningMean!, runningVar: runningVar!, eps };
}
