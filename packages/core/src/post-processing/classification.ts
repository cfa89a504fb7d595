import { InputShapeError, InvalidArgumentError } from '../errors.js';
import { sigmoidOf, softmaxOf } from '../tensor/activation.js';
import type { Tensor } from '../tensor/tensor.js';
import { describeValue } from '../validation/describe-value.js';
import { optionsFromKwargs } from '../validation/kwargs.js';
import { checkInteger } from '../validation/numbers.js';
import { checkOptions, optionNames } from '../validation/option-names.js';
import { checkFinite } from './finite.js';

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

/** The keys of `ClassifyOptions`. */
export const CLASSIFY_OPTIONS = optionNames<ClassifyOptions>({ topK: true, functionToApply: true });

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
  if (fn === 'softmax') return softmaxOf(row);
  if (fn === 'sigmoid') return Float64Array.from(row, sigmoidOf);
  return Float64Array.from(row);
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
  options: ClassifyOptions = {},
): LabelScore[][] {
  const { topK = 5, functionToApply } = checkOptions(options, CLASSIFY_OPTIONS, 'classifyLogits');
  if (logits.rank !== 2) {
    throw new InputShapeError(
      `classification logits must be [batch, num_labels], got [${logits.dims.join(', ')}]`,
    );
  }
  checkInteger(topK, 'topK', { min: 1 });
  if (functionToApply !== undefined && !functions.includes(functionToApply)) {
    throw new InvalidArgumentError(
      `functionToApply must be one of ${functions.map((f) => `'${f}'`).join(', ')}, got ${describeValue(functionToApply)}`,
    );
  }
  const [batch, numLabels] = logits.dims as [number, number];
  const fn = functionToApply ?? defaultClassificationFunction(config, numLabels);
  const results: LabelScore[][] = [];
  for (let b = 0; b < batch; b++) {
    const scores = scoreRow(logits.data.subarray(b * numLabels, (b + 1) * numLabels), fn);
    checkFinite(scores, `the ${fn === 'none' ? 'logits' : `${fn} scores`} of row ${b}`);
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
  return optionsFromKwargs<ClassifyOptions>(
    kwargs,
    { top_k: 'topK', function_to_apply: 'functionToApply' },
    'classification',
  );
}
