import {
  type CheckpointGraphs,
  InputShapeError,
  type ModelClassRegistry,
  PreTrainedModel,
  type RunOptions,
  Tensor,
} from '@ortvision/core';
import { Mask2FormerConfig } from './config.js';
import { MASK2FORMER_GRAPH_VERSION, buildMask2FormerForUniversalSegmentation } from './graph.js';
import type { Mask2FormerOutputs } from './post-processing.js';

/** What `forward` takes: the processor's output (`pixel_mask` is accepted and ignored, as by the model). */
export type Mask2FormerInputs = {
  pixel_values: Tensor<'float32'>;
  pixel_mask?: Tensor<'int64'>;
};

/**
 * transformers' `Mask2FormerForUniversalSegmentation` over its ONNX graph `onnx/model.onnx`: `pixel_values`
 * [batch, 3, height, width] -> `class_queries_logits` [batch, queries, labels + 1] and `masks_queries_logits`
 * [batch, queries, ceil(height / 4), ceil(width / 4)]. The PyTorch model accepts `pixel_mask` but never uses it, so
 * the graph has no such input and padding is processed as image content, exactly as in Python. The graph can be
 * built from the original checkpoint (`checkpointGraphs`, `buildMask2FormerForUniversalSegmentation`).
 *
 * @example
 * ```ts
 * import { Mask2FormerForUniversalSegmentation, Mask2FormerImageProcessor } from '@ortvision/mask2former';
 * const model = await Mask2FormerForUniversalSegmentation.fromPretrained('./mask2former-local');
 * const processor = await Mask2FormerImageProcessor.fromPretrained('./mask2former-local');
 * const outputs = await model.forward(await processor.preprocess('cats.png'));
 * const [labels] = processor.postProcessSemanticSegmentation(outputs); // int32 [384, 384]
 * await model.dispose();
 * ```
 */
export class Mask2FormerForUniversalSegmentation extends PreTrainedModel<Mask2FormerConfig> {
  static override readonly configClass = Mask2FormerConfig;
  static override readonly graphs = { model: 'model' };
  static override readonly checkpointGraphs: CheckpointGraphs<Mask2FormerConfig> = {
    version: MASK2FORMER_GRAPH_VERSION,
    baseModelPrefix: 'model',
    expectsPrefix: true,
    // The loss's class weights (a buffer of Mask2FormerLoss): training only.
    ignoreUnused: [/^criterion\.empty_weight$/],
    graphs: { model: buildMask2FormerForUniversalSegmentation },
  };

  override async forward(inputs: Mask2FormerInputs, options?: RunOptions): Promise<Mask2FormerOutputs> {
    const pixelValues = inputs?.pixel_values;
    if (!(pixelValues instanceof Tensor) || pixelValues.dtype !== 'float32' || pixelValues.rank !== 4) {
      const got =
        pixelValues instanceof Tensor
          ? `${pixelValues.dtype} [${pixelValues.dims.join(', ')}]`
          : typeof pixelValues;
      throw new InputShapeError(
        `pixel_values must be a float32 Tensor [batch, 3, height, width], got ${got}`,
      );
    }
    // The graph has no pixel_mask input (the model ignores it), so only pixel_values is fed.
    const outputs = await this.runGraph('model', { pixel_values: pixelValues }, options);
    const { class_queries_logits, masks_queries_logits } = outputs;
    if (class_queries_logits?.dtype !== 'float32' || masks_queries_logits?.dtype !== 'float32') {
      throw new InputShapeError(
        `the graph must return float32 class_queries_logits and masks_queries_logits, got: ${Object.keys(outputs).join(', ')}`,
      );
    }
    return {
      class_queries_logits: class_queries_logits as Tensor<'float32'>,
      masks_queries_logits: masks_queries_logits as Tensor<'float32'>,
    };
  }
}

/**
 * The package's model classes by transformers architecture name (config.json's `architectures`): how tools find the
 * class of a model folder (`ortvision export`) without core depending on this package.
 */
export const modelClasses = {
  Mask2FormerForUniversalSegmentation,
} satisfies ModelClassRegistry;
