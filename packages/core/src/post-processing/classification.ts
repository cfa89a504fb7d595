import { InputShapeError, InvalidArgumentError } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';

/** What turns logits into scores, as the Hugging Face classification pipelines name it. */
export type ClassificationFunction = 'softmax' | 'sigmoid' | 'none';

/** One ranked label, the pipelines' `{ label, score }`. */
export interface LabelScore {
  label: string;
  score: number;
}

/** The config fields that decide how classification logits are scored and named. */
export interface ClassificationConfig {
  id2label?: Readonly<Record<string, string>>;
  num_labels?: number;
  problem_type?: string | null;
  function_to_apply?: string;
}

export interface ClassifyOptions {
  /** How many labels to return, best first (default 5, as the pipelines); more than there are gives all. */
  topK?: number;
  /** Default: sigmoid for multi-label or single-logit models, else softmax (the pipelines' rule). */
  functionToApply?: ClassificationFunction;
}

const functions: readonly ClassificationFunction[] = ['softmax', 'sigmoid', 'none'];

/** The pipelines' default scoring function for a model config. */
export function defaultClassificationFunction(
  config: ClassificationConfig,
  numLabels: number,
): ClassificationFunction {
  if (config.problem_type === 'multi_label_classification' || numLabels === 1) return 'sigmoid';
  if (config.problem_type === 'single_label_classification' || numLabels > 1) return 'softmax';
  const configured = config.function_to_apply;
  return functions.includes(configured as ClassificationFunction)
    ? (configured as ClassificationFunction)
    : 'none';
}

function scoreRow(row: Float32Array, fn: ClassificationFunction): Float64Array {
  const scores = new Float64Array(row.length);
  if (fn === 'softmax') {
    let max = Number.NEGATIVE_INFINITY;
    for (const value of row) max = Math.max(max, value);
    let sum = 0;
    for (let i = 0; i < row.length; i++) {
      scores[i] = Math.exp(row[i]! - max);
      sum += scores[i]!;
    }
    for (let i = 0; i < row.length; i++) scores[i] = scores[i]! / sum;
  } else if (fn === 'sigmoid') {
    for (let i = 0; i < row.length; i++) scores[i] = 1 / (1 + Math.exp(-row[i]!));
  } else {
    scores.set(row);
  }
  return scores;
}

/** The label of class `index`: `id2label` when the config has it, `LABEL_<i>` otherwise (transformers' default). */
export function labelOf(config: ClassificationConfig, index: number): string {
  return config.id2label?.[String(index)] ?? `LABEL_${index}`;
}

/**
 * Turns classification logits [batch, num_labels] into ranked `{ label, score }` lists, one per batch row, exactly
 * as transformers' classification pipelines do: score with softmax/sigmoid/none, sort by score descending with a
 * stable sort (ties keep label order), keep `topK` (clipped to the label count).
 */
export function classifyLogits(
  logits: Tensor<'float32'>,
  config: ClassificationConfig,
  { topK = 5, functionToApply }: ClassifyOptions = {},
): LabelScore[][] {
  if (logits.rank !== 2) {
    throw new InputShapeError(
      `classification logits must be [batch, num_labels], got [${logits.dims.join(', ')}]`,
    );
  }
  if (!Number.isInteger(topK) || topK < 1) {
    throw new InvalidArgumentError(`topK must be an integer >= 1, got ${topK}`);
  }
  if (functionToApply !== undefined && !functions.includes(functionToApply)) {
    throw new InvalidArgumentError(
      `functionToApply must be one of ${functions.join(', ')}, got ${JSON.stringify(functionToApply)}`,
    );
  }
  const [batch, numLabels] = logits.dims as [number, number];
  const fn = functionToApply ?? defaultClassificationFunction(config, numLabels);
  const results: LabelScore[][] = [];
  for (let b = 0; b < batch; b++) {
    const scores = scoreRow(logits.data.subarray(b * numLabels, (b + 1) * numLabels), fn);
    const order = Array.from(scores.keys()).sort((i, j) => scores[j]! - scores[i]! || i - j);
    results.push(
      order
        .slice(0, Math.min(topK, numLabels))
        .map((i) => ({ label: labelOf(config, i), score: scores[i]! })),
    );
  }
  return results;
}

/**
 * The classification pipelines' Python keyword arguments (`{"top_k": 3, "function_to_apply": "sigmoid"}`, as
 * fixture manifests write them) as `ClassifyOptions`. Unknown names throw, so nothing is silently ignored.
 */
export function classifyOptionsFromKwargs(kwargs: Readonly<Record<string, unknown>>): ClassifyOptions {
  const options: ClassifyOptions = {};
  for (const [key, value] of Object.entries(kwargs)) {
    if (key === 'top_k') options.topK = value as number;
    else if (key === 'function_to_apply') options.functionToApply = value as ClassificationFunction;
    else
      throw new InvalidArgumentError(
        `unknown classification argument "${key}" (known: top_k, function_to_apply)`,
      );
  }
  return options;
}
