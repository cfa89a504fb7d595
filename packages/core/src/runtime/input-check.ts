import type * as ort from 'onnxruntime-node';
import { InputShapeError } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';

/** A graph input as ONNX Runtime declares it; string dimensions are symbolic (any length). */
export interface GraphInput {
  name: string;
  dtype: string | undefined;
  dims: readonly (number | string)[] | undefined;
}

export function describeInputs(metadata: readonly ort.InferenceSession.ValueMetadata[]): GraphInput[] {
  return metadata.map((value) =>
    value.isTensor
      ? { name: value.name, dtype: value.type, dims: value.shape }
      : { name: value.name, dtype: undefined, dims: undefined },
  );
}

const formatDims = (dims: readonly (number | string)[]) => `[${dims.join(', ')}]`;

/**
 * Checks feeds against the graph's declared inputs before ONNX Runtime sees them, so that a wrong name, dtype,
 * rank or fixed dimension is reported by name instead of failing inside the native code.
 */
export function checkFeeds(
  graph: string,
  inputs: readonly GraphInput[],
  feeds: Readonly<Record<string, Tensor>>,
): void {
  const names = inputs.map((input) => input.name);
  const missing = names.filter((name) => feeds[name] === undefined);
  const unknown = Object.keys(feeds).filter((name) => !names.includes(name));
  if (missing.length > 0 || unknown.length > 0) {
    const problems = [
      missing.length ? `missing ${missing.join(', ')}` : '',
      unknown.length ? `unknown ${unknown.join(', ')}` : '',
    ].filter(Boolean);
    throw new InputShapeError(
      `inputs of ${graph} do not match the graph's inputs [${names.join(', ')}]: ${problems.join('; ')}`,
    );
  }
  for (const input of inputs) {
    const tensor = feeds[input.name]!;
    if (input.dtype !== undefined && tensor.dtype !== input.dtype) {
      throw new InputShapeError(
        `input '${input.name}' of ${graph} is ${tensor.dtype}, expected ${input.dtype} ${formatDims(input.dims ?? [])}`,
      );
    }
    if (input.dims === undefined || (input.dims.length === 0 && tensor.rank === 0)) continue;
    if (tensor.rank !== input.dims.length) {
      throw new InputShapeError(
        `input '${input.name}' of ${graph} has shape ${formatDims(tensor.dims)} (rank ${tensor.rank}), expected rank ${input.dims.length}: ${formatDims(input.dims)}`,
      );
    }
    input.dims.forEach((expected, axis) => {
      if (typeof expected === 'number' && expected >= 0 && tensor.dims[axis] !== expected) {
        throw new InputShapeError(
          `input '${input.name}' of ${graph} has shape ${formatDims(tensor.dims)}, expected ${formatDims(input.dims!)} (axis ${axis} must be ${expected})`,
        );
      }
    });
  }
}
