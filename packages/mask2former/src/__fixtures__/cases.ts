// Test helpers: run the mask2former fixture's cases through the package and compare with the expected JSON.
import { Image, Tensor } from '@ortvision/core';
import {
  type JsonValue,
  type PostprocessCase,
  fixturePath,
  isNpyReference,
  loadFixture,
  readNpy,
} from '@ortvision/core/testing';
import type { Mask2FormerImageProcessor } from '../image-processing.js';
import { segmentationOptionsFromKwargs } from '../kwargs.js';
import type { Mask2FormerOutputs } from '../post-processing.js';

export const FIXTURE = 'mask2former';

export async function manifest() {
  return (await loadFixture(fixturePath(FIXTURE))).manifest;
}

/** The model outputs a post-process case receives. */
export async function caseOutputs(testCase: PostprocessCase): Promise<Mask2FormerOutputs> {
  const read = async (name: string) =>
    (await readNpy(fixturePath(FIXTURE, String(testCase.inputs[name])))) as Tensor<'float32'>;
  return {
    class_queries_logits: await read('class_queries_logits'),
    masks_queries_logits: await read('masks_queries_logits'),
  };
}

/** Runs a post-process case through the processor's methods named by its `call`. */
export async function runPostprocessCase(processor: Mask2FormerImageProcessor, testCase: PostprocessCase) {
  const outputs = await caseOutputs(testCase);
  const options = segmentationOptionsFromKwargs(testCase.kwargs);
  const method = testCase.call.split('.').pop();
  if (method === 'post_process_semantic_segmentation') {
    return processor.postProcessSemanticSegmentation(outputs, options);
  }
  if (method === 'post_process_instance_segmentation') {
    return processor.postProcessInstanceSegmentation(outputs, options);
  }
  if (method === 'post_process_panoptic_segmentation') {
    return processor.postProcessPanopticSegmentation(outputs, options);
  }
  throw new Error(`unknown call ${testCase.call}`);
}

/**
 * Where `actual` differs from the manifest's `expected` (numbers within atol, `{npy}` arrays element-wise with the
 * same shape, strings/booleans/nulls exactly), or undefined when it matches.
 */
export async function mismatch(
  actual: unknown,
  expected: JsonValue,
  atol: number,
  path = '$',
): Promise<string | undefined> {
  if (isNpyReference(expected)) {
    const reference = await readNpy(fixturePath(FIXTURE, expected.npy));
    let dims: readonly number[];
    let values: ArrayLike<number | bigint>;
    if (actual instanceof Tensor) [dims, values] = [actual.dims, actual.data as ArrayLike<number>];
    else if (actual instanceof Image) [dims, values] = [[actual.height, actual.width], actual.data];
    else return `${path}: expected an array, got ${typeof actual}`;
    if (dims.join() !== reference.dims.join()) return `${path}: shape [${dims}] != [${reference.dims}]`;
    const data = reference.data as ArrayLike<number | bigint>;
    for (let i = 0; i < data.length; i++) {
      if (!(Math.abs(Number(values[i]) - Number(data[i])) <= atol)) {
        return `${path}: element ${i} is ${values[i]}, expected ${data[i]}`;
      }
    }
    return undefined;
  }
  if (typeof expected === 'number') {
    return typeof actual === 'number' && Math.abs(actual - expected) <= atol
      ? undefined
      : `${path}: ${String(actual)} != ${expected}`;
  }
  if (expected === null || typeof expected !== 'object') {
    return actual === expected
      ? undefined
      : `${path}: ${JSON.stringify(actual)} != ${JSON.stringify(expected)}`;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) {
      return `${path}: expected ${expected.length} items, got ${Array.isArray(actual) ? actual.length : typeof actual}`;
    }
    for (const [i, item] of expected.entries()) {
      const problem = await mismatch(actual[i], item, atol, `${path}[${i}]`);
      if (problem) return problem;
    }
    return undefined;
  }
  if (typeof actual !== 'object' || actual === null) return `${path}: expected an object`;
  const record = actual as Record<string, unknown>;
  const keys = Object.keys(expected).sort();
  if (Object.keys(record).sort().join() !== keys.join()) {
    return `${path}: keys [${Object.keys(record).sort()}] != [${keys}]`;
  }
  for (const key of keys) {
    const problem = await mismatch(record[key], expected[key]!, atol, `${path}.${key}`);
    if (problem) return problem;
  }
  return undefined;
}
