import { InvalidArgumentError } from '../errors.js';

/** Which variant of a graph to load: full precision, half precision or 8-bit quantized. */
export type ModelDtype = 'fp32' | 'fp16' | 'q8';

const SUFFIXES: Record<ModelDtype, string> = { fp32: '', fp16: '_fp16', q8: '_quantized' };

export function isModelDtype(value: unknown): value is ModelDtype {
  return typeof value === 'string' && Object.hasOwn(SUFFIXES, value);
}

/**
 * The file name of a graph variant as Hub ONNX repositories lay them out: `model` -> `model.onnx`,
 * `model_fp16.onnx`, `model_quantized.onnx`.
 */
export function graphFileName(graph: string, dtype: ModelDtype = 'fp32'): string {
  if (!isModelDtype(dtype)) {
    throw new InvalidArgumentError(
      `unknown dtype ${JSON.stringify(dtype)} (expected 'fp32', 'fp16' or 'q8')`,
    );
  }
  return `${graph}${SUFFIXES[dtype]}.onnx`;
}

/** The paths a graph variant is looked for, in order: the `onnx/` folder first, then the repository root. */
export function graphFileCandidates(graph: string, dtype: ModelDtype = 'fp32'): string[] {
  const name = graphFileName(graph, dtype);
  return [`onnx/${name}`, name];
}
