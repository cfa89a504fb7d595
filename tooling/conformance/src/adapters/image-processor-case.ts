import type { ImageProcessor, NamedTensors } from '@ortvision/core';
import { type ProcessorCase, preprocessCaseImages } from '@ortvision/core/testing';
import { type CaseContext, UnsupportedCaseError } from '../adapter.js';

/**
 * Runs an image-only processor case through an image processor. A case with text needs the model's multimodal
 * processor, which this helper does not provide: the case is reported as not run, naming the call.
 */
export async function runImageProcessorCase(
  processor: ImageProcessor,
  testCase: ProcessorCase,
  context: CaseContext,
): Promise<NamedTensors> {
  if (testCase.inputs.text !== undefined) {
    throw new UnsupportedCaseError(
      `no adapter for the text inputs of ${testCase.call} cases (model_type '${context.fixture.manifest.model_type}')`,
    );
  }
  return preprocessCaseImages(processor, testCase, context.imagePath);
}
