import type { Tensor } from '../tensor/tensor.js';
import { ToleranceError } from './compare.js';
import { type JsonValue, isNpyReference } from './manifest.js';

/** What an adapter may return where the manifest expects JSON: JSON, with Tensors or typed arrays for arrays. */
export type ResultValue =
  | JsonValue
  | Tensor
  | ArrayLike<number>
  | ResultValue[]
  | { [key: string]: ResultValue | undefined };

export interface JsonComparison {
  ok: boolean;
  /** Largest numeric difference seen (0 when only non-numbers were compared). */
  worst: number;
  /** Where the first mismatch is, as a JSON path (`$[0].boxes[3][1]`), and why. */
  mismatch?: string;
}

function isTensor(value: unknown): value is Tensor {
  return (
    typeof value === 'object' && value !== null && 'dims' in value && 'dtype' in value && 'data' in value
  );
}

function isArrayLikeOfNumbers(value: unknown): value is ArrayLike<number | bigint> {
  return ArrayBuffer.isView(value) && !(value instanceof DataView);
}

function flattenNumbers(value: unknown, path: string, out: number[]): string | undefined {
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    out.push(Number(value));
    return undefined;
  }
  if (isTensor(value)) {
    const data = value.data as ArrayLike<number | bigint>;
    for (let i = 0; i < data.length; i++) out.push(Number(data[i]));
    return undefined;
  }
  if (isArrayLikeOfNumbers(value)) {
    for (let i = 0; i < value.length; i++) out.push(Number(value[i]));
    return undefined;
  }
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const problem = flattenNumbers(item, `${path}[${i}]`, out);
      if (problem) return problem;
    }
    return undefined;
  }
  return `${path}: expected numbers, got ${describe(value)}`;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (isTensor(value)) return `a ${value.dtype} tensor [${value.dims.join(', ')}]`;
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * The one comparator of results with fixture JSON (the conformance runner and every package test use it).
 * Compares a result with a manifest's expected JSON: numbers within `atol`, strings, booleans and
 * nulls exactly, arrays by length then element, objects by their key sets then values. `{ "npy": path }` in the
 * expected value stands for an array stored in a .npy file: `loadNpy` reads it and the actual value (a Tensor,
 * typed array or nested number arrays) is compared element-wise.
 */
export async function compareJson(
  actual: unknown,
  expected: JsonValue,
  atol: number,
  loadNpy: (path: string) => Promise<Tensor>,
  path = '$',
): Promise<JsonComparison> {
  const fail = (why: string): JsonComparison => ({
    ok: false,
    worst: Number.POSITIVE_INFINITY,
    mismatch: `${path}: ${why}`,
  });

  if (isNpyReference(expected)) {
    const reference = await loadNpy(expected.npy);
    const values: number[] = [];
    const problem = flattenNumbers(actual, path, values);
    if (problem) return { ok: false, worst: Number.POSITIVE_INFINITY, mismatch: problem };
    if (isTensor(actual) && actual.dims.join() !== reference.dims.join()) {
      return fail(
        `shape [${actual.dims.join(', ')}] != expected [${reference.dims.join(', ')}] (${expected.npy})`,
      );
    }
    if (values.length !== reference.size)
      return fail(`${values.length} values, expected ${reference.size} (${expected.npy})`);
    let worst = 0;
    let firstBad = -1;
    const data = reference.data as ArrayLike<number | bigint>;
    for (let i = 0; i < values.length; i++) {
      const error = Math.abs(values[i]! - Number(data[i]));
      const bad = Number.isNaN(error)
        ? !(Number.isNaN(values[i]!) && Number.isNaN(Number(data[i])))
        : error > atol;
      if (bad && firstBad < 0) firstBad = i;
      if (error > worst) worst = error;
    }
    if (firstBad >= 0) {
      return {
        ok: false,
        worst,
        mismatch: `${path}: element ${firstBad} is ${values[firstBad]}, expected ${Number(data[firstBad])} (${expected.npy}, atol ${atol}, worst ${worst})`,
      };
    }
    return { ok: true, worst };
  }

  if (typeof expected === 'number') {
    const value = typeof actual === 'bigint' ? Number(actual) : actual;
    if (typeof value !== 'number') return fail(`expected ${expected}, got ${describe(actual)}`);
    const error = Math.abs(value - expected);
    if (!(error <= atol))
      return { ok: false, worst: error, mismatch: `${path}: ${value} != ${expected} (atol ${atol})` };
    return { ok: true, worst: error };
  }

  if (expected === null || typeof expected === 'string' || typeof expected === 'boolean') {
    return actual === expected
      ? { ok: true, worst: 0 }
      : fail(`expected ${describe(expected)}, got ${describe(actual)}`);
  }

  if (Array.isArray(expected)) {
    let items: ArrayLike<unknown>;
    if (Array.isArray(actual)) items = actual;
    // A tensor of rank > 1 against nested lists compares row by row, as its JSON (toNested) would; against a
    // flat list, element by element.
    else if (isTensor(actual) && actual.dims.length > 1 && Array.isArray(expected[0]))
      items = actual.toNested() as unknown[];
    else if (isTensor(actual)) items = Array.from(actual.data as ArrayLike<number | bigint>, Number);
    else if (isArrayLikeOfNumbers(actual)) items = Array.from(actual, Number);
    else return fail(`expected an array of ${expected.length}, got ${describe(actual)}`);
    if (items.length !== expected.length)
      return fail(`expected ${expected.length} items, got ${items.length}`);
    let worst = 0;
    for (let i = 0; i < expected.length; i++) {
      const result = await compareJson(items[i] as ResultValue, expected[i]!, atol, loadNpy, `${path}[${i}]`);
      if (!result.ok) return result;
      worst = Math.max(worst, result.worst);
    }
    return { ok: true, worst };
  }

  if (
    typeof actual !== 'object' ||
    actual === null ||
    Array.isArray(actual) ||
    isTensor(actual) ||
    ArrayBuffer.isView(actual)
  ) {
    return fail(`expected an object, got ${describe(actual)}`);
  }
  const record = actual as Record<string, ResultValue | undefined>;
  const expectedKeys = Object.keys(expected).sort();
  const actualKeys = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort();
  if (expectedKeys.join() !== actualKeys.join()) {
    return fail(`keys [${actualKeys.join(', ')}] != expected [${expectedKeys.join(', ')}]`);
  }
  let worst = 0;
  for (const key of expectedKeys) {
    const result = await compareJson(record[key], expected[key]!, atol, loadNpy, `${path}.${key}`);
    if (!result.ok) return result;
    worst = Math.max(worst, result.worst);
  }
  return { ok: true, worst };
}

/**
 * `compareJson` that throws `ToleranceError` naming the first mismatch (its JSON path, the values, the tolerance),
 * for tests: `await assertJsonClose(result, testCase.expected, testCase.atol ?? 0, (p) => readNpy(fixturePath(name, p)))`.
 */
export async function assertJsonClose(
  actual: unknown,
  expected: JsonValue,
  atol: number,
  loadNpy: (path: string) => Promise<Tensor> = async (path) => {
    throw new ToleranceError(`the expected value refers to ${path}, but no npy loader was given`);
  },
): Promise<void> {
  const comparison = await compareJson(actual, expected, atol, loadNpy);
  if (!comparison.ok)
    throw new ToleranceError(`result differs from the expected JSON: ${comparison.mismatch}`);
}
