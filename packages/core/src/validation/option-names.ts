import { InvalidArgumentError } from '../errors.js';
import { describeValue } from './describe-value.js';

/** The valid keys of one options type, listed once beside the type (see `optionNames`). */
export type OptionNames<T> = readonly (keyof T & string)[];

/**
 * The keys of an options type as a list, written as an object with every key set to `true`: leaving a key out or
 * naming one the type lacks is a type error, so the list cannot drift from the interface.
 *
 * @example
 * interface ClassifyOptions { topK?: number; functionToApply?: string }
 * const CLASSIFY_OPTIONS = optionNames<ClassifyOptions>({ topK: true, functionToApply: true });
 */
export function optionNames<T extends object>(
  keys: { readonly [K in keyof Required<T>]: true },
): OptionNames<T> {
  return Object.freeze(Object.keys(keys)) as unknown as OptionNames<T>;
}

function normalized(name: string): string {
  return name.toLowerCase().replace(/[_\-\s]/g, '');
}

/** Optimal string alignment distance (Levenshtein plus transpositions of neighbours). */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d = Array.from({ length: rows }, (_, i) =>
    new Array<number>(cols).fill(0).map((_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The valid name a misspelled one most likely meant: the same name in another case or with `_` (`top_k`, `dType`
 * -> `topK`, `dtype`), else the nearest within a third of its length (`treshold` -> `threshold`), else another
 * form of the same word (`truncate` -> `truncation`); undefined when nothing is close.
 *
 * @example
 * closestName('top_k', ['topK', 'functionToApply']); // 'topK'
 */
export function closestName(name: string, valid: readonly string[]): string | undefined {
  const key = normalized(name);
  const same = valid.find((candidate) => normalized(candidate) === key);
  if (same !== undefined) return same;
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(key.length / 3));
  for (const candidate of valid) {
    const distance = editDistance(key, normalized(candidate));
    if (distance <= bestDistance && (best === undefined || distance < bestDistance)) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best !== undefined) return best;
  // Another form of the same word (`truncate` for `truncation`): all but a short ending shared.
  return valid.find((candidate) => {
    const other = normalized(candidate);
    let common = 0;
    while (common < key.length && key[common] === other[common]) common++;
    return common >= 4 && common >= Math.max(key.length, other.length) - 3;
  });
}

/**
 * Checks a public options object: `undefined` is no options; `null`, an array or anything but a plain object is an
 * `InvalidArgumentError`; so is a key outside `valid`, named with the closest valid one ("unknown option 'topk'
 * for imageClassification (did you mean 'topK'?)"). Returns the options, typed.
 *
 * @example
 * const { topK = 5 } = checkOptions(options, CLASSIFY_OPTIONS, 'classifyLogits');
 */
export function checkOptions<T extends object>(
  options: T | null | undefined,
  valid: readonly string[],
  where: string,
): T {
  if (options === undefined) return {} as T;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(
      `the options of ${where} must be an object (or left out), got ${describeValue(options)}`,
    );
  }
  for (const key of Object.keys(options)) {
    if (valid.includes(key)) continue;
    const close = closestName(key, valid);
    throw new InvalidArgumentError(
      `unknown option '${key}' for ${where} ${close !== undefined ? `(did you mean '${close}'?)` : `(valid: ${valid.join(', ') || 'none'})`}`,
    );
  }
  return options;
}

/** The entries of `options` whose keys are in `names` (to hand a subset of options to a part that checks its own). */
export function pickOptions<T extends object>(options: object, names: OptionNames<T>): T {
  const picked: Record<string, unknown> = {};
  for (const name of names) if (name in options) picked[name] = (options as Record<string, unknown>)[name];
  return picked as T;
}
