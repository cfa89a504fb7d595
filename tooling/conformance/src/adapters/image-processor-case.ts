import type { ImageProcessor, NamedTensors, PreprocessOptions } from '@ortvision/core';
import { preprocessOptionsFromKwargs } from '@ortvision/core';
import type { ProcessorCase } from '@ortvision/core/testing';
import type { CaseContext } from '../adapter.js';

/** The image inputs of a processor case and the output each becomes (CLIPSeg's visual prompts too). */
const IMAGE_STREAMS: Record<string, string> = {
  images: 'pixel_values',
  visual_prompt: 'conditional_pixel_values',
};

// Processor kwargs meant for the tokenizer; an image-only case never has them.
const TEXT_KWARGS = new Set(['padding', 'truncation', 'max_length']);

/**
 * Runs an image-only processor case through an image processor: each image input (file names under the
 * fixtures' images/) -> `preprocess` with the case's Python kwargs as camelCase overrides -> the named output.
 * A case with text needs the model's multimodal processor, which this helper does not provide: it throws saying
 * so, and the runner reports the case as failed with that message.
 */
export async function runImageProcessorCase(
  processor: ImageProcessor,
  testCase: ProcessorCase,
  context: CaseContext,
): Promise<NamedTensors> {
  if (testCase.inputs.text !== undefined) {
    throw new Error(
      `case '${testCase.name}' has text inputs: the ${testCase.call} text path (tokenizer) is not wired into this adapter yet`,
    );
  }
  const kwargs = Object.fromEntries(Object.entries(testCase.kwargs).filter(([key]) => !TEXT_KWARGS.has(key)));
  const options: PreprocessOptions = preprocessOptionsFromKwargs(kwargs);
  const outputs: NamedTensors = {};
  for (const [input, output] of Object.entries(IMAGE_STREAMS)) {
    const names = testCase.inputs[input];
    if (names === undefined) continue;
    const files = (Array.isArray(names) ? names : [names]).map((name) => context.imagePath(String(name)));
    outputs[output] = (await processor.preprocess(files, options)).pixel_values;
  }
  return outputs;
}
