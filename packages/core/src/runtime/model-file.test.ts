import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.js';
import { graphFileCandidates, graphFileName } from './model-file.js';

describe('graph file variants', () => {
  it("names the Hub ONNX layout's files", () => {
    expect(graphFileName('model')).toBe('model.onnx');
    expect(graphFileName('text_model', 'fp16')).toBe('text_model_fp16.onnx');
    expect(graphFileName('model', 'q8')).toBe('model_quantized.onnx');
    expect(graphFileCandidates('vision_model', 'q8')).toEqual([
      'onnx/vision_model_quantized.onnx',
      'vision_model_quantized.onnx',
    ]);
  });

  it('refuses an unknown dtype', () => {
    expect(() => graphFileName('model', 'int4' as 'q8')).toThrow(InvalidArgumentError);
    expect(() => graphFileName('model', 'int4' as 'q8')).toThrow(
      `unknown dtype "int4" (expected 'fp32', 'fp16' or 'q8')`,
    );
  });
});
